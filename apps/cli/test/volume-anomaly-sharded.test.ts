// The volume-anomaly gate in a sharded run (DESIGN §9): a shard sees part of
// the day, so the shards' validate passes and the merge, which sees the whole
// day, judges it: exit 3 and nothing staged; merge --accept-anomaly stages it,
// the verdict lands in every shard's ingest report and publish records the
// acceptance in history.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { cli, event, readHistory, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];

test('sharded: the merge judges the whole day; --accept-anomaly at the merge is recorded in each shard report and in history', async () => {
  const dir = tempDir('recsys-volume-shards-');
  const config = writeConfig(dir);
  const day = (d: string, events: number, items: number) =>
    writeRawDay(join(dir, 'raw'), 'demo', 'home', d, Array.from({ length: events }, (_, k) => event(`s${Math.floor(k / 5)}`, `i${k % items}`, { ts: new Date(Date.parse(`${d}T00:00:00Z`) + k * 1000).toISOString() })));
  for (const d of ['2026-01-01', '2026-01-02', '2026-01-03']) day(d, 100, 20);
  const normal = await runJson(['--config', config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-03'], { cwd: dir });
  expect(normal.code, normal.stderr).toBe(0);

  day('2026-01-04', 400, 20);
  const c = ['--config', config, ...SCOPE, '--start', '2026-01-04', '--end', '2026-01-04'];
  // Every ingest part first, then each shard's validate and compute (they read every part's bucket).
  for (const [steps, shards] of [[[['ingest']], [0, 1]], [[['validate'], ['compute', 'popularity', 'cooc']], [0, 1]]] as const) {
    for (const i of shards) {
      for (const step of steps) {
        const r = await cli([...step, ...c, '--shard', `${i}/2`], { cwd: dir });
        expect(r.code, `${step.join(' ')} shard ${i}: ${r.stderr}`).toBe(0);
      }
    }
  }
  const blocked = await cli(['merge', 'popularity', 'cooc', ...c], { cwd: dir });
  expect(blocked.code, blocked.stderr).toBe(3);
  expect(blocked.stderr).toContain('accepted_events 400 outside the expected range [50, 300]');
  expect(existsSync(join(dir, 'out/artifacts/demo/home/default/popularity/2026-01-04_2026-01-05'))).toBe(false);
  const shardReport = (i: number) => JSON.parse(readFileSync(join(dir, `out/artifacts/demo/home/_ingest/2026-01-04.shard-${i}-of-2.json`), 'utf8')) as { volume_gate?: { outcome: string; observed: { accepted_events: number } } };
  expect(shardReport(0).volume_gate).toMatchObject({ outcome: 'blocked', observed: { accepted_events: 400 } });
  expect(shardReport(1).volume_gate).toMatchObject({ outcome: 'blocked', observed: { accepted_events: 400 } });

  const accepted = await cli(['merge', 'popularity', 'cooc', ...c, '--accept-anomaly'], { cwd: dir });
  expect(accepted.code, accepted.stderr).toBe(0);
  expect(shardReport(0).volume_gate!.outcome).toBe('accepted');
  expect(shardReport(1).volume_gate!.outcome).toBe('accepted');
  // A retried merge of the same partials keeps the acceptance without the flag.
  expect((await cli(['merge', 'popularity', 'cooc', ...c], { cwd: dir })).code).toBe(0);
  const published = await cli(['publish', ...c], { cwd: dir });
  expect(published.code, published.stderr).toBe(0);
  expect(readHistory(join(dir, 'out/registry'), 'demo', 'home').at(-1)!.message).toContain('--accept-anomaly: day 2026-01-04 published outside the volume-anomaly range: accepted_events 400 outside the expected range [50, 300]');
});
