import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Interner } from '../compute/interner.js';
import { ByteInterner, hashWordsOf } from './byte-interner.js';

const encoder = new TextEncoder();
// Few distinct values, some of one length, some non-ASCII, so hashes and lengths meet often.
const valueArb = fc.oneof(fc.constantFrom('s1', 's2', 'ab', 'ba', 'é', 'e\u0301', '\u{1F600}', '', 'x'.repeat(70)), fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 4 }));

describe('ByteInterner without strings (the event table sessions)', () => {
  test('property: ids, values and lookups equal a string-keyed Interner, whether values come as strings or as bytes with a hash from another thread', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(valueArb, fc.constantFrom('string', 'bytes', 'ascii')), { maxLength: 60 }), (ops) => {
        const expected = new Interner();
        const dict = new ByteInterner({ strings: false });
        // A parse worker's chunk dictionary: same key, its own table.
        const worker = new ByteInterner({ key: dict.key, strings: false });
        for (const [value, how] of ops) {
          const bytes = encoder.encode(value);
          const ascii = /^[\x20-\x7e]*$/.test(value);
          const id = how === 'string' ? dict.intern(value) : how === 'ascii' && ascii ? dict.internAscii(bytes, 0, bytes.length) : dict.internHashed(bytes, 0, bytes.length, worker.hashOf(bytes, 0, bytes.length));
          expect(id).toBe(expected.intern(value));
          if (id === dict.size - 1) expect(dict.values).toEqual(expected.values);
        }
        expect(dict.size).toBe(expected.size);
        expect(dict.values).toEqual(expected.values);
        for (const [value] of ops) expect(dict.lookup(value)).toBe(expected.lookup(value));
        expect(dict.lookup('never interned')).toBe(expected.lookup('never interned'));
        for (let id = 0; id < dict.size; id++) expect(dict.name(id)).toBe(expected.values[id]);
      }),
      { numRuns: 300 },
    );
  });

  test('property: values whose hashes collide stay apart (bytes compared, not only hashes)', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 60 }), (values) => {
        const expected = new Interner();
        const dict = new ByteInterner({ strings: false });
        for (const value of values) {
          const bytes = encoder.encode(value);
          // Every value claims the same hash: one probe chain, told apart by length and bytes alone.
          expect(dict.internHashed(bytes, 0, bytes.length, 7)).toBe(expected.intern(value));
        }
        expect(dict.values).toEqual(expected.values);
      }),
      { numRuns: 200 },
    );
  });

  test('bytesSince hands a chunk dictionary\'s values over as bytes, ends and hashes that the table interns to the same values', () => {
    const worker = new ByteInterner({ strings: false });
    const values = ['s1', 'é', 's2', '\u{1F600}', 's1', ''];
    const local = values.map((v) => worker.intern(v));
    expect(local).toEqual([0, 1, 2, 3, 0, 4]);
    const { bytes, ends, hashes } = worker.bytesSince(0);
    const table = new ByteInterner({ key: worker.key, strings: false });
    table.intern('earlier');
    let from = 0;
    const ids = Array.from(ends, (to, k) => {
      const id = table.internHashed(bytes, from, to, hashes[k]!);
      from = to;
      return id;
    });
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    expect(table.values).toEqual(['earlier', 's1', 'é', 's2', '\u{1F600}', '']);
    const later = worker.bytesSince(3);
    expect(new TextDecoder().decode(later.bytes)).toBe('\u{1F600}');
    expect([...later.ends]).toEqual([4, 4]);
  });

  test('releaseLookups keeps ids and names; interning or looking up afterwards throws', () => {
    const dict = new ByteInterner({ strings: false });
    expect(['b', 'a', 'b', 'ç'].map((v) => dict.intern(v))).toEqual([0, 1, 0, 2]);
    dict.releaseLookups();
    expect(dict.size).toBe(3);
    expect(dict.values).toEqual(['b', 'a', 'ç']);
    expect(dict.name(2)).toBe('ç');
    expect(() => dict.intern('a')).toThrow(/released/);
    expect(() => dict.lookup('a')).toThrow(/released/);
    const bytes = encoder.encode('a');
    expect(() => dict.internHashed(bytes, 0, 1, dict.hashOf(bytes, 0, 1))).toThrow(/released/);
  });

  test('property: append after releaseLookups numbers values on from the interned ones, with the names of their bytes (with or without strings)', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 20 }), fc.array(valueArb, { maxLength: 300 }), fc.boolean(), fc.nat(7), (before, after, strings, offset) => {
        const dict = new ByteInterner({ strings });
        const expected = [...new Set(before)];
        for (const v of before) dict.intern(v);
        dict.releaseLookups();
        for (const v of after) {
          // The bytes somewhere inside a bigger array, as in a bucket block's dictionary.
          const bytes = encoder.encode(v);
          const inside = new Uint8Array(offset + bytes.length + 3);
          inside.set(bytes, offset);
          expect(dict.append(inside, offset, offset + bytes.length)).toBe(expected.length);
          expected.push(v);
        }
        expect(dict.size).toBe(expected.length);
        expect(dict.values).toEqual(expected);
        for (let id = 0; id < expected.length; id++) expect(dict.name(id)).toBe(expected[id]);
      }),
    );
  });

  test('append refuses while lookups are kept (the id would be missing from the lookup table)', () => {
    const dict = new ByteInterner({ strings: false });
    dict.intern('a');
    const bytes = encoder.encode('b');
    expect(() => dict.append(bytes, 0, 1)).toThrow(/releaseLookups/);
    expect(dict.size).toBe(1);
  });
});

describe('ByteInterner.hashOf', () => {
  test('gives the values of the byte-at-a-time version', () => {
    // Computed by the version that assembled each word from four byte loads; the DataView loads must read the same words.
    const dict = new ByteInterner({ key: [0x01234567, 0x89abcdef] });
    const expected: Record<string, number> = { '': 0x82f7a6ec, a: 0xc1463d4e, ab: 0x11c8ad25, abc: 0xdccd60de, abcd: 0x68b116b0, abcde: 0x36b2f032, i51079: 0xdaaf5887, 'session-000042': 0x7ca2c778, 'é☃': 0xdeeb57c1 };
    for (const [text, hash] of Object.entries(expected)) {
      const bytes = encoder.encode(text);
      expect(dict.hashOf(bytes, 0, bytes.length), text).toBe(hash);
    }
  });

  test('property: the hash of some bytes does not depend on where they sit (offset, byteOffset of the view, which buffer came before)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 7 }), fc.nat({ max: 7 }), fc.nat({ max: 5 })), { minLength: 1, maxLength: 12 }), (pieces) => {
        const dict = new ByteInterner({ key: [5, 6] });
        for (const [bytes, before, viewOffset, after] of pieces) {
          const alone = dict.hashOf(bytes.slice(), 0, bytes.length);
          const backing = new Uint8Array(viewOffset + before + bytes.length + after).fill(0xa5);
          backing.set(bytes, viewOffset + before);
          expect(dict.hashOf(backing.subarray(viewOffset), before, before + bytes.length)).toBe(alone);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('property: hashWordsOf (the parse points the word view at its block first) changes no hash, whichever buffer it was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 7 }), fc.boolean(), (bytes, before, same) => {
        const dict = new ByteInterner({ key: [7, 8] });
        const alone = dict.hashOf(bytes.slice(), 0, bytes.length);
        const block = new Uint8Array(before + bytes.length).fill(0x5a);
        block.set(bytes, before);
        hashWordsOf(same ? block : new Uint8Array(8));
        expect(dict.hashOf(block, before, before + bytes.length)).toBe(alone);
      }),
      { numRuns: 200 },
    );
  });
});

