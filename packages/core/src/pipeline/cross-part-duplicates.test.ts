import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { crossingSessions } from './cross-part-duplicates.js';

describe('sessions that more than one ingest part holds', () => {
  test('exactly the hashes listed by two parts or more are flagged, in every part that lists them', () => {
    // A part's footer: distinct session hashes (a bucket names each session once), from a small range so that
    // parts share some; hashes all alike modulo 4, as within one shard of four.
    const footer = fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 30 }).map((hs) => Uint32Array.from(hs, (h) => ((h * 4 + 3) * 0x01000193) >>> 0));
    fc.assert(
      fc.property(fc.array(footer, { minLength: 1, maxLength: 7 }), (footers) => {
        const { flags, crossing } = crossingSessions(footers);
        const parts = new Map<number, Set<number>>();
        footers.forEach((f, p) => f.forEach((h) => parts.set(h, (parts.get(h) ?? new Set()).add(p))));
        expect(crossing).toBe([...parts.values()].filter((s) => s.size > 1).length);
        footers.forEach((f, p) => {
          expect(flags[p]).toHaveLength(f.length);
          f.forEach((h, k) => expect(flags[p]![k], `hash ${h} of part ${p}`).toBe(parts.get(h)!.size > 1 ? 1 : 0));
        });
      }),
      { numRuns: 500 },
    );
  });

  test('a hash listed twice by one part (two sessions that collide) is not a crossing by itself', () => {
    const { flags, crossing } = crossingSessions([Uint32Array.of(7, 7, 9), Uint32Array.of(9)]);
    expect(crossing).toBe(1);
    expect(flags.map((f) => [...f])).toEqual([[0, 0, 1], [1]]);
  });

  test('hash 0 and the largest hash are hashes like any other', () => {
    const { flags } = crossingSessions([Uint32Array.of(0, 0xffffffff), Uint32Array.of(0xffffffff, 0), Uint32Array.of(1)]);
    expect(flags.map((f) => [...f])).toEqual([[1, 1], [1, 1], [0]]);
  });
});
