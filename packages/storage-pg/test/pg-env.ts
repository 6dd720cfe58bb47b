import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The service's tables (DESIGN §8), as its migrations create them. */
export const SCHEMA_SQL = new URL('./fixtures/service-schema.sql', import.meta.url);

/** The admin DSN of the test server (from the global setup). */
export function adminDsn(): string {
  return inject('pgDsn');
}

/** The password of the test server's DSN: tests check it never leaks. */
export function testPassword(): string {
  return decodeURIComponent(new URL(adminDsn()).password);
}

/** A fresh database with the service's schema; `drop()` removes it. */
export interface TestDatabase {
  readonly name: string;
  readonly dsn: string;
  /** Runs SQL on the database with a short-lived client. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Inserts a tenant and returns its uuid. */
  tenant(externalId: string): Promise<string>;
  drop(): Promise<void>;
}

async function withAdmin<T>(dsn: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(options: { schema?: boolean } = {}): Promise<TestDatabase> {
  const admin = adminDsn();
  const name = `t_${randomBytes(6).toString('hex')}`;
  await withAdmin(admin, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const dsn = url.toString();
  if (options.schema !== false) {
    const sql = await readFile(SCHEMA_SQL, 'utf8');
    await withAdmin(dsn, (c) => c.query(sql));
  }
  const db: TestDatabase = {
    name,
    dsn,
    query: async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => withAdmin(dsn, async (c) => (await c.query<R>(sql, params)).rows),
    tenant: async (externalId) => (await db.query<{ id: string }>('INSERT INTO tenants (external_id, name) VALUES ($1, $1) RETURNING id::text AS id', [externalId]))[0]!.id,
    drop: () => withAdmin(admin, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
  return db;
}

/** One exposure_events row to insert. */
export interface ExposureRow {
  readonly tenantId: string;
  /** A timestamptz literal, e.g. `2026-01-01 10:00:00.123456+00`. */
  readonly occurredAt: string;
  readonly surface: string;
  readonly sessionId: string | null;
  readonly requestId?: string | null;
  /** The response jsonb as JSON text. */
  readonly response: string;
}

/** Inserts exposure rows in order (ids ascend with insertion). */
export async function insertExposures(db: TestDatabase, rows: readonly ExposureRow[]): Promise<void> {
  const client = new pg.Client({ connectionString: db.dsn });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const values: unknown[] = [];
      const tuples = batch.map((r, k) => {
        values.push(r.tenantId, r.occurredAt, r.surface, r.sessionId, r.requestId ?? null, r.response);
        const b = k * 6;
        return `($${b + 1}::uuid, $${b + 2}::timestamptz, $${b + 3}, $${b + 4}, $${b + 5}::uuid, 'v1', $${b + 6}::jsonb)`;
      });
      await client.query(`INSERT INTO exposure_events (tenant_id, occurred_at, surface, session_id, request_id, algo_version, response) VALUES ${tuples.join(', ')}`, values);
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}
