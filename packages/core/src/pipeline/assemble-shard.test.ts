// Shard assembly from ingest parts (ingest-parts.ts): duplicates across parts
// are removed whether compute reads the buckets' session footers first (a
// ranged read), skips to them in a whole read (a storage without readFrom),
// or cannot read them at all (then every event is a candidate).
import { describe, expect, test } from 'vitest';
import { planJob } from './plan.js';
import { ingestJob } from './jobs/ingest.js';
import { assembleShard } from './ingest-parts.js';
import { keys } from '../keys.js';
import { readIngestReport } from './staging.js';
import { shardOfSession } from '../shard.js';
import { scope, testEnv } from '../testing/fixtures.js';
import type { MemoryStorage } from '../testing/memory-storage.js';

const DAY = '2026-01-01';
const window = { ...scope, start: DAY, end: DAY };
const enc = new TextEncoder();
const dec = new TextDecoder();

/** 30 events of sessions s0…s5, then the first five again (exact duplicates): byte ranges put them in the last part. */
const RAW = (() => {
  const lines = Array.from({ length: 30 }, (_, k) => JSON.stringify({ v: 1, ts: `2026-01-01T10:00:${String(k).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id: `s${k % 6}`, item_id: `i${k % 7}` }));
  return [...lines, ...lines.slice(0, 5)].map((l) => l + '\n').join('');
})();

type FooterMode = 'ranged' | 'no readFrom' | 'unreadable';

/** The shard partitions and shard reports' duplicate counts of a day ingested in `n` parts, assembled with the footers read as `mode` says. */
async function assembled(n: number, mode: FooterMode): Promise<{ partitions: string[]; duplicates: number[] }> {
  const env = testEnv();
  const storage = env.areas.artifacts as MemoryStorage;
  await env.areas.raw.put(`demo/home/exposure.${DAY}.jsonl`, enc.encode(RAW));
  for (let index = 0; index < n; index++) await ingestJob(env, await planJob(env, 'ingest', { ...window, shard: { index, count: n } }));
  if (mode === 'no readFrom') Object.defineProperty(storage, 'readFrom', { value: undefined });
  if (mode === 'unreadable') Object.defineProperty(storage, 'readFrom', { value: () => Promise.resolve(undefined) });
  const partitions: string[] = [];
  const duplicates: number[] = [];
  for (let j = 0; j < n; j++) {
    const shard = { index: j, count: n };
    const a = await assembleShard(env, scope, DAY, shard, 'compute');
    expect(a).toBeDefined();
    const partition = dec.decode(await env.areas.canonical.get(keys.canonicalShardPartition(scope, DAY, shard)));
    partitions.push(partition);
    // The table holds each session once (one id, whichever parts hold it), and each row the session of its line.
    const { table } = a!;
    const lineSessions = partition
      .split('\n')
      .slice(0, -1)
      .map((l) => (JSON.parse(l) as { session_id: string }).session_id);
    expect(table.sessions.values).toEqual([...new Set(lineSessions)]);
    expect(Array.from(table.session.data.subarray(0, table.length), (s) => table.sessions.values[s])).toEqual(lineSessions);
    duplicates.push((await readIngestReport(env, scope, DAY, shard))!.counts.duplicates);
  }
  return { partitions, duplicates };
}

describe('shard assembly: duplicates across ingest parts', () => {
  for (const n of [1, 2, 3]) {
    test(`n = ${n}: each event once, the same partitions whether the footers are read ranged, skipped to or not at all`, async () => {
      const ranged = await assembled(n, 'ranged');
      // Every distinct event once, in the shard of its session.
      const distinct = [...new Set(RAW.split('\n').slice(0, -1).map((l) => JSON.parse(l) as { session_id: string; ts: string }).map((e) => `${e.session_id} ${e.ts}`))];
      const held = ranged.partitions.flatMap((p, j) =>
        p
          .split('\n')
          .slice(0, -1)
          .map((l) => JSON.parse(l) as { session_id: string; ts: string })
          .map((e) => {
            expect(shardOfSession(e.session_id, n)).toBe(j);
            return `${e.session_id} ${e.ts}`;
          }),
      );
      expect(held.sort()).toEqual(distinct.sort());
      expect(ranged.duplicates.reduce((a, b) => a + b, 0)).toBe(5);
      expect(await assembled(n, 'no readFrom')).toEqual(ranged);
      expect(await assembled(n, 'unreadable')).toEqual(ranged);
    });
  }
});
