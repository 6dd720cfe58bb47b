import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { shardOfSession, shardOfSessionBytes } from './shard.js';
import { chunkSessionShards } from './ingest/chunk-parser.js';

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

  test('property: the bytes form (ingest hashes the parse workers\' session bytes) gives the same shard, wherever the bytes sit', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'é', '\ud800', '😀')), { maxLength: 12 }), fc.integer({ min: 1, max: 4096 }), (ids, n) => {
        const encoded = ids.map((id) => utf8.encode(id));
        const ends = new Uint32Array(encoded.length);
        const bytes = new Uint8Array(encoded.reduce((sum, b) => sum + b.length, 0));
        let at = 0;
        encoded.forEach((b, k) => {
          bytes.set(b, at);
          at += b.length;
          ends[k] = at;
        });
        ids.forEach((id, k) => expect(shardOfSessionBytes(bytes, k === 0 ? 0 : ends[k - 1]!, ends[k]!, n)).toBe(shardOfSession(id, n)));
        expect([...chunkSessionShards({ sessionBytes: bytes, sessionEnds: ends }, n)]).toEqual(ids.map((id) => shardOfSession(id, n)));
      }),
      { numRuns: 500 },
    );
  });
});

