import { expect, test } from 'vitest';
import { RecsysError } from '@recsys/core';
import { resolveConnection, scrubSecrets } from '../src/index.js';

const configError = (fn: () => unknown): RecsysError => {
  try {
    fn();
  } catch (error) {
    if (RecsysError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a config error');
};

test('the DSN wins, then DATABASE_URL, then the libpq environment; the location never holds the password', () => {
  const env = { DATABASE_URL: 'postgres://app:envsecret@db.internal:6432/service', PGHOST: 'pghost', PGUSER: 'pguser', PGDATABASE: 'pgdb', PGPASSWORD: 'pgsecret' };
  const explicit = resolveConnection({ dsn: 'postgresql://ops:s3cr%40t@10.0.0.5/recsys?sslmode=disable', env });
  expect(explicit.location).toBe('postgres://ops@10.0.0.5:5432/recsys');
  expect(explicit.config.password).toBe('s3cr@t');
  const fromUrl = resolveConnection({ env });
  expect(fromUrl.location).toBe('postgres://app@db.internal:6432/service');
  const fromLibpq = resolveConnection({ env: { PGHOST: 'pghost', PGPORT: '5433', PGUSER: 'pguser', PGDATABASE: 'pgdb', PGPASSWORD: 'pgsecret' } });
  expect(fromLibpq.location).toBe('postgres://pguser@pghost:5433/pgdb');
  expect(fromLibpq.config.connectionString).toBeUndefined();
  expect(fromLibpq.scrub('failed for pgsecret')).toBe('failed for ***');
  const keyword = resolveConnection({ dsn: "host=h port=7 dbname=d user=u password='p w'", env: {} });
  expect(keyword.location).toBe('postgres://u@h:7/d');
  expect(keyword.config.password).toBe('p w');
});

test('nothing to connect to, or a malformed DSN, is a config error naming the key and not the password', () => {
  const none = configError(() => resolveConnection({ configKey: 'db.dsn', env: {} }));
  expect(none.exitCode).toBe(2);
  expect(none.message).toContain('db.dsn');
  const scheme = configError(() => resolveConnection({ configKey: 'db.dsn', dsn: 'mysql://u:hunter22@h/d', env: {} }));
  expect(scheme.message).toContain('db.dsn');
  expect(scheme.message).not.toContain('hunter22');
  const keyword = configError(() => resolveConnection({ configKey: 'raw_source.postgres.dsn', dsn: 'host=h password=hunter22 bogus=1', env: {} }));
  expect(keyword.message).toContain('raw_source.postgres.dsn');
  expect(keyword.message).not.toContain('hunter22');
  const timeout = configError(() => resolveConnection({ configKey: 'db.dsn', dsn: 'postgres://h/d', statementTimeoutS: -1, env: {} }));
  expect(timeout.message).toContain('db.statement_timeout_s');
});

test('scrubSecrets removes URL userinfo passwords and password= keywords', () => {
  expect(scrubSecrets('connect postgres://u:topsecret@h:5432/d failed')).toBe('connect postgres://u:***@h:5432/d failed');
  expect(scrubSecrets("dsn host=h password='a b' user=u")).toBe('dsn host=h password=*** user=u');
  expect(scrubSecrets('x hunter2 y', 'hunter2')).toBe('x *** y');
});
