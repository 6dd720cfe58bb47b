// Rolling windows through the built binary (DESIGN §9): with window_days N,
// each day's popularity and cooc cover the N days ending with it and equal a
// brute force over those days of the Diginetica CSV (a session counts within
// its UTC day; limits applied to the sums); window_days 1 is the one-day
// artifact byte for byte; run, the job steps and a sharded run publish the
// same versions; reruns are no-ops; a re-ingested past day is re-read.
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseVersionRecord } from '@recsys/contracts';
import { bruteForceCounts } from '@recsys/vitest-config/diginetica';
import { SAMPLE_RAW, cli, readArtifact, readHistory, runJson, tempDir, writeConfig, type CliResult } from './helpers.js';

const CSV = fileURLToPath(new URL('../../../tooling/data/diginetica/train-item-views.csv', import.meta.url));
const SCOPE = ['--tenant', 'diginetica', '--surface', 'web'];
const RAW_DIR = join(SAMPLE_RAW, 'diginetica/web');
const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
/** The brute force below assumes these: 100 neighbours, no row cap. */
const LIMITS = { max_neighbors_per_item: 100, max_items_per_artifact: 1_000_000, min_cooc_support: 2 };
/** Windows are about the sums; the sample's day-to-day volume swings would trip the volume gate. */
const GATES = { volume_anomaly: { enabled: false } };

type Events = { session: string; item: string }[];

/** Distinct events per UTC day of the CSV (the pipeline drops exact duplicates). */
function csvDays(): Map<string, Events> {
  const [, ...rows] = readFileSync(CSV, 'utf8').split(/\r?\n/).filter((l) => l !== '');
  const byDay = new Map<string, Map<string, { session: string; item: string }>>();
  for (const row of rows) {
    const [session, user, item, timeframe, eventdate] = row.split(';') as [string, string, string, string, string];
    const ts = new Date(Date.parse(`${eventdate}T00:00:00Z`) + Number(timeframe)).toISOString();
    const events = byDay.get(ts.slice(0, 10)) ?? new Map();
    events.set(`${ts}|${session}|${item}|${user}`, { session, item });
    byDay.set(ts.slice(0, 10), events);
  }
  return new Map([...byDay].map(([d, e]) => [d, [...e.values()]]));
}

/** The N days ending with `day`. */
function windowOf(day: string, n: number): string[] {
  return Array.from({ length: n }, (_, k) => new Date(Date.parse(`${day}T00:00:00Z`) - (n - 1 - k) * 86_400_000).toISOString().slice(0, 10));
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Popularity and cooc over the given days, as "item:count" strings, by plain Maps and Sets. */
function bruteForce(days: Map<string, Events>, window: readonly string[]) {
  const { exposures, together } = bruteForceCounts(days, window);
  return {
    popularity: [...exposures.entries()].sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b)).map(([i, c]) => `${i}:${c}`),
    cooc: [...together.keys()].sort(utf8).map((item): [string, string[]] => [
      item,
      [...together.get(item)!.entries()]
        .filter(([, c]) => c >= LIMITS.min_cooc_support)
        .sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b))
        .slice(0, LIMITS.max_neighbors_per_item)
        .map(([i, c]) => `${i}:${c}`),
    ]),
  };
}

function payloads(uri: (type: string) => string) {
  const p = readArtifact(uri('popularity'));
  const c = readArtifact(uri('cooc'));
  if (p.artifact_type !== 'popularity' || c.artifact_type !== 'cooc') throw new Error('wrong artifact types');
  return {
    window: p.window,
    popularity: p.items.map((i) => `${i.item_id}:${i.count}`),
    cooc: c.neighbors.map((r): [string, string[]] => [r.item_id, r.items.map((i) => `${i.item_id}:${i.count}`)]),
  };
}

/** A workspace with a copy of the sample's Diginetica days (so a test may change one). */
function setup(config: Record<string, unknown> = {}) {
  const dir = tempDir('recsys-windows-');
  const raw = join(dir, 'raw/diginetica/web');
  mkdirSync(raw, { recursive: true });
  for (const f of readdirSync(RAW_DIR)) cpSync(join(RAW_DIR, f), join(raw, f));
  return { dir, raw, config: writeConfig(dir, { limits: LIMITS, gates: GATES, ...config }) };
}

async function ok(args: string[], cwd: string): Promise<CliResult> {
  const r = await cli(args, { cwd });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

/** Sorted days grouped into runs of consecutive days, as [first, last] pairs. */
function consecutiveRuns(sorted: string[]): [string, string][] {
  const runs: [string, string][] = [];
  for (const d of sorted) {
    const last = runs.at(-1);
    if (last && nextDay(last[1]) === d) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}

type WindowJson = { days: number; start: string; end: string; missing: string[]; rebuilt: string[] };
const windowOfDay = (d: unknown) => (d as { window: WindowJson }).window;
const versions = (day: { artifacts: { type: string; version: string }[] }) => Object.fromEntries(day.artifacts.map((a) => [a.type, a.version]));

describe('rolling windows on the Diginetica sample', () => {
  let days: Map<string, Events>;
  beforeAll(() => {
    days = csvDays();
  });

  test('7-day windows: every day of a two-week run equals the brute force over its window', async () => {
    const s = setup({ window_days: 7 });
    const r = await runJson(['--config', s.config, ...SCOPE, '--start', '2016-05-19', '--end', '2016-06-01'], { cwd: s.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.days).toHaveLength(14);
    for (const day of r.json.days) {
      const window = windowOf(day.day, 7);
      // Days before the run were never ingested: they count as empty and are listed.
      const ingested = window.filter((d) => d >= '2016-05-19');
      expect(windowOfDay(day)).toMatchObject({ days: 7, start: `${window[0]}T00:00:00Z`, missing: window.filter((d) => d < '2016-05-19') });
      const want = bruteForce(days, ingested);
      const got = payloads((type) => day.artifacts.find((a) => a.type === type)!.uri);
      expect(got.window, day.day).toEqual({ start: `${window[0]}T00:00:00Z`, end: `${nextDay(day.day)}T00:00:00Z` });
      expect(got.popularity, day.day).toEqual(want.popularity);
      expect(got.cooc, day.day).toEqual(want.cooc);
      // The version records cite every canonical partition of the window.
      const record = parseVersionRecord(JSON.parse(readFileSync(join(s.dir, 'out/registry/records/diginetica/web/cooc', `${versions(day).cooc}.json`), 'utf8')));
      expect(record.inputs.map((i) => i.day)).toEqual(ingested);
    }
    // The run stored one aggregate per day and re-read none from the canonical data.
    expect(r.json.days.every((d) => windowOfDay(d).rebuilt.length === 0)).toBe(true);
    expect(readdirSync(join(s.dir, 'out/objectstore/diginetica/web/_days'))).toHaveLength(14);
  });

  test('a 28-day window over days ingested beforehand equals the brute force; the other 27 days come from aggregates', async () => {
    const s = setup();
    const present = windowOf('2016-05-31', 28).filter((d) => existsSync(join(s.raw, `exposure.${d}.jsonl`)));
    expect(present.length).toBeGreaterThan(20);
    // Ingest only (publishes nothing): the days before the first window, one `ingest` per run of
    // consecutive days (a range must not contain a day without raw input).
    for (const [start, end] of consecutiveRuns(present.slice(0, -1))) await ok(['ingest', '--config', s.config, ...SCOPE, '--start', start, '--end', end], s.dir);
    const r = await runJson(['--config', s.config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31', '--window-days', '28'], { cwd: s.dir });
    expect(r.code, r.stderr).toBe(0);
    const day = r.json.days[0]!;
    expect(windowOfDay(day).missing).toEqual(windowOf('2016-05-31', 28).filter((d) => !present.includes(d)));
    // No aggregate existed yet: rebuilt from the canonical partitions (never from raw input), then stored.
    expect(windowOfDay(day).rebuilt).toEqual(present.slice(0, -1));
    const want = bruteForce(days, present);
    const got = payloads((type) => day.artifacts.find((a) => a.type === type)!.uri);
    expect(got.window).toEqual({ start: '2016-05-04T00:00:00Z', end: '2016-06-01T00:00:00Z' });
    expect(got.popularity).toEqual(want.popularity);
    expect(got.cooc).toEqual(want.cooc);

    // The next day's window reads the stored aggregates.
    const next = await runJson(['--config', s.config, ...SCOPE, '--start', '2016-06-01', '--end', '2016-06-01', '--window-days', '28'], { cwd: s.dir });
    expect(next.code, next.stderr).toBe(0);
    expect(windowOfDay(next.json.days[0]!).rebuilt).toEqual([]);
    const want2 = bruteForce(days, [...windowOf('2016-06-01', 28)].filter((d) => present.includes(d) || d === '2016-06-01'));
    const got2 = payloads((type) => next.json.days[0]!.artifacts.find((a) => a.type === type)!.uri);
    expect(got2.popularity).toEqual(want2.popularity);
    expect(got2.cooc).toEqual(want2.cooc);
  });
});

describe('windows: identities', () => {
  test('window_days 1 is the one-day artifact, byte for byte', async () => {
    const a = setup();
    const b = setup({ window_days: 1 });
    const args = [...SCOPE, '--start', '2016-05-30', '--end', '2016-05-31'];
    const plain = await runJson(['--config', a.config, ...args], { cwd: a.dir });
    const one = await runJson(['--config', b.config, ...args, '--window-days', '1'], { cwd: b.dir });
    expect(one.json.days.map(versions)).toEqual(plain.json.days.map(versions));
    expect(existsSync(join(b.dir, 'out/objectstore/diginetica/web/_days'))).toBe(false);
  });

  test('run ≡ ingest → validate → compute → publish ≡ sharded (2 shards) → merge → publish, with a 3-day window; reruns change nothing', async () => {
    const days = ['2016-05-29', '2016-05-30', '2016-05-31'];
    // ingest and validate work on single days: --window-days is a flag of compute, merge and publish (and run).
    const day1 = (d: string) => [...SCOPE, '--start', d, '--end', d];
    const range = (d: string) => [...day1(d), '--window-days', '3'];
    const run = setup();
    const steps = setup();
    const shards = setup();
    const viaRun: Record<string, string>[] = [];
    const viaSteps: Record<string, string>[] = [];
    const viaShards: Record<string, string>[] = [];
    for (const day of days) {
      const r = await runJson(['--config', run.config, ...range(day)], { cwd: run.dir });
      expect(r.code, r.stderr).toBe(0);
      viaRun.push(versions(r.json.days[0]!));

      const c = ['--config', steps.config, ...range(day)];
      await ok(['ingest', '--config', steps.config, ...day1(day)], steps.dir);
      await ok(['validate', '--config', steps.config, ...day1(day)], steps.dir);
      await ok(['compute', 'popularity', 'cooc', ...c], steps.dir);
      const p = await ok(['publish', '--json', ...c], steps.dir);
      viaSteps.push(versions((JSON.parse(p.stdout) as { days: { artifacts: { type: string; version: string }[] }[] }).days[0]!));

      const h = ['--config', shards.config, ...range(day)];
      for (const i of [0, 1]) await ok(['ingest', '--config', shards.config, ...day1(day), '--shard', `${i}/2`], shards.dir);
      for (const i of [0, 1]) {
        await ok(['validate', '--config', shards.config, ...day1(day), '--shard', `${i}/2`], shards.dir);
        await ok(['compute', 'popularity', 'cooc', '--config', shards.config, ...day1(day), '--shard', `${i}/2`], shards.dir);
      }
      await ok(['merge', 'popularity', 'cooc', ...h], shards.dir);
      const sp = await ok(['publish', '--json', ...h], shards.dir);
      viaShards.push(versions((JSON.parse(sp.stdout) as { days: { artifacts: { type: string; version: string }[] }[] }).days[0]!));
    }
    expect(viaSteps).toEqual(viaRun);
    expect(viaShards).toEqual(viaRun);
    // Windows differ from day to day (they are not the one-day artifacts).
    expect(new Set(viaRun.map((v) => v.cooc)).size).toBe(3);

    // Idempotent: rerunning the last window publishes the same versions and appends no history.
    const entries = readHistory(join(run.dir, 'out/registry'), 'diginetica', 'web').length;
    const again = await runJson(['--config', run.config, ...range('2016-05-31')], { cwd: run.dir });
    expect(versions(again.json.days[0]!)).toEqual(viaRun[2]);
    expect(readHistory(join(run.dir, 'out/registry'), 'diginetica', 'web')).toHaveLength(entries);
  });

  test('late data: a re-ingested past day is re-read from its new canonical partition by the next window', async () => {
    const s = setup({ window_days: 3 });
    const first = await runJson(['--config', s.config, ...SCOPE, '--start', '2016-05-29', '--end', '2016-05-31'], { cwd: s.dir });
    expect(first.code, first.stderr).toBe(0);
    // A late event for 2016-05-30 arrives; the day is re-ingested (job mode: publishes nothing).
    appendFileSync(join(s.raw, 'exposure.2016-05-30.jsonl'), JSON.stringify({ v: 1, ts: '2016-05-30T23:59:59Z', tenant: 'diginetica', surface: 'web', session_id: 'late', item_id: 'late-item' }) + '\n');
    await ok(['ingest', '--config', s.config, ...SCOPE, '--start', '2016-05-30', '--end', '2016-05-30'], s.dir);
    const rerun = await runJson(['--config', s.config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31'], { cwd: s.dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(windowOfDay(rerun.json.days[0]!).rebuilt).toEqual(['2016-05-30']);
    expect(versions(rerun.json.days[0]!).popularity).not.toBe(versions(first.json.days[2]!).popularity);
    const popularity = readArtifact(rerun.json.days[0]!.artifacts.find((a) => a.type === 'popularity')!.uri);
    expect(popularity.artifact_type === 'popularity' && popularity.items.find((i) => i.item_id === 'late-item')).toEqual({ item_id: 'late-item', count: 1 });
  });

  test.each([
    [['--artifacts', 'popularity,implicit', '--window-days', '7'], 'implicit cannot be built over a 7-day window'],
    [['--window-days', '0'], '--window-days must be a whole number >= 1'],
    [['--window-days', '400'], 'window_days must be an integer from 1 to 366'],
  ])('%j is a usage error (exit 2)', async (flags, message) => {
    const s = setup();
    const r = await cli(['run', '--config', s.config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31', ...flags], { cwd: s.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});

describe('late data', () => {
  test('run --incremental reports the published days and windows a changed raw day affects; --republish-affected re-runs them oldest first, once', async () => {
    const s = setup({ window_days: 3 });
    const inc = (end: string, ...flags: string[]) => runJson(['--config', s.config, ...SCOPE, '--start', '2016-05-27', '--end', end, '--incremental', ...flags], { cwd: s.dir });
    const first = await inc('2016-05-30');
    expect(first.code, first.stderr).toBe(0);
    const registry = join(s.dir, 'out/registry');
    const entries = readHistory(registry, 'diginetica', 'web').length;

    // Nothing changed: nothing to report.
    const quiet = await inc('2016-05-30');
    expect((quiet.json as unknown as { late_data: { changed: unknown[]; checked: number } }).late_data).toMatchObject({ changed: [], checked: 4 });

    // A late event for 2016-05-28 lands in its raw file after it was published.
    appendFileSync(join(s.raw, 'exposure.2016-05-28.jsonl'), JSON.stringify({ v: 1, ts: '2016-05-28T23:59:59Z', tenant: 'diginetica', surface: 'web', session_id: 'late', item_id: 'late-item' }) + '\n');
    const found = await inc('2016-05-30');
    expect(found.code, found.stderr).toBe(0);
    const late = (found.json as unknown as { late_data: { changed: { day: string }[]; affected: string[]; republished: string[] } }).late_data;
    expect(late.changed.map((c) => c.day)).toEqual(['2016-05-28']);
    // The 3-day windows ending 05-28, 05-29 and 05-30 contain it.
    expect(late.affected).toEqual(['2016-05-28', '2016-05-29', '2016-05-30']);
    expect(late.republished).toEqual([]);
    expect(found.json.days).toEqual([]);

    const republished = await inc('2016-05-30', '--republish-affected');
    expect(republished.code, republished.stderr).toBe(0);
    expect(republished.json.days.map((d) => d.day)).toEqual(['2016-05-28', '2016-05-29', '2016-05-30']);
    // Every affected window now counts the late event; the live one moved (one history entry), the older ones are recorded.
    for (const day of republished.json.days) {
      const p = readArtifact(day.artifacts.find((a) => a.type === 'popularity')!.uri);
      expect(p.artifact_type === 'popularity' && p.items.find((i) => i.item_id === 'late-item'), day.day).toEqual({ item_id: 'late-item', count: 1 });
    }
    expect(readHistory(registry, 'diginetica', 'web')).toHaveLength(entries + 1);

    // Idempotent: the new fingerprints are recorded, so nothing is affected any more.
    const after = await inc('2016-05-30', '--republish-affected');
    expect((after.json as unknown as { late_data: { changed: unknown[] } }).late_data.changed).toEqual([]);
    expect(after.json.days).toEqual([]);
    expect(readHistory(registry, 'diginetica', 'web')).toHaveLength(entries + 1);
  });

  test('--republish-affected needs --incremental (exit 2)', async () => {
    const s = setup();
    const r = await cli(['run', '--config', s.config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31', '--republish-affected'], { cwd: s.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--republish-affected works with --incremental');
  });
});
