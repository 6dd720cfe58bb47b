import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, RecsysError, ingestDay, silentLogger, type PipelineEnv, type RawEventSource } from '@recsys/core';
import { ingestDayReference } from '@recsys/core/internal';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import { PgRawEventSource } from '../src/index.js';
import { createTestDatabase, insertExposures, testPassword, type ExposureRow, type TestDatabase } from './pg-env.js';

let db: TestDatabase;
let shop: string;
let other: string;
let dir: string;

const items = (...ids: (string | [string, number])[]) => JSON.stringify({ items: ids.map((x, i) => (typeof x === 'string' ? { item_id: x, rank: i, score: 0.5 } : { item_id: x[0], rank: x[1], score: 1 })) });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** Rows spanning the January/February partition boundary, the default partition, another tenant and surface. */
const rows = (): ExposureRow[] => [
  { tenantId: shop, occurredAt: '2025-12-31 23:00:00.5+00', surface: 'home', sessionId: 's0', response: items('a', 'b') }, // default partition
  { tenantId: shop, occurredAt: '2026-01-31 10:00:00+00', surface: 'home', sessionId: 's1', requestId: uuid(1), response: items('a', 'b', 'c') },
  { tenantId: shop, occurredAt: '2026-01-31 23:59:59.999999+00', surface: 'home', sessionId: 's1', response: items('c') },
  { tenantId: shop, occurredAt: '2026-02-01 00:00:00.000001+00', surface: 'home', sessionId: 's2', response: items('a', 'c') },
  { tenantId: shop, occurredAt: '2026-02-01 00:00:00+00', surface: 'home', sessionId: 's3', response: items(['d', 7]) },
  { tenantId: shop, occurredAt: '2026-01-31 12:00:00+00', surface: 'search', sessionId: 's9', response: items('z') },
  { tenantId: other, occurredAt: '2026-01-31 12:00:00+00', surface: 'home', sessionId: 's9', response: items('y') },
  // Rows that cannot become events: quarantined, located by (occurred_at, id).
  { tenantId: shop, occurredAt: '2026-01-31 13:00:00.25+00', surface: 'home', sessionId: null, response: items('a') },
  { tenantId: shop, occurredAt: '2026-01-31 14:00:00+00', surface: 'home', sessionId: 's4', response: '{"items": "a"}' },
  { tenantId: shop, occurredAt: '2026-01-31 15:00:00+00', surface: 'home', sessionId: 's4', response: '{"items": [{"item_id": "  "}]}' },
  { tenantId: shop, occurredAt: '2026-01-31 16:00:00+00', surface: 'home', sessionId: 's4', response: '[1, 2]' },
  { tenantId: shop, occurredAt: '2026-01-31 17:00:00+00', surface: 'home', sessionId: 's4', response: '{"items": [{"item_id": "ok", "rank": -1}]}' },
  { tenantId: shop, occurredAt: '2026-01-31 18:00:00+00', surface: 'home', sessionId: 's5', response: '{"items": []}' },
];

function env(source?: RawEventSource): PipelineEnv {
  const storage = (sub: string) => new FsObjectStorage(join(dir, sub));
  return {
    areas: { raw: storage('raw'), canonical: storage(source ? 'pg-canonical' : 'canonical'), quarantine: storage(source ? 'pg-quarantine' : 'quarantine'), artifacts: storage('artifacts'), objects: storage('objects'), registry: storage('registry'), checkpoints: storage('checkpoints') },
    limits: DEFAULT_LIMITS,
    clock: { now: () => new Date('2026-03-01T00:00:00Z') },
    logger: silentLogger,
    identity: { runId: 't', host: 'h', user: 'u', tool: { name: 'recsys-pipelines', version: 'test' } },
    sha256: nodeSha256,
    rawSource: source,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  shop = await db.tenant('shop');
  other = await db.tenant('other');
  await insertExposures(db, rows());
  dir = await mkdtemp(join(tmpdir(), 'pg-raw-'));
});

afterAll(async () => {
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PgRawEventSource', () => {
  test('one event per response item, microseconds kept, day bounds exact across the month partitions', async () => {
    const source = new PgRawEventSource({ dsn: db.dsn });
    const jan = await ingestDay(env(source), { tenant: 'shop', surface: 'home' }, '2026-01-31');
    const text = await readFile(join(dir, 'pg-canonical', 'shop/home/exposures/2026-01-31.jsonl'), 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.ts, e.session_id, e.item_id, e.rank])).toEqual([
      ['2026-01-31T10:00:00Z', 's1', 'a', 0],
      ['2026-01-31T10:00:00Z', 's1', 'b', 1],
      ['2026-01-31T10:00:00Z', 's1', 'c', 2],
      ['2026-01-31T23:59:59.999999Z', 's1', 'c', 0],
    ]);
    expect(events[0]!.request_id).toBe(uuid(1));
    expect(events.every((e) => e.tenant === 'shop' && e.surface === 'home')).toBe(true);
    expect(jan.counts).toMatchObject({ accepted: 4, rejected: 5, read: 9 });

    const feb = await ingestDay(env(source), { tenant: 'shop', surface: 'home' }, '2026-02-01');
    const febText = await readFile(join(dir, 'pg-canonical', 'shop/home/exposures/2026-02-01.jsonl'), 'utf8');
    expect(febText.trim().split('\n').map((l) => (JSON.parse(l) as { ts: string; item_id: string }).ts + ' ' + (JSON.parse(l) as { item_id: string }).item_id)).toEqual([
      '2026-02-01T00:00:00Z d',
      '2026-02-01T00:00:00.000001Z a',
      '2026-02-01T00:00:00.000001Z c',
    ]);
    expect(feb.counts).toMatchObject({ accepted: 3, rejected: 0 });

    // The default partition is read like any other.
    const dec = await ingestDay(env(source), { tenant: 'shop', surface: 'home' }, '2025-12-31');
    expect(dec.counts.accepted).toBe(2);
  });

  test('rows that cannot become events are quarantined with a reason and (occurred_at, id), in row order', async () => {
    const source = new PgRawEventSource({ dsn: db.dsn });
    const report = await ingestDay(env(source), { tenant: 'shop', surface: 'home' }, '2026-01-31');
    expect(report.counts.rejected_by_reason).toEqual({ missing_field: 1, invalid_response: 2, empty_field: 1, negative_rank: 1 });
    const records = (await readFile(join(dir, 'pg-quarantine', 'shop/home/2026-01-31.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.reason, (r.location as { occurred_at: string }).occurred_at])).toEqual([
      ['missing_field', '2026-01-31T13:00:00.25Z'],
      ['invalid_response', '2026-01-31T14:00:00Z'],
      ['empty_field', '2026-01-31T15:00:00Z'],
      ['invalid_response', '2026-01-31T16:00:00Z'],
      ['negative_rank', '2026-01-31T17:00:00Z'],
    ]);
    for (const r of records) {
      expect((r.location as { id: string }).id).toMatch(/^\d+$/);
      expect(r.source).toContain('table=exposure_events');
      expect(JSON.stringify(r)).not.toContain(testPassword());
      expect(typeof r.raw).toBe('string');
    }
    expect(records[0]!.detail).toContain('session_id is null');
    // The reference engine quarantines the same records in the same order.
    const ref = await ingestDayReference(env(source), { tenant: 'shop', surface: 'home' }, '2026-01-31');
    expect(ref.counts).toEqual(report.counts);
    expect(ref.canonical.sha256).toBe(report.canonical.sha256);
  });

  test('the same events as JSON Lines give a byte-identical canonical partition', async () => {
    const source = new PgRawEventSource({ dsn: db.dsn });
    const pgReport = await ingestDay(env(source), { tenant: 'shop', surface: 'home' }, '2026-02-01');
    const lines = [
      { v: 1, ts: '2026-02-01T00:00:00Z', tenant: 'shop', surface: 'home', session_id: 's3', item_id: 'd', rank: 7 },
      { v: 1, ts: '2026-02-01T00:00:00.000001Z', tenant: 'shop', surface: 'home', session_id: 's2', item_id: 'a', rank: 0 },
      { v: 1, ts: '2026-02-01T00:00:00.000001Z', tenant: 'shop', surface: 'home', session_id: 's2', item_id: 'c', rank: 1 },
    ];
    await mkdir(join(dir, 'raw/shop/home'), { recursive: true });
    await writeFile(join(dir, 'raw/shop/home/exposure.2026-02-01.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const fileReport = await ingestDay(env(), { tenant: 'shop', surface: 'home' }, '2026-02-01');
    expect(pgReport.canonical.sha256).toBe(fileReport.canonical.sha256);
    expect(await readFile(join(dir, 'pg-canonical/shop/home/exposures/2026-02-01.jsonl'), 'utf8')).toBe(await readFile(join(dir, 'canonical/shop/home/exposures/2026-02-01.jsonl'), 'utf8'));
  });

  test('small cursor batches and chunks give the same partition (memory is bounded by them, not by the day)', async () => {
    const big = new PgRawEventSource({ dsn: db.dsn });
    const small = new PgRawEventSource({ dsn: db.dsn, batchRows: 1, chunkBytes: 1 });
    const a = await ingestDay(env(big), { tenant: 'shop', surface: 'home' }, '2026-01-31');
    const b = await ingestDay(env(small), { tenant: 'shop', surface: 'home' }, '2026-01-31');
    expect(b.canonical.sha256).toBe(a.canonical.sha256);
    expect(b.counts).toEqual(a.counts);
  });

  test('a tenant is found by external_id or by id; an unknown tenant is a usage error (exit 2), never an empty day', async () => {
    const byId = await ingestDay(env(new PgRawEventSource({ dsn: db.dsn })), { tenant: shop, surface: 'home' }, '2026-02-01');
    expect(byId.counts.accepted).toBe(3);
    const error = await ingestDay(env(new PgRawEventSource({ dsn: db.dsn })), { tenant: 'nobody', surface: 'home' }, '2026-02-01').catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.exitCode).toBe(2);
    expect((error as Error).message).toContain('"nobody" does not exist');
    expect((error as Error).message).not.toContain(testPassword());
  });

  test('table names are validated and quoted: a hostile name is a config error naming the key', () => {
    for (const bad of ['exposure_events; drop table tenants', 'a.b.c', '"x"', '', '1abc']) {
      const error = (() => {
        try {
          new PgRawEventSource({ dsn: db.dsn, exposureTable: bad });
        } catch (e) {
          return e;
        }
      })();
      expect(RecsysError.isInstance(error) && error.exitCode, bad).toBe(2);
      expect((error as Error).message).toContain('raw_source.postgres.exposure_table');
    }
    expect(() => new PgRawEventSource({ dsn: db.dsn, exposureTable: 'public.exposure_events', tenantTable: 'public.tenants' })).not.toThrow();
  });

  test('a schema-qualified table works; a missing one fails naming the table, without the password', async () => {
    const ok = await ingestDay(env(new PgRawEventSource({ dsn: db.dsn, exposureTable: 'public.exposure_events', tenantTable: 'public.tenants' })), { tenant: 'shop', surface: 'home' }, '2026-02-01');
    expect(ok.counts.accepted).toBe(3);
    const error = await ingestDay(env(new PgRawEventSource({ dsn: db.dsn, exposureTable: 'nope' })), { tenant: 'shop', surface: 'home' }, '2026-02-01').catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.exitCode).toBe(1);
    expect((error as Error).message).toMatch(/"nope".*does not exist|relation "nope"/);
    expect((error as Error).message).not.toContain(testPassword());
  });
});
