import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { shardOfSession } from './shard.js';

// The known values are in pipeline/partials.test.ts ("shard function").
describe('shardOfSession', () => {
  test('property: FNV-1a 32 of the UTF-8 bytes for any id (ASCII hashed without encoding, the rest encoded)', () => {
    const reference = (id: string) => {
      let h = 0x811c9dc5;
      for (const byte of new TextEncoder().encode(id)) h = Math.imul(h ^ byte, 0x01000193);
      return h >>> 0;
    };
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('', '\u007f', '\u0080', 'a\u0080b', 's1\u00ff', 'é', '\ud800', 'x\udc00', '😀'), fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme-ascii' })), fc.integer({ min: 1, max: 4096 }), (id, n) => {
        expect(shardOfSession(id, 2 ** 32)).toBe(reference(id));
        expect(shardOfSession(id, n)).toBe(reference(id) % n);
      }),
      { numRuns: 1000 },
    );
  });
});
