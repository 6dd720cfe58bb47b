// Re-running an older day must not silently move the served pointer back
// (DESIGN §5.5): by default its versions are stored and recorded while the
// newer window stays live, and the summary says so; --move-pointer-back does
// it deliberately, audited in history. Also: an identical rerun appends no
// history entry, and job-mode publish behaves like run.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, copyTiny, event, readHistory, readManifest, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];
const DAY1 = ['--start', '2026-01-01', '--end', '2026-01-01'];
const DAY2 = ['--start', '2026-01-02', '--end', '2026-01-02'];

function workspace() {
  const dir = tempDir();
  copyTiny(dir);
  writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z' }), event('s1', 'B', { ts: '2026-01-02T10:00:01Z' }), event('s2', 'C', { ts: '2026-01-02T11:00:00Z' })]);
  const config = writeConfig(dir);
  return { dir, config, registry: join(dir, 'out/registry'), opts: { cwd: dir } };
}

describe('an older day does not move the live pointer back', () => {
  test('default: stored + recorded, pointer kept, summary and --json say so; --move-pointer-back moves it, audited', async () => {
    const w = workspace();
    expect((await cli(['run', '--config', w.config, ...SCOPE, ...DAY1], w.opts)).code).toBe(0);
    const day2 = await runJson(['--config', w.config, ...SCOPE, ...DAY2], w.opts);
    expect(day2.code, day2.stderr).toBe(0);
    const live = readManifest(w.registry, 'demo', 'home')!.current;

    // Make 2026-01-01 produce new versions (one more session), then rerun it.
    writeRawDay(join(w.dir, 'raw'), 'demo', 'home', '2026-01-01', [event('s1', 'A'), event('s1', 'B'), event('s9', 'Z'), event('s9', 'A')]);
    const again = await cli(['run', '--config', w.config, ...SCOPE, ...DAY1], w.opts);
    expect(again.code, again.stderr).toBe(0);
    expect(readManifest(w.registry, 'demo', 'home')!.current).toEqual(live);
    expect(readHistory(w.registry, 'demo', 'home')).toHaveLength(2);
    expect(again.stdout).toMatch(/popularity +[0-9a-f]{12} .*new blob +kept 2026-01-02 live; 2026-01-01 recorded/);
    expect(again.stdout).toMatch(/cooc +[0-9a-f]{12} .*kept 2026-01-02 live; 2026-01-01 recorded/);

    // The versions were stored and recorded: the JSON names them and where the pointer stayed.
    const json = await runJson(['--config', w.config, ...SCOPE, ...DAY1], w.opts);
    expect(json.code, json.stderr).toBe(0);
    const artifacts = json.json.days[0]!.artifacts;
    expect(artifacts.map((a) => [a.key, a.pointer, a.live_day, a.new_blob])).toEqual([
      ['popularity', 'kept', '2026-01-02', false],
      ['cooc', 'kept', '2026-01-02', false],
    ]);
    expect(json.json.days[0]!.pointer_moved).toBe(false);
    for (const a of artifacts) {
      expect(existsSync(join(w.dir, `out/objectstore/demo/home/${a.type}/${a.version}.json`))).toBe(true);
      expect(existsSync(join(w.registry, `records/demo/home/${a.type}/${a.version}.json`))).toBe(true);
    }

    // Deliberately: the pointer moves back, and history says it was asked for.
    const back = await cli(['run', '--config', w.config, ...SCOPE, ...DAY1, '--move-pointer-back'], w.opts);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/moved back to 2026-01-01 from 2026-01-02 \(--move-pointer-back/);
    const current = readManifest(w.registry, 'demo', 'home')!.current;
    for (const a of artifacts) expect(current[a.key]).toBe(a.uri);
    const history = readHistory(w.registry, 'demo', 'home');
    expect(history).toHaveLength(3);
    expect(history[2]).toMatchObject({ reason: 'publish', message: '--move-pointer-back: popularity moved back from 2026-01-02, cooc moved back from 2026-01-02' });
    const shown = await cli(['history', '--config', w.config, ...SCOPE], w.opts);
    expect(shown.stdout).toContain('--move-pointer-back');

    // A newer day moves forward again without any flag.
    const forward = await runJson(['--config', w.config, ...SCOPE, ...DAY2], w.opts);
    expect(forward.json.days[0]!.artifacts.map((a) => [a.pointer, a.live_day])).toEqual([
      ['moved', '2026-01-01'],
      ['moved', '2026-01-01'],
    ]);
    expect(readManifest(w.registry, 'demo', 'home')!.current).toEqual(live);
  });

  test('a backfill over the live day ends with the newest day live and only forward moves in history', async () => {
    const w = workspace();
    expect((await cli(['run', '--config', w.config, ...SCOPE, ...DAY2], w.opts)).code).toBe(0);
    const live = readManifest(w.registry, 'demo', 'home')!.current;
    const backfill = await runJson(['--config', w.config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-02'], w.opts);
    expect(backfill.code, backfill.stderr).toBe(0);
    expect(backfill.json.days.map((d) => d.artifacts.map((a) => a.pointer))).toEqual([
      ['kept', 'kept'],
      ['unchanged', 'unchanged'],
    ]);
    expect(readManifest(w.registry, 'demo', 'home')!.current).toEqual(live);
    expect(readHistory(w.registry, 'demo', 'home')).toHaveLength(1);
  });

  test('job-mode publish keeps the live pointer too, and takes --move-pointer-back', async () => {
    const w = workspace();
    expect((await cli(['run', '--config', w.config, ...SCOPE, ...DAY2], w.opts)).code).toBe(0);
    const live = readManifest(w.registry, 'demo', 'home')!.current;
    for (const step of [['ingest'], ['compute', 'popularity', 'cooc']]) {
      const r = await cli([...step, '--config', w.config, ...SCOPE, ...DAY1], w.opts);
      expect(r.code, r.stderr).toBe(0);
    }
    const kept = await cli(['publish', '--config', w.config, ...SCOPE, ...DAY1], w.opts);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('kept 2026-01-02 live; 2026-01-01 recorded');
    expect(readManifest(w.registry, 'demo', 'home')!.current).toEqual(live);
    const back = await cli(['publish', '--config', w.config, ...SCOPE, ...DAY1, '--move-pointer-back', '--json'], w.opts);
    expect(back.code, back.stderr).toBe(0);
    const doc = JSON.parse(back.stdout) as { days: { artifacts: { pointer: string }[] }[] };
    expect(doc.days[0]!.artifacts.map((a) => a.pointer)).toEqual(['moved_back', 'moved_back']);
    expect(readHistory(w.registry, 'demo', 'home').at(-1)!.message).toMatch(/^--move-pointer-back: /);
  });
});
