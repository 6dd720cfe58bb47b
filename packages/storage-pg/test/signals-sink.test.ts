import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { RecsysError, type DaySignals } from '@recsys/core';
import { PgSignalsSink, copyTextArray } from '../src/index.js';
import { createTestDatabase, testPassword, type TestDatabase } from './pg-env.js';

let db: TestDatabase;
let shop: string;

beforeAll(async () => {
  db = await createTestDatabase();
  shop = await db.tenant('shop');
});

afterAll(async () => {
  await db?.drop();
});

const day = (over: Partial<DaySignals> = {}): DaySignals => ({
  tenant: 'shop',
  namespace: 'home',
  day: '2026-01-31',
  popularity: [
    { item_id: 'a', count: 5 },
    { item_id: 'b', count: 3 },
    { item_id: 'tab\there', count: 1 },
  ],
  covisit: [
    { item_id: 'a', items: [{ item_id: 'b', count: 2 }, { item_id: 'c', count: 1 }] },
    { item_id: 'b', items: [{ item_id: 'a', count: 2 }] },
    { item_id: 'c', items: [] },
  ],
  updatedAt: '2026-02-01T01:00:00.000Z',
  ...over,
});

const popularity = (d = '2026-01-31', ns = 'home') =>
  db.query<{ item_id: string; score: string }>('SELECT item_id, score::text FROM item_popularity_daily WHERE namespace = $1 AND day = $2 ORDER BY item_id', [ns, d]);
const covisit = (d = '2026-01-31', ns = 'home') =>
  db.query<{ item_id: string; neighbor_id: string; score: string }>('SELECT item_id, neighbor_id, score::text FROM item_covisit_daily WHERE namespace = $1 AND day = $2 ORDER BY item_id, neighbor_id', [ns, d]);

describe('PgSignalsSink', () => {
  test('writes popularity items and exactly the (row item → neighbour) entries of cooc', async () => {
    const sink = new PgSignalsSink({ dsn: db.dsn });
    const result = await sink.writeDay(day());
    expect(result).toEqual({ popularity_rows: 3, covisit_rows: 3 });
    expect(await popularity()).toEqual([
      { item_id: 'a', score: '5.000000' },
      { item_id: 'b', score: '3.000000' },
      { item_id: 'tab\there', score: '1.000000' },
    ]);
    expect(await covisit()).toEqual([
      { item_id: 'a', neighbor_id: 'b', score: '2.000000' },
      { item_id: 'a', neighbor_id: 'c', score: '1.000000' },
      { item_id: 'b', neighbor_id: 'a', score: '2.000000' },
    ]);
    const [row] = await db.query<{ tenant_id: string; updated_at: string }>("SELECT tenant_id::text, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS updated_at FROM item_popularity_daily LIMIT 1");
    expect(row).toEqual({ tenant_id: shop, updated_at: '2026-02-01 01:00:00' });
  });

  test('a rerun replaces the day: no stale rows, other days and namespaces untouched', async () => {
    const sink = new PgSignalsSink({ dsn: db.dsn });
    await sink.writeDay(day({ day: '2026-01-30' }));
    await sink.writeDay(day({ namespace: 'search' }));
    await sink.writeDay(day());
    await sink.writeDay(day({ popularity: [{ item_id: 'b', count: 9 }], covisit: [{ item_id: 'b', items: [{ item_id: 'a', count: 4 }] }] }));
    expect(await popularity()).toEqual([{ item_id: 'b', score: '9.000000' }]);
    expect(await covisit()).toEqual([{ item_id: 'b', neighbor_id: 'a', score: '4.000000' }]);
    expect(await popularity('2026-01-30')).toHaveLength(3);
    expect(await popularity('2026-01-31', 'search')).toHaveLength(3);
    // A table whose signals are absent is left alone.
    await sink.writeDay(day({ popularity: [{ item_id: 'z', count: 1 }], covisit: undefined }));
    expect(await covisit()).toEqual([{ item_id: 'b', neighbor_id: 'a', score: '4.000000' }]);
  });

  test('item_tags: the namespace is replaced from the catalog, with price when known', async () => {
    const sink = new PgSignalsSink({ dsn: db.dsn });
    const tags = [
      { item_id: 'a', tags: ['red', 'has "quote"', 'back\\slash', 'com,ma', 'NULL'], price: 9.5 },
      { item_id: 'b', tags: [] as string[] },
    ];
    await sink.writeDay(day({ popularity: undefined, covisit: undefined, tags }));
    await sink.writeDay(day({ popularity: undefined, covisit: undefined, tags: tags.slice(0, 1) }));
    const rows = await db.query<{ item_id: string; tags: string[]; price: string | null }>('SELECT item_id, tags, price::text FROM item_tags ORDER BY item_id');
    expect(rows).toEqual([{ item_id: 'a', tags: tags[0]!.tags, price: '9.500000' }]);
    expect(copyTextArray(['x'])).toBe('{"x"}');
  });

  test('unknown tenant: usage error (exit 2) and nothing written, unless auto_create_tenant creates the row', async () => {
    const sink = new PgSignalsSink({ dsn: db.dsn });
    const error = await sink.writeDay(day({ tenant: 'newco' })).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.exitCode).toBe(2);
    expect((error as Error).message).toContain('auto_create_tenant');
    await expect(sink.prepare({ tenant: 'newco', surface: 'home' })).rejects.toMatchObject({ kind: 'usage' });
    expect(await db.query("SELECT 1 FROM tenants WHERE external_id = 'newco'")).toHaveLength(0);

    const auto = new PgSignalsSink({ dsn: db.dsn, autoCreateTenant: true });
    await auto.prepare({ tenant: 'newco', surface: 'home' });
    expect(await auto.writeDay(day({ tenant: 'newco' }))).toMatchObject({ tenant_created: true, popularity_rows: 3 });
    const [tenant] = await db.query<{ id: string; name: string; status: string }>("SELECT id::text, name, status::text FROM tenants WHERE external_id = 'newco'");
    expect(tenant).toMatchObject({ name: 'newco', status: 'active' });
    expect(await db.query('SELECT 1 FROM item_popularity_daily WHERE tenant_id = $1', [tenant!.id])).toHaveLength(3);
    expect(await auto.writeDay(day({ tenant: 'newco' }))).not.toHaveProperty('tenant_created');
  });

  test('statement_timeout is enforced by the server; the failed write leaves the previous rows', async () => {
    const sink = new PgSignalsSink({ dsn: db.dsn, statementTimeoutS: 0.5 });
    await sink.writeDay(day({ day: '2026-01-29' }));
    const blocker = new pg.Client({ connectionString: db.dsn });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE item_popularity_daily IN ACCESS EXCLUSIVE MODE');
      const error = await sink.writeDay(day({ day: '2026-01-29', popularity: [{ item_id: 'x', count: 1 }] })).catch((e: unknown) => e);
      expect(RecsysError.isInstance(error) && error.exitCode).toBe(1);
      expect((error as Error).message).toContain('57014');
      expect((error as Error).message).toContain('statement_timeout is 0.5s');
      expect((error as Error).message).not.toContain(testPassword());
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    expect(await popularity('2026-01-29')).toHaveLength(3);
  });

  test('a reader sees the old day or the new day, never half (one transaction)', async () => {
    const many = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ item_id: `${tag}${i}`, count: i + 1 }));
    const seen: number[] = [];
    let watching = false;
    const check = async () => {
      if (!watching) return;
      const rows = await db.query<{ n: string; old: string }>("SELECT count(*)::text AS n, count(*) FILTER (WHERE item_id LIKE 'old%')::text AS old FROM item_popularity_daily WHERE day = '2026-01-28'");
      seen.push(Number(rows[0]!.n), Number(rows[0]!.old));
    };
    const sink = new PgSignalsSink({ dsn: db.dsn, beforeCommit: check });
    await sink.writeDay(day({ day: '2026-01-28', popularity: many(100, 'old'), covisit: undefined }));
    watching = true;
    await sink.writeDay(day({ day: '2026-01-28', popularity: many(50, 'new'), covisit: undefined }));
    // Just before COMMIT another session still sees exactly the old day.
    expect(seen).toEqual([100, 100]);
    await check();
    expect(seen.slice(2)).toEqual([50, 0]);
  });

  test('connection failures name the server without the password', async () => {
    const url = new URL(db.dsn);
    url.password = 'wrong-secret-123';
    const error = await new PgSignalsSink({ dsn: url.toString() }).writeDay(day()).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.exitCode).toBe(1);
    expect((error as Error).message).toContain('28P01');
    expect((error as Error).message).toContain(`postgres://postgres@127.0.0.1:${url.port}/${db.name}`);
    expect((error as Error).message).not.toContain('wrong-secret-123');
  });
});
