import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EventTable, resolveLimits } from '../internal.js';
import { blobText, computeArtifacts, computeArtifactsOnPool, finishArtifact } from './artifacts.js';
import { COOC_THREADS_MIN_CUT_WORK, COOC_THREADS_MIN_WORK, coocPayloadOnPool, coocUsesThreads, emitCoocRange, type CoocRangeJob, type CoocRangeResult, type CoocRowPool } from './cooc-threads.js';
import { JsonBytes, type PayloadSource } from './emit.js';

const sha256 = () => {
  const h = createHash('sha256');
  return { update: (d: string | Uint8Array) => void h.update(d), digest: () => h.digest('hex') };
};
const target = { scope: { tenant: 't', surface: 's' }, segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
const builtAt = '2026-01-02T00:00:00Z';

/** `[session, item]` pairs → an event table; item ids include non-ASCII and escaped characters. */
function table(events: readonly (readonly [number, number])[]): EventTable {
  const t = new EventTable();
  const names = ['i', 'é', 'a<b', 'q"', 'Z', '😀', 'x y'];
  events.forEach(([s, i], k) => t.add({ ts: `2026-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`, tenant: 't', surface: 's', session_id: `s${s}`, item_id: `${names[i % names.length]}${i}` }));
  return t;
}

/**
 * A pool that runs ranges on this thread but finishes them in the order
 * given by `delays` (the ranges of a real pool finish in any order).
 */
function fakePool(size: number, delays: readonly number[]): CoocRowPool & { ranges: [number, number][] } {
  let k = 0;
  const ranges: [number, number][] = [];
  return {
    size,
    ranges,
    emitCoocRange(job: CoocRangeJob, from: number, to: number): Promise<CoocRangeResult> {
      ranges.push([from, to]);
      const result = emitCoocRange(job, from, to);
      return new Promise((resolve) => setTimeout(() => resolve(result), delays[k++ % delays.length]!));
    },
  };
}

function written(member: PayloadSource, pretty: boolean): string {
  const out = new JsonBytes();
  for (const _ of member.write(out, pretty));
  return Buffer.concat(out.end()).toString('utf8');
}

describe('cooc rows on a pool of threads', () => {
  test('property: any number of ranges, finishing in any order, gives the bytes and version of the single-thread build', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 25 })), { maxLength: 250 }),
        fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(1_000_000)),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }),
        async (events, maxRows, maxNeighbors, minSupport, parts, delays) => {
          const t = table(events);
          const limits = resolveLimits({ max_items_per_artifact: maxRows, max_neighbors_per_item: maxNeighbors, min_cooc_support: minSupport });
          const ranks = t.items.utf8Ranks();
          const pool = fakePool(2, delays);
          const payload = await coocPayloadOnPool(t, ranks, limits, pool, { minWork: 0, parts });
          const [single] = computeArtifacts(t, ['cooc'], target, limits, builtAt, sha256);
          const threaded = finishArtifact('cooc', target, payload, builtAt, sha256);
          expect(threaded.version).toBe(single!.version);
          expect(blobText(threaded)).toBe(blobText(single!));
          expect(threaded.rows).toBe(single!.rows);
          // The ranges cover the rows in order, once.
          const covered = pool.ranges.flatMap(([from, to]) => Array.from({ length: to - from }, (_, k) => from + k));
          expect(covered).toEqual(Array.from({ length: covered.length }, (_, k) => k));
          // After the threads' bytes are used once, the member writes again (and pretty) from the rows, alike.
          const [pretty] = computeArtifacts(t, ['cooc'], target, limits, builtAt, sha256, {}, 'pretty');
          const member = (payload.members as PayloadSource[])[0]!;
          expect(written(member, false)).toBe(blobText(single!).slice(blobText(single!).indexOf('"neighbors":') + 12, blobText(single!).indexOf(',"build":')));
          expect(blobText(finishArtifact('cooc', target, payload, builtAt, sha256, 'pretty'))).toBe(blobText(pretty!));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('rows are split into ranges of equal work, and small days use no threads', async () => {
    // 40 sessions of items h0..h5 plus one light item each: the 6 rows of h0..h5 (first in row order) are
    // ~85 % of the work, so by work the first of two ranges ends within them (by row count it would hold 23 rows).
    const t = new EventTable();
    for (let s = 0; s < 40; s++) for (const item of ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', `l${10 + s}`]) t.add({ ts: '2026-01-01T00:00:00Z', tenant: 't', surface: 's', session_id: `s${s}`, item_id: item });
    const limits = resolveLimits({ max_items_per_artifact: 1_000_000 });
    const pool = fakePool(2, [0]);
    await coocPayloadOnPool(t, t.items.utf8Ranks(), limits, pool, { minWork: 0, parts: 2 });
    expect(pool.ranges.length).toBe(2);
    expect(pool.ranges[0]![1]).toBeLessThanOrEqual(4);
    const idle = fakePool(2, [0]);
    const payload = await coocPayloadOnPool(t, t.items.utf8Ranks(), limits, idle);
    expect(idle.ranges).toEqual([]);
    expect(payload.rows).toBe(46);
  });
});

describe('ranges handed out as threads finish', () => {
  test('no thread holds more than one range at a time, and a failed range stops the rest', async () => {
    const t = new EventTable();
    for (let s = 0; s < 300; s++) for (const item of [`a${s % 50}`, `b${(s * 7) % 60}`, `c${s % 13}`]) t.add({ ts: '2026-01-01T00:00:00Z', tenant: 't', surface: 's', session_id: `s${s}`, item_id: item });
    const limits = resolveLimits({ max_items_per_artifact: 1_000_000 });
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const chunks: Uint8Array[] = [];
    const pool = (failAt?: number): CoocRowPool => ({
      size: 3,
      async emitCoocRange(job, from, to) {
        const k = started.push(from);
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, (from * 7) % 3));
        inFlight--;
        if (k === failAt) throw new Error('range failed');
        const result = emitCoocRange(job, from, to);
        chunks.push(...result.bytes);
        return result;
      },
    });
    const payload = await coocPayloadOnPool(t, t.items.utf8Ranks(), limits, pool(), { minWork: 0 });
    const [single] = computeArtifacts(t, ['cooc'], target, limits, builtAt, sha256);
    expect(finishArtifact('cooc', target, payload, builtAt, sha256).version).toBe(single!.version);
    // A range's bytes (held until the payload is written) do not each hold a mostly empty 1 MiB buffer.
    for (const chunk of chunks) expect(chunk.buffer.byteLength).toBeLessThanOrEqual(2 * chunk.length);
    // Split into several ranges per thread, never more than one per thread at a time.
    expect(started.length).toBeGreaterThan(3);
    expect(most).toBe(3);
    started.length = 0;
    await expect(coocPayloadOnPool(t, t.items.utf8Ranks(), limits, pool(2), { minWork: 0 })).rejects.toThrow('range failed');
    // The lanes stop taking ranges once one failed: at most the ones already started (one per thread) run on,
    // also once those finish (given the time to take every other range).
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(started.length).toBeLessThanOrEqual(2 + 3);
  });
});

describe('the pool warms up while the job is prepared', () => {
  const order = (events: number) => {
    const calls: string[] = [];
    const pool = fakePool(2, [0]);
    const run = pool.emitCoocRange.bind(pool);
    const tracked: CoocRowPool = {
      size: 2,
      warm: () => void calls.push('warm'),
      emitCoocRange: (job, from, to) => {
        if (calls.at(-1) !== 'range') calls.push('range');
        return run(job, from, to);
      },
    };
    const t = new EventTable();
    for (let k = 0; k < events; k++) t.add({ ts: '2026-01-01T00:00:00Z', tenant: 't', surface: 's', session_id: `s${k % 5000}`, item_id: `i${k % 41}` });
    return { calls, tracked, t };
  };

  test('a day big enough for threads starts them before its first range; a small day never does', async () => {
    const big = order(200_000);
    await computeArtifactsOnPool(big.t, ['popularity', 'cooc'], target, resolveLimits({}), builtAt, sha256, {}, 'compact', big.tracked);
    expect(big.calls).toEqual(['warm', 'range']);
    const small = order(1000);
    await computeArtifactsOnPool(small.t, ['popularity', 'cooc'], target, resolveLimits({}), builtAt, sha256, {}, 'compact', small.tracked);
    expect(small.calls).toEqual([]);
    const noCooc = order(200_000);
    await computeArtifactsOnPool(noCooc.t, ['popularity'], target, resolveLimits({}), builtAt, sha256, {}, 'compact', noCooc.tracked);
    expect(noCooc.calls).toEqual([]);
  });

  test('a day whose rows max_items_per_artifact cuts counts them here below its own threshold', async () => {
    // 41 items, 10 rows kept: the same 200k events as above, but no threads.
    const cut = order(200_000);
    const limits = resolveLimits({ max_items_per_artifact: 10 });
    const payload = await computeArtifactsOnPool(cut.t, ['cooc'], target, limits, builtAt, sha256, {}, 'compact', cut.tracked);
    expect(cut.calls).toEqual([]);
    expect(payload[0]!.version).toBe(computeArtifacts(cut.t, ['cooc'], target, limits, builtAt, sha256)[0]!.version);
    const day = (length: number, items: number) => ({ length, items: { size: items } });
    const defaults = resolveLimits({});
    expect(coocUsesThreads(day(COOC_THREADS_MIN_CUT_WORK - 1, 1001), defaults)).toBe(false);
    expect(coocUsesThreads(day(COOC_THREADS_MIN_CUT_WORK, 1001), defaults)).toBe(true);
    // Every row counted (no more items than rows kept): the lower threshold.
    expect(coocUsesThreads(day(COOC_THREADS_MIN_WORK, 1000), defaults)).toBe(true);
    expect(coocUsesThreads(day(COOC_THREADS_MIN_WORK - 1, 1000), defaults)).toBe(false);
    expect(coocUsesThreads(day(0, 5000), defaults, 0)).toBe(true);
  });
});
