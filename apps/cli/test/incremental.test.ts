// --incremental: the first run needs --start, the checkpoint advances only
// after a day is published, and the next run processes only the new days.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCheckpoint } from '@recsys/contracts';
import { cli, event, readHistory, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];

function setup() {
  const dir = tempDir();
  const config = writeConfig(dir);
  const day = (d: string, items: string[]) =>
    writeRawDay(join(dir, 'raw'), 'demo', 'home', d, items.map((item, i) => event(`s${i % 2}`, item, { ts: `${d}T08:00:0${i}Z` })));
  const checkpoint = () => {
    const path = join(dir, 'out/checkpoints/demo/home.json');
    return existsSync(path) ? parseCheckpoint(JSON.parse(readFileSync(path, 'utf8'))).last_completed_day : undefined;
  };
  return { dir, config, day, checkpoint };
}

describe('--incremental', () => {
  test('the first run needs --start (exit 2, nothing written)', async () => {
    const { dir, config, day } = setup();
    day('2026-01-01', ['A', 'B']);
    const r = await runJson(['--config', config, ...SCOPE, '--end', '2026-01-01', '--incremental'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json.error!.message).toContain('--start');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  test('checkpoint advances day by day, only after each day is published; the next run starts after it', async () => {
    const { dir, config, day, checkpoint } = setup();
    day('2026-01-01', ['A', 'B', 'C']);
    // 2026-01-02's file has no events yet: its day fails the non-empty gate. (No file at all
    // would be "no raw input", exit 2 before day 1 is processed.)
    day('2026-01-02', []);
    const first = await runJson(['--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-02', '--incremental'], { cwd: dir });
    expect(first.code).toBe(3);
    expect(first.json.days.map((d) => d.day)).toEqual(['2026-01-01']);
    expect(checkpoint()).toBe('2026-01-01');

    day('2026-01-02', ['B', 'C']);
    day('2026-01-03', ['C', 'D']);
    const second = await runJson(['--config', config, ...SCOPE, '--end', '2026-01-03', '--incremental'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.days.map((d) => d.day)).toEqual(['2026-01-02', '2026-01-03']);
    expect(checkpoint()).toBe('2026-01-03');
    // --start is ignored once there is a checkpoint.
    const third = await cli(['run', '--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-03', '--incremental'], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('(0 days)');
    expect(third.stdout).toContain('nothing to do: already up to date');
    const third2 = await runJson(['--config', config, ...SCOPE, '--end', '2026-01-03', '--incremental'], { cwd: dir });
    expect(third2.json).toMatchObject({ ok: true, days: [], manifest_uri: null });
    // One history entry per published day.
    expect(readHistory(join(dir, 'out/registry'), 'demo', 'home').map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  test('a crash before the pointer moves leaves the checkpoint where it was; the rerun catches up', async () => {
    const { dir, config, day, checkpoint } = setup();
    day('2026-01-01', ['A', 'B']);
    day('2026-01-02', ['B', 'C']);
    expect((await cli(['run', '--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01', '--incremental'], { cwd: dir })).code).toBe(0);
    const crashed = await cli(['run', '--config', config, ...SCOPE, '--end', '2026-01-02', '--incremental'], { cwd: dir, env: { RECSYS_TEST_KILL_AT: 'pointer' } });
    expect(crashed.signal).toBe('SIGKILL');
    expect(checkpoint()).toBe('2026-01-01');
    const rerun = await runJson(['--config', config, ...SCOPE, '--end', '2026-01-02', '--incremental'], { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json.days.map((d) => d.day)).toEqual(['2026-01-02']);
    expect(checkpoint()).toBe('2026-01-02');
  });

  test('a run without --incremental leaves no checkpoint', async () => {
    const { dir, config, day, checkpoint } = setup();
    day('2026-01-01', ['A', 'B']);
    expect((await cli(['run', '--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir })).code).toBe(0);
    expect(checkpoint()).toBeUndefined();
  });

  test('limits.max_days_backfill bounds an incremental catch-up too (exit 4)', async () => {
    const { dir, day } = setup();
    day('2026-01-01', ['A', 'B']);
    const limited = writeConfig(dir, { limits: { max_days_backfill: 2 } }, 'limited.json');
    const r = await runJson(['--config', limited, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-05', '--incremental'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.json.error).toMatchObject({ context: { limit: 'max_days_backfill', observed: 5, config_key: 'limits.max_days_backfill' } });
  });
});
