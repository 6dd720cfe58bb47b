import fc from 'fast-check';
import { afterAll, expect, test } from 'vitest';
import { blobText, computeArtifacts, finishArtifact } from '@recsys/core';
import { EventTable, coocPayloadOnPool, resolveLimits } from '@recsys/core/internal';
// The built package: the pool starts its workers from dist/compute-worker.js.
import { WorkerComputePool, nodeSha256 } from '../dist/index.js';

const target = { scope: { tenant: 't', surface: 's' }, segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
const builtAt = '2026-01-02T00:00:00Z';
const pool = new WorkerComputePool(3);
afterAll(() => pool.close());

function table(events: readonly (readonly [number, number])[]): EventTable {
  const t = new EventTable();
  const names = ['i', 'é', 'a<b', 'q"', 'Z', '😀'];
  events.forEach(([s, i], k) => t.add({ ts: `2026-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`, tenant: 't', surface: 's', session_id: `s${s}`, item_id: `${names[i % names.length]}${i}` }));
  return t;
}

test('property: cooc rows counted and written on worker threads, in 1..N ranges, give the single-thread bytes and version', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 300 }),
      fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(1_000_000)),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 1, max: 10 }),
      async (events, maxRows, maxNeighbors, parts) => {
        const t = table(events);
        const limits = resolveLimits({ max_items_per_artifact: maxRows, max_neighbors_per_item: maxNeighbors });
        const [single] = computeArtifacts(t, ['cooc'], target, limits, builtAt, nodeSha256);
        const threaded = finishArtifact('cooc', target, await coocPayloadOnPool(t, t.items.utf8Ranks(), limits, pool, { minWork: 0, parts }), builtAt, nodeSha256);
        expect(threaded.version).toBe(single!.version);
        expect(blobText(threaded)).toBe(blobText(single!));
      },
    ),
    { numRuns: 60 },
  );
});

test('a worker failure rejects with a runtime error naming it', async () => {
  const bad = { runs: { runStart: new Uint32Array(1), runItems: new Uint32Array(0), invStart: new Uint32Array(1), invSessions: new Uint32Array(0), rowIds: new Uint32Array(0) } } as never;
  await expect(pool.emitCoocRange(bad, 0, 1)).rejects.toMatchObject({ kind: 'runtime', message: expect.stringContaining('compute worker failed') });
});
