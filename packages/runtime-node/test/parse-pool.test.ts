import { readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import { LocalDictionary, parseChunk, randomFingerprintKey, type ChunkContext } from '@recsys/core/internal';
// The built package: the pool starts its workers from dist/parse-worker.js.
import { WorkerParsePool, nodeSha256 } from '../dist/index.js';

const encoder = new TextEncoder();
const threads = () => readdirSync('/proc/self/task').length;
const line = (session: string, item: string, second: number) =>
  JSON.stringify({ v: 1, ts: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id: session, item_id: item });

test('worker threads parse a stream exactly like parseChunk on this thread, and close() ends them', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-01#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunks = [0, 1, 2, 3].map((c) => encoder.encode([line(`s${c}`, 'A', c), line(`s${c}`, `B${c}`, c + 1), 'not json', ''].join('\n') + '\n'));
  const pool = new WorkerParsePool(2);
  try {
    await pool.warm();
    // The first chunk of a stream stays on this thread; the others go to the ready workers (dictionaries 1 and 2), the least busy first.
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

test('idle() ends the workers; the next stream starts fresh ones and parses exactly as before', async () => {
  const pool = new WorkerParsePool(2);
  const fpKey = randomFingerprintKey();
  const chunks = [0, 1, 2].map((c) => encoder.encode(`${line(`s${c}`, 'A', c)}\n${line(`s${c}`, `B${c}`, c)}\n`));
  const parseStream = (stream: string) => Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), { stream, tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey })));
  try {
    await pool.warm();
    const before = await parseStream('day-1');
    const withWorkers = threads();
    await pool.idle();
    // Both worker threads are gone (Linux: one entry per thread of this process).
    expect(threads()).toBe(withWorkers - 2);
    await pool.warm();
    const after = await parseStream('day-2');
    // Same dictionaries in the same order, and the workers' dictionaries start empty again.
    expect(after.map((r) => r.dictId)).toEqual([0, 1, 2]);
    expect(after.map((r) => ({ ...r }))).toEqual(before.map((r) => ({ ...r })));
  } finally {
    await pool.close();
  }
});

test('until a worker is ready, chunks are parsed on this thread (dictionary 0); then they go to the workers', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-02#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunks = [0, 1, 2, 3, 4, 5].map((c) => encoder.encode(`${line(`s${c}`, `A${c % 3}`, c)}\n${line(`s${c}`, `B${c}`, c)}\n`));
  const pool = new WorkerParsePool(2);
  try {
    // No worker can be ready yet (they start on the second chunk): all three stay here.
    const early = await Promise.all(chunks.slice(0, 3).map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(early.map((r) => r.dictId)).toEqual([0, 0, 0]);
    await pool.warm();
    const late = await Promise.all(chunks.slice(3).map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(late.map((r) => r.dictId)).toEqual([1, 2, 1]);
    // Each dictionary saw its chunks in order, as the merge will read them.
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const all = [...early, ...late];
    const expected = chunks.map((chunk, i) => parseChunk(chunk, ctx, here[all[i]!.dictId]!));
    expect(all.map((r) => ({ ...r }))).toEqual(expected.map((r) => ({ ...r })));
  } finally {
    await pool.close();
  }
});
