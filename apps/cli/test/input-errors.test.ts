// Errors that point at the fix: a missing raw folder/object is "no input"
// (exit 2, naming the location and the setting, nothing written), unlike an
// input with no events for the scope (the non_empty gate, exit 3); backfills
// can skip such days on request (--skip-empty-days, reported); impossible
// dates and too-long ranges say what to do; a blob the service would refuse
// is never published (limits.max_artifact_bytes, exit 3).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, copyTiny, event, readHistory, readManifest, runJson, snapshot, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];
const DAY = [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'];

describe('no raw input at all: exit 2, naming where, nothing written', () => {
  test('missing raw folder (run and job-mode ingest)', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const before = snapshot(dir);
    for (const command of ['run', 'ingest']) {
      const r = await cli([command, '--config', config, ...DAY], { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`recsys-pipelines: no raw input for 2026-01-01 under ${join(dir, 'raw')}/demo/home (raw_events_dir)`);
      expect(snapshot(dir), command).toEqual(before);
    }
    const json = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(json.json.error).toMatchObject({ kind: 'usage', exit_code: 2, context: { days: ['2026-01-01'], location: `${join(dir, 'raw')}/demo/home`, config_key: 'raw_events_dir' } });
  });

  test('a missing day in a backfill fails before the first day writes; --skip-empty-days skips and reports it', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-03', [event('s1', 'A', { ts: '2026-01-03T10:00:00Z' }), event('s1', 'B', { ts: '2026-01-03T10:00:01Z' })]);
    const config = writeConfig(dir);
    const range = [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-03'];
    const before = snapshot(dir);
    const r = await cli(['run', '--config', config, ...range], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no raw input for 2026-01-02 under');
    expect(r.stderr).toContain('--skip-empty-days');
    expect(snapshot(dir)).toEqual(before);

    const skip = await runJson(['--config', config, ...range, '--skip-empty-days'], { cwd: dir });
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.json.days.map((d) => d.day)).toEqual(['2026-01-01', '2026-01-03']);
    expect((skip.json as unknown as { skipped_days: unknown[] }).skipped_days).toEqual([{ day: '2026-01-02', reason: 'no_raw_input', detail: `no raw input under ${join(dir, 'raw')}/demo/home` }]);
    expect(readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current.popularity).toBe(skip.json.days[1]!.artifacts[0]!.uri);
  });

  test('--skip-empty-days also skips a day whose input has no events for the scope; without it that is the non_empty gate (exit 3)', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z', tenant: 'other' })]);
    const config = writeConfig(dir);
    const range = [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-02'];
    const gate = await runJson(['--config', config, ...range], { cwd: dir });
    expect(gate.code).toBe(3);
    expect(gate.json.error).toMatchObject({ context: { gate: 'non_empty' } });
    const skip = await cli(['run', '--config', config, ...range, '--skip-empty-days'], { cwd: dir });
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.stdout).toMatch(/2026-01-02 {2}skipped \(--skip-empty-days\): no events for demo\/home \(read 1 lines, 1 of other tenants\/surfaces/);
  });
});

describe('window flags that point at the fix', () => {
  test('--start 2026-02-30 is not a calendar date; a malformed day gets the format message', async () => {
    const dir = tempDir();
    const bad = await cli(['run', ...SCOPE, '--start', '2026-02-30', '--end', '2026-03-01'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('recsys-pipelines: --start 2026-02-30 is not a calendar date (2026-02 has 28 days)');
    const month = await cli(['run', ...SCOPE, '--start', '2026-13-01', '--end', '2026-03-01'], { cwd: dir });
    expect(month.stderr).toContain('--start 2026-13-01 is not a calendar date (there is no month 13)');
    const shape = await cli(['run', ...SCOPE, '--start', '2026-2-3', '--end', '2026-03-01'], { cwd: dir });
    expect(shape.stderr).toContain('--start must be a UTC day YYYY-MM-DD (got "2026-2-3")');
  });

  test('max_days_backfill suggests splitting the range or --incremental', async () => {
    const dir = tempDir();
    const r = await cli(['run', '--config', writeConfig(dir, { limits: { max_days_backfill: 2 } }), ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-05'], { cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('split the range into runs of at most 2 days (e.g. --start 2026-01-01 --end 2026-01-02), use --incremental');
  });
});

describe('limits.max_artifact_bytes (recsys-service RECSYS_ARTIFACT_MAX_BYTES)', () => {
  test('a blob over the limit is not published (exit 3, naming size, limit and the service setting); 0 = no limit', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const small = writeConfig(dir, { limits: { max_artifact_bytes: 500 } }, 'small.json');
    const r = await runJson(['--config', small, ...DAY], { cwd: dir });
    expect(r.code).toBe(3);
    // popularity is 476 bytes, cooc 552 (compact blobs): the day publishes nothing.
    expect(r.json.error).toMatchObject({ kind: 'validation', context: { gate: 'artifact_bytes', type: 'cooc', bytes: 552, allowed: 500, config_key: 'limits.max_artifact_bytes', service_setting: 'RECSYS_ARTIFACT_MAX_BYTES' } });
    expect(r.stderr).toContain('the blob is 552 bytes, over limits.max_artifact_bytes 500');
    expect(r.stderr).toContain('RECSYS_ARTIFACT_MAX_BYTES');
    expect(existsSync(join(dir, 'out/objectstore'))).toBe(false);
    expect(readHistory(join(dir, 'out/registry'), 'demo', 'home')).toEqual([]);
    // Job mode: compute stages it, publish refuses it the same way.
    for (const step of [['ingest'], ['compute', 'popularity', 'cooc']]) expect((await cli([...step, '--config', small, ...DAY], { cwd: dir })).code).toBe(0);
    const publish = await cli(['publish', '--config', small, ...DAY], { cwd: dir });
    expect(publish.code).toBe(3);
    expect(publish.stderr).toContain('over limits.max_artifact_bytes 500');
    expect(existsSync(join(dir, 'out/objectstore'))).toBe(false);

    const unlimited = await runJson(['--config', writeConfig(dir, { limits: { max_artifact_bytes: 0 } }, 'unlimited.json'), ...DAY], { cwd: dir });
    expect(unlimited.code, unlimited.stderr).toBe(0);
    expect(unlimited.json.days[0]!.artifacts.map((a) => a.bytes)).toEqual([476, 552]);
  });
});
