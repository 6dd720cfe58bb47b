// Sharded runs through the built binary: n shard processes running at the
// same time against one store (separate OS processes) → merge → publish give
// the same bytes as the single-process `run`; merge refuses (exit 2) any set
// of partials that is not exactly one complete, consistent set.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SAMPLE_RAW, checkRegistry, cli, readManifest, tempDir, writeConfig, type CliResult } from './helpers.js';

const NOW = { RECSYS_TEST_NOW: '2026-02-03T04:05:06Z' };

/** Deterministic synthetic day: skewed item popularity, sessions of 1–12 events, a few exact duplicates. */
function syntheticDay(day: string, events: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const lines: string[] = [];
  let session = 0;
  while (lines.length < events) {
    session++;
    const length = 1 + Math.floor(next() * 12);
    for (let k = 0; k < length && lines.length < events; k++) {
      const item = `item-${Math.floor(next() ** 2 * 800)}`;
      const sec = Math.floor(next() * 86_400);
      const ts = new Date(Date.parse(`${day}T00:00:00Z`) + sec * 1000).toISOString().replace('.000Z', 'Z');
      const line = JSON.stringify({ v: 1, ts, tenant: 'big', surface: 'home', session_id: `sess-${session}`, item_id: item, ...(session % 3 === 0 ? { user_id: `u${session % 97}` } : {}) });
      lines.push(line);
      if (next() < 0.01) lines.push(line);
    }
  }
  return lines;
}

async function ok(args: string[], cwd: string, env: Record<string, string> = NOW): Promise<CliResult> {
  const r = await cli(args, { cwd, env });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

/** Files under `dir` → content, with `root` replaced so two folders compare. */
function tree(dir: string, root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      if (name.isDirectory()) walk(join(d, name.name), `${rel}${name.name}/`);
      else out[`${rel}${name.name}`] = readFileSync(join(d, name.name), 'utf8').replaceAll(root, '<root>');
    }
  };
  if (existsSync(dir)) walk(dir, '');
  return out;
}

describe('n shard processes at once → merge → publish ≡ run', () => {
  test('4 concurrent shard processes (both --shard i/n and --shard-count n + JOB_COMPLETION_INDEX) stage and publish the same bytes', async () => {
    const days = ['2026-04-01', '2026-04-02'];
    const setup = () => {
      const dir = tempDir('recsys-shards-');
      days.forEach((day, i) => {
        const path = join(dir, 'raw/big/home', `exposure.${day}.jsonl`);
        mkdirSync(join(dir, 'raw/big/home'), { recursive: true });
        writeFileSync(path, syntheticDay(day, 12_000, 42 + i).join('\n') + '\n{"v":1,"ts":"not a time","tenant":"big","surface":"home","session_id":"s","item_id":"i"}\n');
      });
      // Limits that truncate, so the merge must apply them exactly like the single-process path.
      const config = writeConfig(dir, { limits: { min_cooc_support: 2, max_neighbors_per_item: 7, max_items_per_artifact: 300, max_bad_event_ratio: 0.01 } });
      return { dir, config };
    };
    const single = setup();
    const sharded = setup();
    const window = ['--tenant', 'big', '--surface', 'home', '--start', days[0]!, '--end', days[1]!];

    await ok(['run', '--config', single.config, ...window], single.dir);

    const n = 4;
    const c = ['--config', sharded.config, ...window];
    // Even shards name themselves; odd ones get the index the way a Kubernetes Indexed Job does.
    const shardOf = (i: number) => (i % 2 === 0 ? ['--shard', `${i}/${n}`] : ['--shard-count', String(n)]);
    const envOf = (i: number) => ({ ...NOW, JOB_COMPLETION_INDEX: String(i) });
    // n ingest tasks at once (each reads its part of the raw input), then n compute tasks at once (each reads its bucket of every part).
    await Promise.all(Array.from({ length: n }, (_, i) => ok(['ingest', ...c, ...shardOf(i)], sharded.dir, envOf(i))));
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        await ok(['validate', ...c, ...shardOf(i)], sharded.dir, envOf(i));
        await ok(['compute', 'popularity', 'cooc', ...c, ...shardOf(i)], sharded.dir, envOf(i));
      }),
    );
    const partials = readdirSync(join(sharded.dir, 'out/objectstore/big/home/_partials/default/cooc/2026-04-01_2026-04-02')).sort();
    expect(partials).toEqual(['0-of-4.json', '1-of-4.json', '2-of-4.json', '3-of-4.json']);
    const merge = await ok(['merge', 'popularity', 'cooc', '--json', '--shard-count', String(n), ...c], sharded.dir);
    expect((JSON.parse(merge.stdout) as { days: { shards: number }[] }).days.map((d) => d.shards)).toEqual([4, 4]);
    await ok(['publish', ...c], sharded.dir);

    // Staged artifacts (blob + built_at claim + marker) and published blobs: byte-identical. Staged metadata and
    // records list the inputs, which are the four shard partitions instead of one.
    const staged = (dir: string) => Object.fromEntries(Object.entries(tree(join(dir, 'out/artifacts/big/home/default'), dir)).filter(([k]) => !k.endsWith('.meta.json')));
    expect(Object.keys(staged(single.dir))).toHaveLength(12);
    expect(staged(sharded.dir)).toEqual(staged(single.dir));
    const blobs = (dir: string) => Object.fromEntries(Object.entries(tree(join(dir, 'out/objectstore/big/home'), dir)).filter(([k]) => !k.startsWith('_partials/')));
    expect(Object.keys(blobs(single.dir))).toHaveLength(4);
    expect(blobs(sharded.dir)).toEqual(blobs(single.dir));
    expect(tree(join(sharded.dir, 'out/quarantine'), sharded.dir)).toEqual(tree(join(single.dir, 'out/quarantine'), single.dir));
    const manifest = (dir: string) => readManifest(join(dir, 'out/registry'), 'big', 'home')!.current;
    expect(JSON.stringify(manifest(sharded.dir)).replaceAll(sharded.dir, '')).toBe(JSON.stringify(manifest(single.dir)).replaceAll(single.dir, ''));
    const record = JSON.parse(readFileSync(join(sharded.dir, 'out/registry/records/big/home/cooc', readdirSync(join(sharded.dir, 'out/registry/records/big/home/cooc'))[0]!), 'utf8')) as { inputs: { uri: string }[] };
    expect(record.inputs.map((i) => i.uri.split('/').at(-1)!.replace(/^\d{4}-\d\d-\d\d/, 'DAY'))).toEqual([0, 1, 2, 3].map((i) => `DAY.shard-${i}-of-4.jsonl`));
    await checkRegistry(join(sharded.dir, 'out/registry'), 'big', 'home');
  });
});

describe('merge refuses inconsistent partials (exit 2, nothing staged)', () => {
  const DAY = ['--tenant', 'diginetica', '--surface', 'web', '--start', '2016-05-31', '--end', '2016-05-31'];
  const PARTIALS = 'out/objectstore/diginetica/web/_partials/default/popularity/2016-05-31_2016-06-01';

  /** Three shards of 2016-05-31 (popularity), computed; returns the folder and config. */
  async function threeShards(): Promise<{ dir: string; config: string; partials: string }> {
    const dir = tempDir('recsys-merge-');
    mkdirSync(join(dir, 'raw/diginetica/web'), { recursive: true });
    for (const day of ['2016-05-30', '2016-05-31']) cpSync(join(SAMPLE_RAW, `diginetica/web/exposure.${day}.jsonl`), join(dir, `raw/diginetica/web/exposure.${day}.jsonl`));
    const config = writeConfig(dir);
    for (let i = 0; i < 3; i++) await ok(['ingest', '--config', config, ...DAY, '--shard', `${i}/3`], dir);
    for (let i = 0; i < 3; i++) await ok(['compute', 'popularity', '--config', config, ...DAY, '--shard', `${i}/3`], dir);
    return { dir, config, partials: join(dir, PARTIALS) };
  }

  async function refused(dir: string, config: string, extra: string[] = []): Promise<string> {
    const r = await cli(['merge', 'popularity', '--config', config, ...DAY, ...extra], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('refusing to merge the partials');
    expect(existsSync(join(dir, 'out/artifacts/diginetica/web/default'))).toBe(false);
    return r.stderr;
  }

  test('the complete set merges', async () => {
    const { dir, config } = await threeShards();
    await ok(['merge', 'popularity', '--config', config, ...DAY, '--shard-count', '3'], dir);
    await ok(['merge', 'popularity', '--config', config, ...DAY], dir);
  });

  test('a missing shard', async () => {
    const { dir, config, partials } = await threeShards();
    rmSync(join(partials, '1-of-3.json'));
    expect(await refused(dir, config)).toContain('missing shard 1 of 3');
    rmSync(join(partials, '0-of-3.json'));
    rmSync(join(partials, '2-of-3.json'));
    expect(await refused(dir, config, ['--shard-count', '3'])).toContain('no partials found (expected 3)');
  });

  test('a duplicate shard (a partial copied under another name)', async () => {
    const { dir, config, partials } = await threeShards();
    cpSync(join(partials, '0-of-3.json'), join(partials, '1-of-3.json'));
    const stderr = await refused(dir, config);
    expect(stderr).toContain('duplicate shard 0: 0-of-3.json and 1-of-3.json both hold it');
    expect(stderr).toContain('partial 1-of-3.json holds shard 0/3, not 1/3 as its name says');
    expect(stderr).toContain('missing shard 1 of 3');
  });

  test('mismatched n (stale partials of an earlier 2-way run)', async () => {
    const { dir, config } = await threeShards();
    for (const part of ['0/2', '1/2']) await ok(['ingest', '--config', config, ...DAY, '--shard', part], dir);
    await ok(['compute', 'popularity', '--config', config, ...DAY, '--shard', '0/2'], dir);
    expect(await refused(dir, config)).toContain('mismatched n: the partials disagree on the shard count (2 vs 3)');
    expect(await refused(dir, config, ['--shard-count', '3'])).toContain('mismatched n: partial 0-of-2.json is shard 0 of 2, expected 3 shards');
    expect(await refused(dir, config, ['--shard-count', '4'])).toContain('missing shards 0, 1, 2, 3 of 4');
  });

  test('a mismatched window (a partial of another day)', async () => {
    const { dir, config, partials } = await threeShards();
    const other = ['--tenant', 'diginetica', '--surface', 'web', '--start', '2016-05-30', '--end', '2016-05-30'];
    for (let i = 0; i < 3; i++) await ok(['ingest', '--config', config, ...other, '--shard', `${i}/3`], dir);
    await ok(['compute', 'popularity', '--config', config, ...other, '--shard', '2/3'], dir);
    cpSync(join(dir, 'out/objectstore/diginetica/web/_partials/default/popularity/2016-05-30_2016-05-31/2-of-3.json'), join(partials, '2-of-3.json'));
    expect(await refused(dir, config)).toContain('mismatched window: partial 2-of-3.json covers 2016-05-30T00:00:00Z..2016-05-31T00:00:00Z, expected 2016-05-31T00:00:00Z..2016-06-01T00:00:00Z');
  });

  test('a mismatched config hash (a shard computed with other limits, or a merge with other limits)', async () => {
    const { dir, config } = await threeShards();
    const other = writeConfig(dir, { limits: { max_items_per_artifact: 5 } }, 'other.json');
    await ok(['compute', 'popularity', '--config', other, ...DAY, '--shard', '2/3'], dir);
    const stderr = await refused(dir, config);
    expect(stderr).toContain('mismatched config hash: partial 2-of-3.json was computed with max_items_per_artifact=5');
    expect(stderr).toContain('this merge uses max_items_per_artifact=1000');
    const merged = await refused(dir, other);
    expect(merged).toContain('partial 0-of-3.json was computed with max_items_per_artifact=1000');
  });

  test('shards that read different raw input', async () => {
    const { dir, config } = await threeShards();
    appendFileSync(join(dir, 'raw/diginetica/web/exposure.2016-05-31.jsonl'), '{"v":1,"ts":"2016-05-31T23:00:00Z","tenant":"diginetica","surface":"web","session_id":"late","item_id":"x"}\n');
    // One ingest part re-read the changed input: compute refuses the parts (exit 2), naming them.
    await ok(['ingest', '--config', config, ...DAY, '--shard', '1/3'], dir);
    const parts = await cli(['compute', 'popularity', '--config', config, ...DAY, '--shard', '1/3'], { cwd: dir });
    expect(parts.code, parts.stderr).toBe(2);
    expect(parts.stderr).toContain('the ingest parts read different raw input');
    // Every part re-read it but only shard 1 was recomputed: the merge refuses the partials.
    for (const part of ['0/3', '2/3']) await ok(['ingest', '--config', config, ...DAY, '--shard', part], dir);
    await ok(['compute', 'popularity', '--config', config, ...DAY, '--shard', '1/3'], dir);
    expect(await refused(dir, config)).toContain('the shards ingested different raw input (lines read: shard 0: 251, shard 1: 252, shard 2: 251)');
  });

  test('--json reports the refusal as a usage error', async () => {
    const { dir, config, partials } = await threeShards();
    rmSync(join(partials, '2-of-3.json'));
    const r = await cli(['merge', 'popularity', '--json', '--config', config, ...DAY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, command: 'merge', error: { kind: 'usage', exit_code: 2 } });
  });
});

describe('sharded steps: flags and guardrails', () => {
  test('compute --shard of a type that cannot be sharded, merge --shard, and a bad JOB_COMPLETION_INDEX are usage errors', async () => {
    const dir = tempDir('recsys-shardflags-');
    const day = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
    const implicit = await cli(['compute', 'implicit', ...day, '--shard', '0/2'], { cwd: dir });
    expect(implicit.code).toBe(2);
    expect(implicit.stderr).toContain('implicit cannot be computed in shards');
    const merge = await cli(['merge', 'popularity', ...day, '--shard', '0/2'], { cwd: dir });
    expect(merge.code).toBe(2);
    const index = await cli(['ingest', ...day, '--shard-count', '3'], { cwd: dir, env: { JOB_COMPLETION_INDEX: '3' } });
    expect(index.code).toBe(2);
    expect(index.stderr).toContain('JOB_COMPLETION_INDEX must be an integer from 0 to 2');
    const none = await cli(['ingest', ...day, '--shard-count', '3'], { cwd: dir, env: { JOB_COMPLETION_INDEX: undefined } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('needs the shard index in JOB_COMPLETION_INDEX');
    expect(existsSync(join(dir, '.out'))).toBe(false);
  });

  test('max_items_per_session trips in the shard that holds the session (exit 4), as in the single-process run', async () => {
    const dir = tempDir('recsys-shardlimit-');
    const lines = ['A', 'B', 'C', 'D'].map((item) => JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: 'big', item_id: item }));
    mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
    writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), lines.join('\n') + '\n');
    const config = writeConfig(dir, { limits: { max_items_per_session: 3 } });
    const day = ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
    const run = await cli(['run', ...day], { cwd: dir });
    expect(run.code).toBe(4);
    const codes: number[] = [];
    for (let i = 0; i < 2; i++) await ok(['ingest', ...day, '--shard', `${i}/2`], dir);
    for (let i = 0; i < 2; i++) {
      // One of the two shards is empty: that is fine for a shard (the merge checks the whole day).
      await ok(['validate', ...day, '--shard', `${i}/2`], dir);
      codes.push((await cli(['compute', 'cooc', ...day, '--shard', `${i}/2`], { cwd: dir })).code!);
    }
    // "big" hashes to one shard: that one trips, the other (empty) shard passes.
    expect(codes.sort()).toEqual([0, 4]);
  });

  test('compute --shard without validate (the k8s job shape) applies the canonical gate and the limits and reports what it checked', async () => {
    const dir = tempDir('recsys-shardgates-');
    mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
    const good = Array.from({ length: 20 }, (_, k) => JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: `s${k % 5}`, item_id: `i${k % 7}` }));
    const raw = join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl');
    const day = (config: string) => ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
    const partials = () => readdirSync(join(dir, 'out'), { recursive: true }).map(String).filter((f) => f.includes('_partials') && f.endsWith('-of-2.json'));

    // 3 bad lines of 23 is over max_bad_event_ratio 0.1: every shard refuses (exit 3) and writes no partial.
    writeFileSync(raw, [...good, 'not json', '{"v":1}', '{'].join('\n') + '\n');
    const strict = day(writeConfig(dir, { limits: { max_bad_event_ratio: 0.1 } }));
    for (let i = 0; i < 2; i++) await ok(['ingest', ...strict, '--shard', `${i}/2`], dir);
    for (let i = 0; i < 2; i++) {
      const r = await cli(['compute', 'popularity', 'cooc', ...strict, '--shard', `${i}/2`], { cwd: dir });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('max_bad_event_ratio');
    }
    expect(partials()).toEqual([]);

    // A per-run limit is checked on the shard's events (exit 4), as validate --shard would.
    writeFileSync(raw, good.join('\n') + '\n');
    const limited = day(writeConfig(dir, { limits: { max_distinct_items_per_run: 2 } }));
    for (let i = 0; i < 2; i++) await ok(['ingest', ...limited, '--shard', `${i}/2`], dir);
    const codes: number[] = [];
    for (let i = 0; i < 2; i++) codes.push((await cli(['compute', 'popularity', ...limited, '--shard', `${i}/2`], { cwd: dir })).code!);
    expect(codes).toContain(4);

    // Within the gates: each shard says what it checked (the report validate --shard prints), and the counts add up.
    const config = day(writeConfig(dir));
    for (let i = 0; i < 2; i++) await ok(['ingest', ...config, '--shard', `${i}/2`], dir);
    let events = 0;
    for (let i = 0; i < 2; i++) {
      const text = await ok(['compute', 'popularity', 'cooc', ...config, '--shard', `${i}/2`], dir);
      expect(text.stdout).toMatch(/2026-01-01 {2}ok {2}\d+ events {2}\d+ sessions {2}\d+ items {2}rejected 0\/20 lines/);
      const json = JSON.parse((await ok(['compute', 'popularity', 'cooc', '--json', ...config, '--shard', `${i}/2`], dir)).stdout) as { days: { validated: { counts: { accepted: number }; canonical: { events: number; sessions: number; items: number } } }[] };
      const v = json.days[0]!.validated;
      expect(v.counts.accepted).toBe(v.canonical.events);
      events += v.canonical.events;
    }
    expect(events).toBe(20);
    expect(partials().length).toBe(4); // popularity and cooc of 2 shards
  });

  test('a day without events passes every shard but fails the non-empty gate at the merge (exit 3)', async () => {
    const dir = tempDir('recsys-shardempty-');
    mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
    const other = JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'other', surface: 'home', session_id: 's', item_id: 'A' });
    writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), `${other}\n`);
    const config = writeConfig(dir);
    const day = ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
    expect((await cli(['run', ...day], { cwd: dir })).code).toBe(3);
    for (let i = 0; i < 2; i++) await ok(['ingest', ...day, '--shard', `${i}/2`], dir);
    for (let i = 0; i < 2; i++) {
      await ok(['validate', ...day, '--shard', `${i}/2`], dir);
      await ok(['compute', 'popularity', ...day, '--shard', `${i}/2`], dir);
    }
    const merge = await cli(['merge', 'popularity', ...day], { cwd: dir });
    expect(merge.code).toBe(3);
    expect(merge.stderr).toContain('validation gate "non_empty" failed: day 2026-01-01: no events');
  });
});
