import { expect, test } from 'vitest';
import { blobText, computeArtifacts, finishArtifact } from '@recsys/core';
import { EventTable, LocalDictionary, coocPayloadOnPool, parseChunk, randomFingerprintKey, resolveLimits, type ChunkContext } from '@recsys/core/internal';
// The built package: the threads run dist/worker.js.
import { WorkerComputePool, WorkerParsePool, WorkerThreads, nodeSha256 } from '../dist/index.js';

const encoder = new TextEncoder();
const line = (session: string, item: string, second: number) =>
  JSON.stringify({ v: 1, ts: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id: session, item_id: item });
const target = { scope: { tenant: 'demo', surface: 'home' }, segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
const builtAt = '2026-01-02T00:00:00Z';

test('one set of threads parses and then counts cooc rows: same results as on this thread, dictionaries kept in between', async () => {
  const threads = new WorkerThreads(2);
  const parsePool = new WorkerParsePool(threads);
  const computePool = new WorkerComputePool(threads);
  try {
    const ctx: ChunkContext = { stream: 'demo-2026-01-01#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
    const chunk = (c: number) => encoder.encode([line(`s${c}`, 'A', c), line(`s${c}`, `B${c % 3}`, c + 1), line(`s${c}`, `C${c % 2}`, c + 2)].join('\n') + '\n');
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const parseAll = async (from: number, to: number) => {
      const chunks = Array.from({ length: to - from }, (_, k) => chunk(from + k));
      const results = await Promise.all(chunks.map((b) => parsePool.parse(b.slice(), ctx)));
      expect(results.map((r) => ({ ...r }))).toEqual(chunks.map((b, i) => ({ ...parseChunk(b, ctx, here[results[i]!.dictId]!) })));
      return results;
    };
    const first = await parseAll(0, 5);
    expect(first.map((r) => r.dictId)).toEqual([0, 1, 2, 1, 2]);

    // Cooc rows on the same threads: the bytes and version of the single-thread build.
    const t = new EventTable();
    for (let k = 0; k < 300; k++) t.add({ ts: '2026-01-01T00:00:00Z', tenant: 'demo', surface: 'home', session_id: `s${k % 37}`, item_id: `i${(k * 7) % 23}` });
    const limits = resolveLimits({ max_items_per_artifact: 10, max_neighbors_per_item: 4 });
    const [single] = computeArtifacts(t, ['cooc'], target, limits, builtAt, nodeSha256);
    const threaded = finishArtifact('cooc', target, await coocPayloadOnPool(t, t.items.utf8Ranks(), limits, computePool, { minWork: 0, parts: 5 }), builtAt, nodeSha256);
    expect(threaded.version).toBe(single!.version);
    expect(blobText(threaded)).toBe(blobText(single!));

    // The workers kept their dictionaries across the cooc requests: later chunks send only the items new to
    // each worker's dictionary, as the dictionaries here (which kept theirs) say.
    const later = await parseAll(5, 9);
    expect(later.map((r) => r.dictId)).toEqual([1, 2, 1, 2]);
    expect(later.some((r) => r.newItems.length < 3)).toBe(true);

    // Errors name the pool that asked.
    const bad = { runs: { runStart: new Uint32Array(1), runItems: new Uint32Array(0), invStart: new Uint32Array(1), invSessions: new Uint32Array(0), rowIds: new Uint32Array(0) } } as never;
    await expect(computePool.emitCoocRange(bad, 0, 1)).rejects.toMatchObject({ kind: 'runtime', message: expect.stringContaining('compute worker failed') });

    // Pools on shared threads leave them to their owner.
    await parsePool.close();
    await computePool.close();
    expect((await parseAll(9, 11)).map((r) => r.events)).toEqual([3, 3]);
  } finally {
    await threads.close();
  }
});
