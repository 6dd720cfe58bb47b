// Job mode keeps the canonical gate of `run` (issue 11 item 15): after a
// failed `validate`, `compute` and `merge` refuse the day (exit 3, naming the
// gate and the fix), so no zero-row artifact can be staged and published
// over a good version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, readArtifact, readManifest, tempDir, writeConfig, writeRawDay, type CliResult } from './helpers.js';

const DAY = '2026-01-01';
const ev = (tenant: string, session: string, item: string) => ({ v: 1, ts: `${DAY}T10:00:00Z`, tenant, surface: 'home', session_id: session, item_id: item });
const GOOD = [ev('demo', 's1', 'A'), ev('demo', 's1', 'B'), ev('demo', 's2', 'A'), ev('demo', 's2', 'C')];

async function step(dir: string, args: string[], code: number): Promise<CliResult> {
  const r = await cli(args, { cwd: dir });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code);
  return r;
}

describe('job mode refuses a day that failed its canonical gate', () => {
  test('an empty day: validate exits 3, compute refuses (exit 3), publish keeps the good version', async () => {
    const dir = tempDir('recsys-jobgate-');
    const config = writeConfig(dir);
    const c = ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', DAY, '--end', DAY];
    const raw = writeRawDay(join(dir, 'raw'), 'demo', 'home', DAY, GOOD);
    for (const s of [['ingest'], ['validate'], ['compute', 'popularity'], ['publish', '--artifacts', 'popularity']]) await step(dir, [...s, ...c], 0);
    const good = readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current;

    // The day's file is replaced by one holding only another tenant's events.
    writeFileSync(raw, JSON.stringify(ev('other', 's9', 'Z')) + '\n');
    await step(dir, ['ingest', ...c], 0);
    const v = await step(dir, ['validate', ...c], 3);
    expect(v.stderr).toContain('non_empty');
    const compute = await step(dir, ['compute', 'popularity', ...c], 3);
    expect(compute.stderr).toContain('validation gate "non_empty" failed');
    expect(compute.stderr).toContain('compute refuses day 2026-01-01');
    expect(compute.stderr).toContain('re-run `recsys-pipelines ingest` and `validate`');
    // Whatever publish does now, it does not serve an empty popularity list.
    await cli(['publish', '--artifacts', 'popularity', ...c], { cwd: dir });
    const served = readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current;
    expect(served).toEqual(good);
    const pop = readArtifact(served.popularity!) as unknown as { items: unknown[] };
    expect(pop.items.length).toBe(3);
  });

  test('compute refuses a partition validate failed even when the gate would pass now; a passing validate clears it', async () => {
    const dir = tempDir('recsys-jobgate-');
    const strict = writeConfig(dir, { limits: { max_bad_event_ratio: 0 } }, 'strict.json');
    const lenient = writeConfig(dir, { limits: { max_bad_event_ratio: 0.5 } }, 'lenient.json');
    const window = ['--tenant', 'demo', '--surface', 'home', '--start', DAY, '--end', DAY];
    writeRawDay(join(dir, 'raw'), 'demo', 'home', DAY, [...GOOD, '{"v":1,"broken']);
    await step(dir, ['ingest', '--config', strict, ...window], 0);
    const v = await step(dir, ['validate', '--config', strict, ...window], 3);
    expect(v.stderr).toContain('max_bad_event_ratio');
    // The same partition, judged failed by validate: compute refuses it whatever its own config says.
    const refused = await step(dir, ['compute', 'popularity', '--config', lenient, ...window], 3);
    expect(refused.stderr).toContain('validation gate "max_bad_event_ratio" failed');
    expect(refused.stderr).toContain('`validate` failed on this canonical partition');
    await step(dir, ['validate', '--config', lenient, ...window], 0);
    await step(dir, ['compute', 'popularity', '--config', lenient, ...window], 0);
  });

  test('merge refuses a day when one shard failed validate', async () => {
    const dir = tempDir('recsys-jobgate-');
    const config = writeConfig(dir);
    const strict = writeConfig(dir, { limits: { max_sessions_per_run: 1 } }, 'strict.json');
    const scope = ['--tenant', 'demo', '--surface', 'home', '--start', DAY, '--end', DAY];
    // Enough sessions that each of two shards gets more than one.
    writeRawDay(join(dir, 'raw'), 'demo', 'home', DAY, Array.from({ length: 40 }, (_, i) => ev('demo', `s${i}`, `I${i % 5}`)));
    for (const shard of ['0/2', '1/2']) await step(dir, ['ingest', '--shard', shard, '--config', config, ...scope], 0);
    for (const shard of ['0/2', '1/2']) await step(dir, ['compute', 'popularity', '--shard', shard, '--config', config, ...scope], 0);
    const v = await step(dir, ['validate', '--shard', '1/2', '--config', strict, ...scope], 4);
    expect(v.stderr).toContain('max_sessions_per_run');
    const merge = await step(dir, ['merge', 'popularity', '--config', config, ...scope], 3);
    expect(merge.stderr).toContain('merge refuses day 2026-01-01 (shard 1/2)');
    expect(merge.stderr).toContain('max_sessions_per_run');
    await step(dir, ['validate', '--shard', '1/2', '--config', config, ...scope], 0);
    await step(dir, ['merge', 'popularity', '--config', config, ...scope], 0);
  });
});
