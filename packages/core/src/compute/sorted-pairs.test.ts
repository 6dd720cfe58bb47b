import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { GroupedPairs, mergeGroupedPairs, SortedPairs } from './sorted-pairs.js';

/** An input: distinct pairs x < y with counts ≥ 1, sorted by (x, y). */
const input = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 1000 })), { maxLength: 60 })
  .map((entries) => {
    const byKey = new Map<string, [number, number, number]>();
    for (const [p, q, c] of entries) if (p !== q) byKey.set(`${Math.min(p, q)},${Math.max(p, q)}`, [Math.min(p, q), Math.max(p, q), c]);
    return [...byKey.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  });

const entriesOf = (pairs: SortedPairs) => {
  const out: [number, number, number][] = [];
  pairs.forEach((x, y, c) => out.push([x, y, c]));
  return out;
};

describe('mergeGroupedPairs', () => {
  test('sums sorted inputs into one sorted list of distinct pairs, whatever the announced sizes', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 7 }), fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 7, maxLength: 7 }), (inputs, announced) => {
        const expected = new Map<string, [number, number, number]>();
        const grouped = inputs.map((s, k) => {
          // The announced size is only a hint: too small grows.
          const g = new GroupedPairs(announced[k]!);
          for (const [x, y, c] of s) {
            expect(g.add(x, y, c)).toBe(true);
            const key = `${x},${y}`;
            const had = expected.get(key);
            expected.set(key, [x, y, (had?.[2] ?? 0) + c]);
          }
          expect(g.size).toBe(s.length);
          return g;
        });
        const result = mergeGroupedPairs(grouped);
        const want = [...expected.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(entriesOf(result)).toEqual(want);
        expect(result.size).toBe(want.length);
        expect([result.x.length, result.y.length, result.counts.length]).toEqual([want.length, want.length, want.length]);
        // One group per distinct x, ascending, and the per-pair x made from them.
        expect(Array.from(result.x)).toEqual(want.map((w) => w[0]));
        expect(Array.from(result.xs)).toEqual([...new Set(want.map((w) => w[0]))]);
        expect(result.starts.length).toBe(result.xs.length + 1);
        expect(result.starts[result.xs.length]).toBe(want.length);
        expect(entriesOf(SortedPairs.fromColumns(result.x, result.y, result.counts))).toEqual(want);
      }),
    );
  });

  test('groups of thousands of pairs, and more than a thousand groups', () => {
    const a = new GroupedPairs(4);
    const b = new GroupedPairs(4);
    for (let x = 0; x < 3000; x++) expect(a.add(x, x + 1, 1)).toBe(true);
    for (let y = 1; y < 5000; y++) expect(b.add(0, y, 2)).toBe(true);
    const result = entriesOf(mergeGroupedPairs([a, b]));
    expect(result).toHaveLength(3000 + 4998);
    expect(result.slice(0, 3)).toEqual([
      [0, 1, 3],
      [0, 2, 2],
      [0, 3, 2],
    ]);
    expect(result.at(-1)).toEqual([2999, 3000, 1]);
  });

  test('refuses a pair out of order or with x ≥ y, and adds nothing for it', () => {
    const first = new GroupedPairs(2);
    expect(first.add(1, 5, 2)).toBe(true);
    expect(first.add(1, 5, 1)).toBe(false);
    expect(first.add(1, 4, 1)).toBe(false);
    expect(first.add(0, 9, 1)).toBe(false);
    expect(first.add(3, 3, 1)).toBe(false);
    expect(first.add(4, 2, 1)).toBe(false);
    expect(first.add(2, 3, 1)).toBe(true);
    const second = new GroupedPairs(1);
    expect(second.add(0, 9, 1)).toBe(true);
    expect(second.add(1, 5, 3)).toBe(true);
    expect(entriesOf(mergeGroupedPairs([first, second]))).toEqual([
      [0, 9, 1],
      [1, 5, 5],
      [2, 3, 1],
    ]);
    expect(entriesOf(mergeGroupedPairs([first]))).toEqual([
      [1, 5, 2],
      [2, 3, 1],
    ]);
    expect(mergeGroupedPairs([]).size).toBe(0);
  });
});
