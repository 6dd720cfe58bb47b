import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { SortedPairMerge, type SortedPairs } from './sorted-pairs.js';

/** A stream: distinct pairs x < y with counts ≥ 1, sorted by (x, y). */
const stream = fc
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

describe('SortedPairMerge', () => {
  test('sums sorted streams into one sorted list of distinct pairs, whatever the announced sizes', () => {
    fc.assert(
      fc.property(fc.array(stream, { maxLength: 7 }), fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 7, maxLength: 7 }), (streams, announced) => {
        const merge = new SortedPairMerge();
        const expected = new Map<string, [number, number, number]>();
        streams.forEach((s, k) => {
          // The announced size is only a hint: too small grows, too large is cut.
          merge.begin(announced[k]!);
          for (const [x, y, c] of s) {
            expect(merge.add(x, y, c)).toBe(true);
            const key = `${x},${y}`;
            const had = expected.get(key);
            expected.set(key, [x, y, (had?.[2] ?? 0) + c]);
          }
          merge.end();
        });
        const result = merge.result();
        const want = [...expected.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(entriesOf(result)).toEqual(want);
        expect(result.size).toBe(want.length);
      }),
    );
  });

  test('refuses a pair out of order or with x ≥ y, and adds nothing for it', () => {
    const merge = new SortedPairMerge();
    merge.begin(2);
    expect(merge.add(1, 5, 2)).toBe(true);
    expect(merge.add(1, 5, 1)).toBe(false);
    expect(merge.add(1, 4, 1)).toBe(false);
    expect(merge.add(0, 9, 1)).toBe(false);
    expect(merge.add(3, 3, 1)).toBe(false);
    expect(merge.add(4, 2, 1)).toBe(false);
    expect(merge.add(2, 3, 1)).toBe(true);
    merge.end();
    merge.begin(1);
    expect(merge.add(0, 9, 1)).toBe(true);
    expect(merge.add(1, 5, 3)).toBe(true);
    merge.end();
    expect(entriesOf(merge.result())).toEqual([
      [0, 9, 1],
      [1, 5, 5],
      [2, 3, 1],
    ]);
    expect(() => merge.end()).toThrow(/no stream is open/);
    merge.begin(0);
    expect(() => merge.begin(0)).toThrow(/already open/);
    expect(() => merge.result()).toThrow(/still open/);
  });
});
