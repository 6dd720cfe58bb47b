import { expect, test } from 'vitest';
import { LocalDictionary, parseChunk, randomFingerprintKey, type ChunkContext } from '@recsys/core/internal';
// The built package: the pool starts its workers from dist/parse-worker.js.
import { WorkerParsePool, nodeSha256 } from '../dist/index.js';

const encoder = new TextEncoder();
const line = (session: string, item: string, second: number) =>
  JSON.stringify({ v: 1, ts: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id: session, item_id: item });

test('worker threads parse a stream exactly like parseChunk on this thread, and close() ends them', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-01#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunks = [0, 1, 2, 3].map((c) => encoder.encode([line(`s${c}`, 'A', c), line(`s${c}`, `B${c}`, c + 1), 'not json', ''].join('\n') + '\n'));
  const pool = new WorkerParsePool(2);
  try {
    // The first chunk of a stream stays on this thread; the others go to the workers (dictionaries 1 and 2).
    const results = await Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(results.map((r) => r.dictId)).toEqual([0, 1, 2, 1]);
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const expected = chunks.map((chunk, i) => parseChunk(chunk, ctx, here[results[i]!.dictId]!));
    expect(results.map((r) => ({ ...r }))).toEqual(expected.map((r) => ({ ...r })));
    expect(results.map((r) => [r.events, r.rejects.length])).toEqual(chunks.map(() => [2, 1]));
  } finally {
    await pool.close();
  }
});

test('nodeSha256 hashes incrementally', () => {
  const h = nodeSha256();
  h.update('ab');
  h.update(encoder.encode('c'));
  expect(h.digest()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
