import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { selectSmallest, sortByCountThenRank, sortTopByCountThenRank } from './order-keys.js';

/** A rank permutation of `n` items (seeded shuffle) and its inverse. */
function ranksOf(n: number, seed: number): { ranks: Uint32Array; idOfRank: Uint32Array } {
  const idOfRank = Uint32Array.from({ length: n }, (_, i) => i);
  let x = seed | 1;
  for (let i = n - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    [idOfRank[i], idOfRank[j]] = [idOfRank[j]!, idOfRank[i]!];
  }
  const ranks = new Uint32Array(n);
  for (let r = 0; r < n; r++) ranks[idOfRank[r]!] = r;
  return { ranks, idOfRank };
}

describe('sortTopByCountThenRank', () => {
  test('property: the first k entries are those of the full sort (ties on counts broken by rank)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 60 }),
        (items, seed, length, maxCount, k) => {
          const { ranks, idOfRank } = ranksOf(items, seed);
          // Distinct item ids (a row lists each neighbour once; 7919 is prime, so j ↦ 7919 j is one-to-one mod items),
          // few distinct counts: many ties, broken by rank.
          const n = Math.min(items, length);
          const ids = Uint32Array.from({ length: n }, (_, j) => idOfRank[(j * 7919 + seed) % items]!);
          const counts = Uint32Array.from({ length: n }, (_, j) => 1 + ((Math.imul(j + seed, 2654435761) >>> 0) % maxCount));
          const fullIds = ids.slice();
          const fullCounts = counts.slice();
          sortByCountThenRank(fullIds, fullCounts, ranks, idOfRank);
          sortTopByCountThenRank(ids, counts, ranks, idOfRank, k);
          const top = Math.min(k, n);
          expect(Array.from(ids.subarray(0, top))).toEqual(Array.from(fullIds.subarray(0, top)));
          expect(Array.from(counts.subarray(0, top))).toEqual(Array.from(fullCounts.subarray(0, top)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('selectSmallest', () => {
  const sorted = (a: Float64Array) => Array.from(a).sort((x, y) => x - y);

  test('property: moves the k smallest values to the front', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 300 }), fc.nat(), (values, pick) => {
        const a = Float64Array.from(values);
        const k = 1 + (pick % a.length);
        const done = selectSmallest(a, k);
        // Either way `a` stays a permutation of the input.
        expect(sorted(a)).toEqual(sorted(Float64Array.from(values)));
        if (done) expect(sorted(a.subarray(0, k))).toEqual(sorted(Float64Array.from(values)).slice(0, k));
      }),
      { numRuns: 500 },
    );
  });

  test('sorted, reversed and organ-pipe inputs are selected without giving up', () => {
    const n = 10_000;
    const inputs = [
      Float64Array.from({ length: n }, (_, i) => i),
      Float64Array.from({ length: n }, (_, i) => n - i),
      Float64Array.from({ length: n }, (_, i) => (i < n / 2 ? i : n - i + 0.5)),
    ];
    for (const a of inputs) {
      const want = sorted(a).slice(0, 50);
      expect(selectSmallest(a, 50)).toBe(true);
      expect(sorted(a.subarray(0, 50))).toEqual(want);
    }
  });
});
