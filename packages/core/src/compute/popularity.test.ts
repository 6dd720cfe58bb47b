import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { utf8Ranks } from '../utf8-order.js';
import { mostExposed, rankByExposure } from './popularity.js';

describe('mostExposed', () => {
  test('property: the k most exposed are the first k of the full order (counts with many ties, broken by id in UTF-8 order)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\u{1F600}', '\uffff', '1') }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 250 }),
        (names, maxCount, seed, k) => {
          const counts = Uint32Array.from(names, (_, j) => (Math.imul(j + seed, 2654435761) >>> 0) % maxCount);
          const exposure = { names, counts, ranks: utf8Ranks(names) };
          const all = rankByExposure(exposure);
          const top = mostExposed(exposure, k);
          const cut = Math.min(k, names.length);
          expect(Array.from(top.ids)).toEqual(Array.from(all.ids.subarray(0, cut)));
          expect(Array.from(top.counts)).toEqual(Array.from(all.counts.subarray(0, cut)));
          // the full order itself: count desc, then id in UTF-8 byte order
          const reference = names
            .map((_, id) => id)
            .sort((a, b) => counts[b]! - counts[a]! || Buffer.compare(Buffer.from(names[a]!), Buffer.from(names[b]!)));
          expect(Array.from(all.ids)).toEqual(reference);
        },
      ),
      { numRuns: 500 },
    );
  });
});
