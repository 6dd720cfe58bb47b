// Every exit code of `run` through the built binary (docs/reference/exit-codes.md):
// 0 ok · 1 runtime failure · 2 usage/config error · 3 validation gate · 4 limit.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { GO_VERSIONS, cli, copyTiny, event, readHistory, runJson, snapshot, tempDir, writeConfig, writeJson, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];
const DAY = [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'];

describe('exit 0', () => {
  test('a successful run', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const r = await runJson(['--config', writeConfig(dir), ...DAY], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.ok).toBe(true);
  });

  // bin.js exits without the heap's teardown once nothing is left to run: never before work another
  // 'beforeExit' listener started (here a preload's, registered before bin.js's own).
  test('the process ends only after work started at beforeExit, with the command\'s exit code and an exit listener run', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const preload = join(dir, 'late.cjs');
    writeFileSync(
      preload,
      "process.once('beforeExit', () => setTimeout(() => process.stderr.write('late work done\\n'), 50));\nprocess.on('exit', (code) => process.stderr.write(`exit listener ${code}\\n`));\n",
    );
    const ok = await runJson(['--config', writeConfig(dir), ...DAY], { cwd: dir, env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.ok).toBe(true);
    expect(ok.stderr).toContain('late work done\nexit listener 0\n');
    const usage = await cli(['run', '--config', writeConfig(dir), ...SCOPE, '--start', 'yesterday'], { cwd: dir, env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('late work done\nexit listener 2\n');
  });

  test('--help and --version', async () => {
    const dir = tempDir();
    for (const args of [['--help'], ['run', '--help'], ['--version'], ['version']]) {
      const r = await cli(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout.length).toBeGreaterThan(0);
    }
  });
});

describe('exit 1: runtime failures', () => {
  test('an existing blob at the version’s key with other content: integrity error, pointer untouched', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    expect((await cli(['run', '--config', config, ...DAY], { cwd: dir })).code).toBe(0);
    const blob = join(dir, `out/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`);
    writeFileSync(blob, readFileSync(blob, 'utf8').replace(/"count": ?2/, (m) => m.replace('2', '3')));
    const registryBefore = snapshot(join(dir, 'out/registry'));

    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ kind: 'integrity', exit_code: 1 });
    expect(r.json.error!.message).toContain(`${GO_VERSIONS.popularity}.json`);
    expect(r.stderr).toContain('recsys-pipelines: ');
    expect(snapshot(join(dir, 'out/registry'))).toEqual(registryBefore);
  });

  test('a canonical partition that reads back other bytes than were written: integrity error, nothing of the day replaced or published', async () => {
    // `run` computes while the partition's write check runs; the check's failure must still stop the day before
    // its report, staging or publish, with the error the check gives.
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    expect((await cli(['run', '--config', config, ...DAY], { cwd: dir })).code).toBe(0);
    // Another day's worth of input, so a run that went through would replace the partition and publish new versions.
    writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), JSON.stringify(event('s9', 'Z', { ts: '2026-01-01T23:00:00Z' })) + '\n', { flag: 'a' });
    const before = snapshot(join(dir, 'out'));

    const r = await runJson(['--config', config, ...DAY], { cwd: dir, env: { RECSYS_TEST_FLIP_CANONICAL_BYTE: '1' } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.json.error).toMatchObject({ kind: 'integrity', exit_code: 1 });
    const partition = join(dir, 'out/canonical/demo/home/exposures/2026-01-01.jsonl');
    expect(r.json.error!.message).toMatch(new RegExp(`^write check failed: ${partition} reads back sha256 [0-9a-f]{64}, [0-9a-f]{64} was written; nothing was replaced$`));
    expect(snapshot(join(dir, 'out'))).toEqual(before);
  });

  test('a raw .gz file that is not gzip: runtime error naming the file', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
    writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl.gz'), 'this is not gzip');
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ kind: 'runtime', exit_code: 1 });
    expect(r.json.error!.message).toContain('exposure.2026-01-01.jsonl.gz');
  });

  test('a corrupt manifest: integrity error naming it', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    expect((await cli(['run', '--config', config, ...DAY], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'out/registry/history/demo/home/000000000001.json'), '{"v":1,');
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.json.error!.message).toContain('000000000001.json');
  });

  test('gzip input is read like plain input (the control for the case above)', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const lines = [event('s1', 'A'), event('s1', 'B'), event('s2', 'A')].map((e) => JSON.stringify(e)).join('\n');
    mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
    writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl.gz'), gzipSync(lines));
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.days[0]!.counts.accepted).toBe(3);
  });
});

describe('exit 2: usage and config errors', () => {
  test.each([
    ['an unknown flag', [...DAY, '--bogus']],
    ['a missing --end', [...SCOPE, '--start', '2026-01-01']],
    ['a missing --tenant', ['--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01']],
    ['an invalid day', [...SCOPE, '--start', '2026-13-01', '--end', '2026-13-01']],
    ['--start after --end', [...SCOPE, '--start', '2026-01-02', '--end', '2026-01-01']],
    ['no --start and no --incremental', [...SCOPE, '--end', '2026-01-01']],
    ['an unknown artifact type', [...DAY, '--artifacts', 'popularity,bogus']],
    ['an unknown log level', [...DAY, '--log-level', 'loud']],
    ['an unknown command', ['frobnicate']],
  ])('%s', async (_name, args) => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    const before = snapshot(dir);
    const r = await cli(args[0] === 'frobnicate' ? args : ['run', '--config', config, ...args], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(snapshot(dir)).toEqual(before);
  });

  test('the unknown artifact type is named, with the supported ones', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const r = await runJson(['--config', writeConfig(dir), ...DAY, '--artifacts', 'popularity,bogus'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json.error!.message).toContain('bogus');
    expect(r.json.error!.message).toContain('popularity');
  });

  test.each([
    ['a typo inside limits', { limits: { max_itmes_per_session: 3 } }, 'limits.max_itmes_per_session'],
    ['a negative limit', { limits: { max_items_per_session: -1 } }, 'limits.max_items_per_session'],
    ['a ratio above 1', { limits: { max_bad_event_ratio: 2 } }, 'limits.max_bad_event_ratio'],
    ['a wrong type', { out_dir: 5 }, 'out_dir'],
    ['an unknown artifact kind in config', { artifact_kinds: ['popularity', 'bogus'] }, 'bogus'],
    ['a typo inside object_store', { object_store: { type: 'fs', dri: './x' } }, 'object_store.dri'],
  ])('config with %s names the key', async (_name, extra, key) => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir, extra);
    const before = snapshot(dir);
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error!.message).toContain(key);
    expect(r.stderr).toContain(key);
    expect(snapshot(dir)).toEqual(before);
  });

  test.each([
    ['a missing config file', (dir: string) => join(dir, 'nope.json'), 'nope.json'],
    ['a config that is not JSON', (dir: string) => (writeFileSync(join(dir, 'bad.json'), '{out_dir:'), join(dir, 'bad.json')), 'bad.json'],
    ['a config without raw input', (dir: string) => writeJson(dir, 'c.json', { out_dir: './out' }), 'raw_events_dir'],
  ])('%s', async (_name, make, needle) => {
    const dir = tempDir();
    const r = await runJson(['--config', make(dir), ...DAY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json.error!.message).toContain(needle);
  });
});

describe('exit 3: a validation gate blocked publishing', () => {
  test('too many rejected lines', async () => {
    const dir = tempDir();
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [event('s1', 'A'), '{broken']);
    const r = await runJson(['--config', writeConfig(dir), ...DAY], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.json.error).toMatchObject({ kind: 'validation', context: { gate: 'max_bad_event_ratio' } });
    expect(readHistory(join(dir, 'out/registry'), 'demo', 'home')).toEqual([]);
  });

  test('a day without events for this tenant/surface', async () => {
    const dir = tempDir();
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [event('s1', 'A', { tenant: 'other' })]);
    const r = await runJson(['--config', writeConfig(dir), ...DAY], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.json.error).toMatchObject({ kind: 'validation', context: { gate: 'non_empty' } });
  });
});

describe('exit 4: a guardrail limit tripped', () => {
  test('limits.max_items_per_session names the limit, the observed value and the config key', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const r = await runJson(['--config', writeConfig(dir, { limits: { max_items_per_session: 1 } }), ...DAY], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.json.error).toMatchObject({ kind: 'limit', exit_code: 4, context: { limit: 'max_items_per_session', observed: 2, allowed: 1, config_key: 'limits.max_items_per_session' } });
    for (const text of [r.json.error!.message, r.stderr]) {
      expect(text).toContain('max_items_per_session');
      expect(text).toContain('observed 2');
      expect(text).toContain('limits.max_items_per_session');
    }
    expect(readHistory(join(dir, 'out/registry'), 'demo', 'home')).toEqual([]);
  });

  test('limits.max_days_backfill bounds the range before anything is read', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir, { limits: { max_days_backfill: 2 } });
    const before = snapshot(dir);
    const r = await runJson(['--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-03'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.json.error).toMatchObject({ kind: 'limit', context: { limit: 'max_days_backfill', observed: 3, allowed: 2, config_key: 'limits.max_days_backfill' } });
    expect(snapshot(dir)).toEqual(before);
  });

  test('limits.max_events_per_run', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const r = await runJson(['--config', writeConfig(dir, { limits: { max_events_per_run: 4 } }), ...DAY], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.json.error).toMatchObject({ context: { limit: 'max_events_per_run', config_key: 'limits.max_events_per_run' } });
  });
});
