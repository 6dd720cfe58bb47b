import pg from 'pg';
import { ConfigError, RecsysError, UsageError } from '@recsys/core';

/**
 * How to reach a PostgreSQL server. `dsn` is a URL
 * (`postgres://user:pass@host:5432/db?sslmode=require`) or a libpq
 * keyword/value string (`host=… port=… dbname=… user=… password=…`).
 * @since 0.2.0
 */
export interface PgConnectionOptions {
  /** Undefined: `DATABASE_URL`, else the libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`). */
  readonly dsn?: string | undefined;
  /** The config key the DSN comes from, for error messages (`db.dsn`). */
  readonly configKey?: string | undefined;
  /** Server-side `statement_timeout` in seconds; 0 or undefined = the server's setting. */
  readonly statementTimeoutS?: number | undefined;
  /** Environment to read the fallbacks from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
}

const LIBPQ_ENV = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD'] as const;

/** Keywords of a libpq keyword/value DSN that we map onto the driver's options. */
const KEYWORDS: Readonly<Record<string, keyof pg.ClientConfig>> = {
  host: 'host',
  hostaddr: 'host',
  port: 'port',
  dbname: 'database',
  user: 'user',
  password: 'password',
  connect_timeout: 'connectionTimeoutMillis',
  application_name: 'application_name',
};

/** Parses `key=value key='quoted value'` (libpq's keyword/value form). */
function parseKeywordDsn(dsn: string, key: string): pg.ClientConfig {
  const config: Record<string, unknown> = {};
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S*))/gy;
  let at = 0;
  for (;;) {
    re.lastIndex = at;
    if (dsn.slice(at).trim() === '') break;
    const m = re.exec(dsn);
    if (!m) throw new ConfigError(key, `not a PostgreSQL DSN: expected postgres://… or key=value pairs (position ${at})`);
    at = re.lastIndex;
    const name = m[1]!.toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
    if (name === 'sslmode') {
      config.ssl = value === 'disable' ? false : value === 'verify-full' || value === 'verify-ca' ? true : { rejectUnauthorized: false };
      continue;
    }
    const option = KEYWORDS[name];
    if (!option) throw new ConfigError(key, `unsupported DSN keyword "${name}" (supported: ${[...Object.keys(KEYWORDS), 'sslmode'].join(', ')})`);
    config[option] = option === 'port' ? Number(value) : option === 'connectionTimeoutMillis' ? Number(value) * 1000 : value;
  }
  return config as pg.ClientConfig;
}

/**
 * A resolved connection: driver settings plus a printable description that
 * never holds the password.
 * @since 0.2.0
 */
export interface PgConnection {
  readonly config: pg.ClientConfig;
  /** `postgres://user@host:port/db` (no password), for messages and reports. */
  readonly location: string;
  readonly statementTimeoutS: number;
  /** Strings that must never be printed (the password), for {@link PgConnection.scrub}. */
  scrub(text: string): string;
}

/**
 * Resolves where to connect: the DSN if given, else `DATABASE_URL`, else
 * the libpq environment variables. Throws a config error naming the key
 * when there is nothing to connect to or the DSN is malformed (the
 * message never contains the password).
 * @since 0.2.0
 */
export function resolveConnection(options: PgConnectionOptions): PgConnection {
  const env = options.env ?? process.env;
  const key = options.configKey ?? 'dsn';
  const timeout = options.statementTimeoutS ?? 0;
  if (!(Number.isFinite(timeout) && timeout >= 0)) throw new ConfigError(key.replace(/dsn$/, 'statement_timeout_s'), `must be a number of seconds >= 0 (got ${timeout})`);
  let dsn = options.dsn?.trim();
  if (!dsn && env.DATABASE_URL?.trim()) dsn = env.DATABASE_URL.trim();
  let config: pg.ClientConfig;
  if (dsn) {
    if (/^postgres(ql)?:\/\//i.test(dsn)) {
      let url: URL;
      try {
        url = new URL(dsn);
      } catch {
        throw new ConfigError(key, 'not a valid postgres:// URL');
      }
      config = { connectionString: dsn, ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
    } else if (dsn.includes('://')) {
      throw new ConfigError(key, `unsupported scheme "${dsn.slice(0, dsn.indexOf('://'))}://": use postgres:// or postgresql://`);
    } else {
      config = parseKeywordDsn(dsn, key);
    }
  } else {
    if (!LIBPQ_ENV.some((name) => env[name])) {
      throw new ConfigError(key, 'no PostgreSQL to connect to: set it, or DATABASE_URL, or the libpq variables PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE');
    }
    // The driver reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE itself.
    config = {};
  }
  const password = typeof config.password === 'string' ? config.password : env.PGPASSWORD;
  const describe = describeConfig(config, dsn, env);
  return {
    config: { ...config, application_name: config.application_name ?? 'recsys-pipelines' },
    location: describe,
    statementTimeoutS: timeout,
    scrub: (text: string) => scrubSecrets(text, password),
  };
}

function describeConfig(config: pg.ClientConfig, dsn: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  let host = config.host ?? env.PGHOST ?? env.PGHOSTADDR ?? 'localhost';
  let port = String(config.port ?? env.PGPORT ?? 5432);
  let user = config.user ?? env.PGUSER ?? '';
  let database = config.database ?? env.PGDATABASE ?? '';
  if (dsn && config.connectionString) {
    const url = new URL(dsn);
    host = decodeURIComponent(url.hostname) || host;
    port = url.port || '5432';
    user = decodeURIComponent(url.username) || user;
    database = decodeURIComponent(url.pathname.replace(/^\//, '')) || database;
  }
  return `postgres://${user ? `${user}@` : ''}${host}:${port}/${database}`;
}

/**
 * Removes credentials from text that may echo a DSN or a password: the
 * password itself wherever it appears, and any `scheme://user:secret@`
 * userinfo or `password=…` keyword.
 * @since 0.2.0
 */
export function scrubSecrets(text: string, password?: string): string {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:***@').replace(/(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***');
  if (password) {
    out = out.split(password).join('***');
    const encoded = encodeURIComponent(password);
    if (encoded !== password) out = out.split(encoded).join('***');
  }
  return out;
}

/** SQLSTATE codes we explain. */
const SQLSTATE: Readonly<Record<string, string>> = {
  '57014': 'statement timeout or cancel',
  '28P01': 'authentication failed',
  '28000': 'authorization failed',
  '3D000': 'database does not exist',
  '42P01': 'table does not exist',
  '42703': 'column does not exist',
};

/**
 * A PostgreSQL or network failure as a runtime error whose message names
 * what we were doing and where, never the password.
 * @since 0.2.0
 */
export function pgError(connection: PgConnection, doing: string, error: unknown): RecsysError {
  if (RecsysError.isInstance(error)) return error;
  const e = error as { message?: string; code?: string };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const what = code && SQLSTATE[code] ? ` (${SQLSTATE[code]}, SQLSTATE ${code})` : code ? ` (${code})` : '';
  const timeout = code === '57014' && connection.statementTimeoutS > 0 ? `; statement_timeout is ${connection.statementTimeoutS}s` : '';
  const message = connection.scrub(`${doing} at ${connection.location}: ${e.message ?? String(error)}${what}${timeout}`);
  // The cause is dropped on purpose: driver errors can carry the connection config.
  return new RecsysError('runtime', message, { location: connection.location, ...(code ? { sqlstate: code } : {}) });
}

/**
 * Opens a client: UTC session time zone and ISO dates (timestamps are read
 * as text), the statement timeout set on the server, and errors scrubbed.
 * @since 0.2.0
 */
export async function connect(connection: PgConnection): Promise<pg.Client> {
  const client = new pg.Client(connection.config);
  // An idle client whose connection drops emits 'error'; without a listener that would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    const timeoutMs = Math.round(connection.statementTimeoutS * 1000);
    await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET statement_timeout = ${timeoutMs}`);
  } catch (error) {
    await client.end().catch(() => {});
    throw pgError(connection, 'cannot connect to PostgreSQL', error);
  }
  return client;
}

/** Runs `fn` with a fresh client and always closes it. @since 0.2.0 */
export async function withClient<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(connection);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Matches one unquoted identifier PostgreSQL would accept unchanged (≤ 63 bytes). */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

/**
 * Validates a table name from config (`table` or `schema.table`) and
 * returns it quoted for SQL; anything else is a config error naming the
 * key. Names are never pasted into SQL unchecked.
 * @since 0.2.0
 */
export function quoteTableName(key: string, name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new ConfigError(key, `${JSON.stringify(name)} is not a table name: use letters, digits, _ and $ (not first), at most 63 characters, optionally schema-qualified as schema.table`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * Finds a tenant's uuid by `external_id`, or by `id` as text (the service's
 * two ways to name a tenant); `undefined` when there is none.
 * @since 0.2.0
 */
export async function findTenantId(client: pg.Client, tenantTable: string, tenant: string): Promise<string | undefined> {
  const res = await client.query<{ id: string }>(`SELECT id::text AS id FROM ${tenantTable} WHERE external_id = $1 OR id::text = $1 ORDER BY (external_id = $1) DESC LIMIT 1`, [tenant]);
  return res.rows[0]?.id;
}

/** The usage error for a tenant the database does not know. @since 0.2.0 */
export function unknownTenant(connection: PgConnection, tenantTable: string, tenant: string, hint: string): UsageError {
  return new UsageError(`tenant ${JSON.stringify(tenant)} does not exist in ${tenantTable} at ${connection.location} (looked up by external_id and by id); ${hint}`, { tenant, location: connection.location });
}
