// The stack on the service's database, through the CLI (DESIGN §8): exposures
// read from exposure_events, signals written to the signal tables, against
// the real test PostgreSQL.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, insertExposures, testPassword, type TestDatabase } from './pg-env.js';
import { files, jsonOf, outputs, readText, runCli, servedDay, tempDir, toRows, writeConfig, writeJsonl, type Served } from './cli.js';

const DAYS = ['2026-01-31', '2026-02-01'] as const; // across the January/February partitions
const WINDOW = ['--tenant', 'shop', '--surface', 'home', '--start', DAYS[0], '--end', DAYS[1]];

let db: TestDatabase;
let shopId: string;
const served: Record<string, Served[]> = {};

interface DayJson {
  day: string;
  counts: { accepted: number; rejected: number; read: number };
  canonical: { sha256: string };
  artifacts: { type: string; version: string; uri: string }[];
  signals?: { written: boolean; rows?: { popularity_rows?: number; covisit_rows?: number; tag_rows?: number; tenant_created?: boolean }; skipped?: string };
}
interface RunJson {
  ok: boolean;
  days: DayJson[];
  error?: { exit_code: number; message: string };
}

/** A config reading from the test database; `db_` null: no signals. */
function pgConfig(dir: string, extra: Record<string, unknown> = {}, db_: Record<string, unknown> | null = { dsn: db.dsn }) {
  return writeConfig(dir, {
    out_dir: './out',
    // With a db section the source's DSN falls back to db.dsn; without one it needs its own.
    raw_source: { type: 'postgres', postgres: { ...(db_ ? {} : { dsn: db.dsn }), exposure_table: 'exposure_events', tenant_table: 'tenants' } },
    ...(db_ ? { db: db_ } : {}),
    artifact_kinds: ['popularity', 'cooc'],
    limits: { max_bad_event_ratio: 0.5 },
    ...extra,
  });
}

/** The artifact blob of a run's day. */
function blob<T>(day: DayJson, type: string): T {
  const uri = day.artifacts.find((a) => a.type === type)!.uri;
  return JSON.parse(readFileSync(new URL(uri), 'utf8')) as T;
}
type Popularity = { items: { item_id: string; count: number }[] };
type Cooc = { neighbors: { item_id: string; items: { item_id: string; count: number }[] }[] };

async function popularityRows(day: string) {
  return db.query<{ item_id: string; score: string }>("SELECT item_id, score::text FROM item_popularity_daily WHERE tenant_id = $1 AND namespace = 'home' AND day = $2 ORDER BY item_id", [shopId, day]);
}
async function covisitRows(day: string) {
  return db.query<{ item_id: string; neighbor_id: string; score: string }>(
    "SELECT item_id, neighbor_id, score::text FROM item_covisit_daily WHERE tenant_id = $1 AND namespace = 'home' AND day = $2 ORDER BY item_id, neighbor_id",
    [shopId, day],
  );
}
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

beforeAll(async () => {
  db = await createTestDatabase();
  shopId = await db.tenant('shop');
  await db.tenant('other');
  for (const [i, day] of DAYS.entries()) {
    served[day] = servedDay(day, 7 + i);
    await insertExposures(db, toRows(served[day]!, shopId, 'home'));
  }
});

afterAll(async () => {
  await db?.drop();
});

describe('run on the service database', () => {
  let pgRun: RunJson;
  let pgDir: string;

  test('the same events as exposure_events rows and as JSON Lines give identical canonical partitions and artifact versions; microseconds survive', async () => {
    pgDir = tempDir();
    const r = await runCli(['run', '--config', pgConfig(pgDir), ...WINDOW, '--json'], { cwd: pgDir });
    expect(r.code, r.stderr).toBe(0);
    pgRun = jsonOf<RunJson>(r);

    const fileDir = tempDir();
    for (const day of DAYS) writeJsonl(join(fileDir, 'raw'), 'shop', 'home', day, served[day]!);
    const f = await runCli(['run', '--config', writeConfig(fileDir, { out_dir: './out', raw_events_dir: './raw', artifact_kinds: ['popularity', 'cooc'] }), ...WINDOW, '--json'], { cwd: fileDir });
    expect(f.code, f.stderr).toBe(0);
    const fileRun = jsonOf<RunJson>(f);

    for (const [i, day] of DAYS.entries()) {
      const events = served[day]!.reduce((n, s) => n + s.items.length, 0);
      expect(pgRun.days[i]!.counts).toMatchObject({ read: events, accepted: events, rejected: 0 });
      const rel = `out/canonical/shop/home/exposures/${day}.jsonl`;
      expect(readText(join(pgDir, rel))).toBe(readText(join(fileDir, rel)));
      expect(pgRun.days[i]!.artifacts.map((a) => [a.type, a.version])).toEqual(fileRun.days[i]!.artifacts.map((a) => [a.type, a.version]));
    }
    const canonical = readText(join(pgDir, `out/canonical/shop/home/exposures/${DAYS[0]}.jsonl`));
    expect(canonical).toContain(`"ts":"${DAYS[0]}T00:00:00.000001Z"`);
    expect(canonical).toContain(`"ts":"${DAYS[0]}T23:59:59.999999Z"`);
    expect(readText(join(pgDir, `out/canonical/shop/home/exposures/${DAYS[1]}.jsonl`))).toContain(`"ts":"${DAYS[1]}T00:00:00.000001Z"`);
  });

  test("the signal tables hold exactly the artifacts' entries; the service's aggregations give the artifacts' top items and neighbours", async () => {
    for (const [i, day] of DAYS.entries()) {
      const d = pgRun.days[i]!;
      const pop = blob<Popularity>(d, 'popularity');
      const cooc = blob<Cooc>(d, 'cooc');
      const entries = cooc.neighbors.flatMap((row) => row.items.map((n) => ({ item_id: row.item_id, neighbor_id: n.item_id, score: `${n.count}.000000` })));
      expect(d.signals).toMatchObject({ written: true, rows: { popularity_rows: pop.items.length, covisit_rows: entries.length } });
      expect(await popularityRows(day)).toEqual(pop.items.map((x) => ({ item_id: x.item_id, score: `${x.count}.000000` })).sort((a, b) => byUtf8(a.item_id, b.item_id)));
      expect(await covisitRows(day)).toEqual(entries.sort((a, b) => byUtf8(a.item_id, b.item_id) || byUtf8(a.neighbor_id, b.neighbor_id)));
    }
    // The service's popularity: sum of score over the days with exponential decay (half-life 7 days).
    const top = await db.query<{ item_id: string }>(
      "SELECT item_id FROM item_popularity_daily WHERE tenant_id = $1 AND namespace = 'home' GROUP BY item_id ORDER BY sum(score * power(0.5, ('2026-02-01'::date - day) / 7.0)) DESC, item_id COLLATE \"C\" LIMIT 5",
      [shopId],
    );
    const decayed = new Map<string, number>();
    for (const [i, d] of pgRun.days.entries()) for (const x of blob<Popularity>(d, 'popularity').items) decayed.set(x.item_id, (decayed.get(x.item_id) ?? 0) + x.count * 0.5 ** ((1 - i) / 7));
    const expected = [...decayed].sort((a, b) => b[1] - a[1] || byUtf8(a[0], b[0])).slice(0, 5).map(([id]) => id);
    expect(top.map((r) => r.item_id)).toEqual(expected);
    // One day alone: the service's order is the artifact's order.
    const oneDay = await db.query<{ item_id: string }>("SELECT item_id FROM item_popularity_daily WHERE tenant_id = $1 AND namespace = 'home' AND day = $2 ORDER BY score DESC, item_id COLLATE \"C\"", [shopId, DAYS[1]]);
    expect(oneDay.map((r) => r.item_id)).toEqual(blob<Popularity>(pgRun.days[1]!, 'popularity').items.map((x) => x.item_id));
    // The service's co-visitation: sum over the last 30 days per (anchor → neighbour).
    const anchor = blob<Cooc>(pgRun.days[1]!, 'cooc').neighbors.find((r) => r.items.length > 1)!.item_id;
    const neighbours = await db.query<{ neighbor_id: string; s: string }>(
      "SELECT neighbor_id, sum(score)::int::text AS s FROM item_covisit_daily WHERE tenant_id = $1 AND namespace = 'home' AND item_id = $2 AND day > '2026-02-01'::date - 30 GROUP BY neighbor_id ORDER BY sum(score) DESC, neighbor_id COLLATE \"C\"",
      [shopId, anchor],
    );
    const summed = new Map<string, number>();
    for (const d of pgRun.days) for (const row of blob<Cooc>(d, 'cooc').neighbors) if (row.item_id === anchor) for (const n of row.items) summed.set(n.item_id, (summed.get(n.item_id) ?? 0) + n.count);
    expect(neighbours.map((r) => [r.neighbor_id, Number(r.s)])).toEqual([...summed].sort((a, b) => b[1] - a[1] || byUtf8(a[0], b[0])));
  });

  test('a rerun leaves row counts and sums unchanged; a rerun with a smaller top-N leaves no stale rows', async () => {
    const sums = async () => db.query("SELECT day::text, count(*)::int AS n, sum(score)::text AS s FROM item_covisit_daily WHERE tenant_id = $1 GROUP BY day UNION ALL SELECT 'pop ' || day::text, count(*)::int, sum(score)::text FROM item_popularity_daily WHERE tenant_id = $1 GROUP BY day ORDER BY 1", [shopId]);
    const before = await sums();
    const again = await runCli(['run', '--config', pgConfig(pgDir), ...WINDOW, '--json'], { cwd: pgDir });
    expect(again.code, again.stderr).toBe(0);
    expect(await sums()).toEqual(before);

    const small = await runCli(['run', '--config', pgConfig(pgDir, { limits: { max_bad_event_ratio: 0.5, max_items_per_artifact: 3, max_neighbors_per_item: 1 } }), ...WINDOW, '--json'], { cwd: pgDir });
    expect(small.code, small.stderr).toBe(0);
    const run = jsonOf<RunJson>(small);
    for (const [i, day] of DAYS.entries()) {
      const pop = blob<Popularity>(run.days[i]!, 'popularity');
      expect(pop.items).toHaveLength(3);
      expect((await popularityRows(day)).map((r) => r.item_id)).toEqual(pop.items.map((x) => x.item_id).sort(byUtf8));
      const cooc = blob<Cooc>(run.days[i]!, 'cooc');
      const entries = cooc.neighbors.flatMap((row) => row.items.map((n) => `${row.item_id}→${n.item_id}`)).sort();
      expect((await covisitRows(day)).map((r) => `${r.item_id}→${r.neighbor_id}`).sort()).toEqual(entries);
      expect(entries.length).toBeLessThanOrEqual(3);
    }
  });

  test('a run killed inside the signals write leaves the previous rows intact', async () => {
    const before = await popularityRows(DAYS[0]);
    const beforeCovisit = await covisitRows(DAYS[0]);
    const r = await runCli(['run', '--config', pgConfig(pgDir), '--tenant', 'shop', '--surface', 'home', '--start', DAYS[0], '--end', DAYS[0]], {
      cwd: pgDir,
      env: { RECSYS_TEST_KILL_AT: 'signals' },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(await popularityRows(DAYS[0])).toEqual(before);
    expect(await covisitRows(DAYS[0])).toEqual(beforeCovisit);
    // No lock or half transaction is left behind: the next run writes the day.
    const next = await runCli(['run', '--config', pgConfig(pgDir), '--tenant', 'shop', '--surface', 'home', '--start', DAYS[0], '--end', DAYS[0], '--json'], { cwd: pgDir });
    expect(next.code, next.stderr).toBe(0);
    expect((await popularityRows(DAYS[0])).length).toBeGreaterThan(3);
  });
});

describe('item_tags from the item catalog', () => {
  async function tagRows() {
    return db.query<{ item_id: string; tags: string[]; price: string | null }>("SELECT item_id, tags, price::text FROM item_tags WHERE tenant_id = $1 AND namespace = 'home' ORDER BY item_id COLLATE \"C\"", [shopId]);
  }

  test("run with content_sim writes the surface's tagged catalog items (tags normalised, price when readable); a rerun with a smaller catalog leaves no stale rows", async () => {
    const dir = tempDir();
    const catalog = (lines: object[]) => writeFileSync(join(dir, 'items.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    catalog([
      { item_id: 'A', tags: ['Red', ' red ', 'sale'], price: 9.5 },
      { item_id: 'B', tags: ['blue'], namespace: 'home', price: 'n/a' },
      { item_id: 'C', tags: ['green'], namespace: 'search', price: 3 },
      { item_id: 'D', tags: [] },
    ]);
    const config = () => pgConfig(dir, { artifact_kinds: ['popularity', 'cooc', 'content_sim'], catalog: { path: 'items.jsonl' } });
    const r = await runCli(['run', '--config', config(), ...WINDOW, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const run = jsonOf<RunJson>(r);
    for (const d of run.days) expect(d.signals).toMatchObject({ written: true, rows: { tag_rows: 2 } });
    // C belongs to another surface and D has no tags (content_sim skips it too); B's unreadable price is left out, not the row.
    expect(await tagRows()).toEqual([
      { item_id: 'A', tags: ['red', 'sale'], price: '9.500000' },
      { item_id: 'B', tags: ['blue'], price: null },
    ]);
    expect(await db.query("SELECT 1 FROM item_tags WHERE tenant_id = $1 AND namespace = 'search'", [shopId])).toHaveLength(0);

    catalog([{ item_id: 'B', tags: ['navy'], price: 4 }]);
    const again = await runCli(['run', '--config', config(), '--tenant', 'shop', '--surface', 'home', '--start', DAYS[1], '--end', DAYS[1], '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await tagRows()).toEqual([{ item_id: 'B', tags: ['navy'], price: '4.000000' }]);
  });
});

describe('bad rows, gates and tenants', () => {
  const BAD_DAY = '2026-03-10';

  beforeAll(async () => {
    await insertExposures(db, [
      ...toRows(servedDay(BAD_DAY, 99, 5), shopId, 'home'),
      { tenantId: shopId, occurredAt: `${BAD_DAY} 12:00:00.5+00`, surface: 'home', sessionId: null, response: '{"items":[{"item_id":"x","rank":0}]}' },
      { tenantId: shopId, occurredAt: `${BAD_DAY} 13:00:00+00`, surface: 'home', sessionId: 's', response: '{"items":{"item_id":"x"}}' },
    ]);
  });

  test('malformed response rows are quarantined with reason and (occurred_at, id) and count in the bad-line ratio', async () => {
    const dir = tempDir();
    const r = await runCli(['run', '--config', pgConfig(dir), '--tenant', 'shop', '--surface', 'home', '--start', BAD_DAY, '--end', BAD_DAY, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const day = jsonOf<RunJson>(r).days[0]!;
    expect(day.signals).toMatchObject({ written: true });
    expect(day.counts.rejected).toBe(2);
    const records = readText(join(dir, `out/quarantine/shop/home/${BAD_DAY}.jsonl`)).trim().split('\n').map((l) => JSON.parse(l) as { reason: string; location: { occurred_at: string; id: string } });
    expect(records.map((x) => [x.reason, x.location.occurred_at])).toEqual([
      ['missing_field', `${BAD_DAY}T12:00:00.5Z`],
      ['invalid_response', `${BAD_DAY}T13:00:00Z`],
    ]);
  });

  test('a gate-blocked day writes no signals: the rows of its last good run stay as they were', async () => {
    const before = { pop: await popularityRows(BAD_DAY), covisit: await covisitRows(BAD_DAY) };
    expect(before.pop.length).toBeGreaterThan(0);
    const dir = tempDir();
    // A smaller top-N would rewrite the rows if the write happened.
    const limits = { max_bad_event_ratio: 0, max_items_per_artifact: 1 };
    const r = await runCli(['run', '--config', pgConfig(dir, { limits }), '--tenant', 'shop', '--surface', 'home', '--start', BAD_DAY, '--end', BAD_DAY, '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    expect(await popularityRows(BAD_DAY)).toEqual(before.pop);
    expect(await covisitRows(BAD_DAY)).toEqual(before.covisit);
  });

  test('an unknown tenant exits 2 at the source, and never empties an existing canonical day', async () => {
    const dir = tempDir();
    const config = pgConfig(dir, {}, null);
    const partition = join(dir, `out/canonical/nobody/home/exposures/${DAYS[0]}.jsonl`);
    const previous = `{"ts":"${DAYS[0]}T10:00:00Z","tenant":"nobody","surface":"home","session_id":"s","item_id":"a"}\n`;
    mkdirSync(dirname(partition), { recursive: true });
    writeFileSync(partition, previous);
    const r = await runCli(['ingest', '--config', config, '--tenant', 'nobody', '--surface', 'home', '--start', DAYS[0], '--end', DAYS[0]], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('"nobody" does not exist');
    expect(readText(partition)).toBe(previous);
  });

  test('an unknown tenant exits 2 at the sink before anything is written, unless auto_create_tenant creates it', async () => {
    const dir = tempDir();
    const served_ = servedDay(DAYS[0], 5, 5);
    writeJsonl(join(dir, 'raw'), 'newco', 'home', DAYS[0], served_);
    const base = { out_dir: './out', raw_events_dir: './raw', artifact_kinds: ['popularity', 'cooc'] };
    const args = ['run', '--tenant', 'newco', '--surface', 'home', '--start', DAYS[0], '--end', DAYS[0], '--json'];
    const refused = await runCli([...args, '--config', writeConfig(dir, { ...base, db: { dsn: db.dsn } })], { cwd: dir });
    expect(refused.code, refused.stderr).toBe(2);
    expect(jsonOf<RunJson>(refused).error!.message).toContain('auto_create_tenant');
    expect(files(join(dir, 'out'))).toEqual([]);

    const created = await runCli([...args, '--config', writeConfig(dir, { ...base, db: { dsn: db.dsn, auto_create_tenant: true } })], { cwd: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(jsonOf<RunJson>(created).days[0]!.signals).toMatchObject({ written: true, rows: { tenant_created: true } });
    const [tenant] = await db.query<{ id: string }>("SELECT id::text FROM tenants WHERE external_id = 'newco' AND name = 'newco'");
    expect(tenant).toBeDefined();
    expect((await db.query('SELECT 1 FROM item_popularity_daily WHERE tenant_id = $1', [tenant!.id])).length).toBeGreaterThan(0);
  });
});

describe('the signals job step', () => {
  const DAY = '2026-02-01';

  test('writes a day from staged artifacts, else from published ones; a non-default segment writes nothing and says so', async () => {
    const dir = tempDir();
    const config = pgConfig(dir, {}, null);
    const scope = ['--tenant', 'other', '--surface', 'home', '--start', DAY, '--end', DAY];
    const otherId = (await db.query<{ id: string }>("SELECT id::text FROM tenants WHERE external_id = 'other'"))[0]!.id;
    await insertExposures(db, toRows(servedDay(DAY, 31, 20), otherId, 'home'));
    for (const step of [['ingest'], ['validate'], ['compute', 'popularity', 'cooc'], ['publish']]) {
      const r = await runCli([...step, '--config', config, ...scope], { cwd: dir });
      expect(r.code, `${step[0]}: ${r.stderr}`).toBe(0);
    }
    const withDb = pgConfig(dir);
    const staged = await runCli(['signals', '--config', withDb, ...scope, '--json'], { cwd: dir });
    expect(staged.code, staged.stderr).toBe(0);
    const doc = jsonOf<{ days: { written: boolean; sources: Record<string, { from: string }>; rows: { popularity_rows: number; covisit_rows: number } }[] }>(staged);
    expect(doc.days[0]!.sources).toMatchObject({ popularity: { from: 'staged' }, cooc: { from: 'staged' } });
    const count = async () => Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM item_popularity_daily WHERE tenant_id = $1', [otherId]))[0]!.n);
    expect(await count()).toBe(doc.days[0]!.rows.popularity_rows);

    await db.query('DELETE FROM item_popularity_daily WHERE tenant_id = $1', [otherId]);
    rmSync(join(dir, 'out/artifacts'), { recursive: true, force: true });
    const published = await runCli(['signals', '--config', withDb, ...scope, '--json'], { cwd: dir });
    expect(published.code, published.stderr).toBe(0);
    expect(jsonOf<typeof doc>(published).days[0]!.sources).toMatchObject({ popularity: { from: 'published' } });
    expect(await count()).toBe(doc.days[0]!.rows.popularity_rows);

    const segment = await runCli(['signals', '--config', withDb, ...scope, '--segment', 'beta', '--json'], { cwd: dir });
    expect(segment.code, segment.stderr).toBe(0);
    const seg = jsonOf<{ skipped: string; days: { written: boolean }[] }>(segment);
    expect(seg.skipped).toContain('segment "beta"');
    expect(seg.days[0]!.written).toBe(false);

    const noDb = await runCli(['signals', '--config', config, ...scope], { cwd: dir });
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toContain('db.dsn');
  });
});

describe('sharded job mode on the PostgreSQL source', () => {
  test('2 shards (ingest, validate, compute) → merge → publish give the same artifact versions as run', async () => {
    // The days of the first describe, read again from exposure_events; signals off (no db section).
    const single = tempDir();
    const r = await runCli(['run', '--config', pgConfig(single, {}, null), ...WINDOW, '--json'], { cwd: single });
    expect(r.code, r.stderr).toBe(0);
    const served = (root: string) => Object.entries((JSON.parse(readText(join(root, 'out/registry/current/shop/home/manifest.json'))) as { current: Record<string, string> }).current).map(([key, uri]) => [key, /([0-9a-f]{64})\.json$/.exec(uri)![1]]).sort();

    const dir = tempDir();
    const config = pgConfig(dir, {}, null);
    // Every ingest part first (each writes its buckets for both shards), then each shard's steps.
    for (const step of [['ingest'], ['validate'], ['compute', 'popularity', 'cooc']]) {
      for (let i = 0; i < 2; i++) {
        const s = await runCli([...step, '--config', config, ...WINDOW, '--shard', `${i}/2`], { cwd: dir });
        expect(s.code, `${step[0]} --shard ${i}/2: ${s.stderr}`).toBe(0);
      }
    }
    const merge = await runCli(['merge', 'popularity', 'cooc', '--config', config, ...WINDOW, '--shard-count', '2'], { cwd: dir });
    expect(merge.code, merge.stderr).toBe(0);
    const publish = await runCli(['publish', '--config', config, ...WINDOW, '--json'], { cwd: dir });
    expect(publish.code, publish.stderr).toBe(0);
    expect(served(dir)).toEqual(served(single));
    expect(served(dir)).toHaveLength(2);
    // Each shard holds part of every day's events; together exactly the run's.
    for (const day of DAYS) {
      const lines = (file: string) => readText(file).split('\n').filter(Boolean);
      const shards = [0, 1].flatMap((i) => lines(join(dir, `out/canonical/shop/home/exposures/${day}.shard-${i}-of-2.jsonl`)));
      expect(shards.sort()).toEqual(lines(join(single, `out/canonical/shop/home/exposures/${day}.jsonl`)).sort());
    }
  });
});

test('no DSN password ever appears in logs, errors or --json output', () => {
  expect(outputs.length).toBeGreaterThan(10);
  for (const text of outputs) expect(text).not.toContain(testPassword());
});
