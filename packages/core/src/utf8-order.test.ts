import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareUtf8, utf8Ranks } from './internal.js';

const sign = (n: number) => Math.sign(n);
const bufferOrder = (a: string, b: string) => sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

/** Well-formed strings weighted towards the ranges where UTF-16 and UTF-8 order disagree (U+E000–U+FFFF vs astral). */
const codePoint = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xd7ff }),
  fc.integer({ min: 0xe000, max: 0xffff }),
  fc.integer({ min: 0x10000, max: 0x10ffff }),
  fc.constantFrom(0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff),
);
const wellFormed = fc.array(codePoint, { maxLength: 6 }).map((cps) => String.fromCodePoint(...cps));

describe('compareUtf8', () => {
  test.each([
    ['a', 'b', -1],
    ['b', 'a', 1],
    ['a', 'a', 0],
    ['', 'a', -1],
    ['ab', 'a', 1],
    ['Z', 'a', -1],
    ['\uffff', '\u{10000}', -1],
    ['\ue000', '\u{1f600}', -1],
    ['\ud7ff', '\ue000', -1],
    ['é', 'z', 1],
  ])('%j vs %j → %i', (a, b, expected) => {
    expect(sign(compareUtf8(a, b))).toBe(expected);
    expect(bufferOrder(a, b)).toBe(expected);
  });

  test('property: same sign as Buffer.compare of the UTF-8 encodings', () => {
    fc.assert(
      fc.property(wellFormed, wellFormed, (a, b) => {
        expect(sign(compareUtf8(a, b))).toBe(bufferOrder(a, b));
      }),
      { numRuns: 5000 },
    );
  });

  test('property: sorting with compareUtf8 equals sorting the encoded bytes', () => {
    fc.assert(
      fc.property(fc.array(wellFormed, { maxLength: 30 }), (values) => {
        const ours = [...values].sort(compareUtf8);
        const reference = values
          .map((v) => Buffer.from(v, 'utf8'))
          .sort(Buffer.compare)
          .map((b) => b.toString('utf8'));
        expect(ours).toEqual(reference);
      }),
      { numRuns: 1000 },
    );
  });

  test('JavaScript string order really differs here (the reason compareUtf8 exists)', () => {
    expect('\uffff' < '\u{10000}').toBe(false);
  });
});

describe('utf8Ranks', () => {
  /** The reference: a stable sort of the indices by the UTF-8 encodings' bytes. */
  const byteRanks = (values: readonly string[]) => {
    const bytes = values.map((v) => Buffer.from(v, 'utf8'));
    const order = values.map((_, i) => i).sort((a, b) => Buffer.compare(bytes[a]!, bytes[b]!));
    const rank = new Array<number>(values.length);
    order.forEach((i, r) => (rank[i] = r));
    return rank;
  };
  /** Ids sharing prefixes (all of them, or some), of any length around the 5 bytes the sort key holds. */
  const prefixed = (suffix: fc.Arbitrary<string>) =>
    fc.tuple(fc.constantFrom('', 'i', 'i5', 'item_00', 'é', '\u{1F600}', '\uffff', 'ab\u0000'), suffix).map(([p, s]) => p + s);
  const ids = (value: fc.Arbitrary<string>) =>
    fc.oneof(
      fc.array(value, { maxLength: 60 }),
      // every value starts with the same (possibly non-ASCII) prefix
      fc.tuple(fc.constantFrom('item_', 'ü', '\u{1F600}x', 'abcdefgh'), fc.array(value, { maxLength: 60 })).map(([p, vs]) => vs.map((v) => p + v)),
    );

  test('examples', () => {
    expect([...utf8Ranks([])]).toEqual([]);
    expect([...utf8Ranks(['b', 'a', 'c'])]).toEqual([1, 0, 2]);
    // shared 6-byte prefixes, a prefix of another id, U+FFFF before astral, NUL vs end of string
    const values = ['i510790', 'i51079', 'i5107', 'i510791', '\u{10000}', '\uffff', 'x\u0000', 'x', 'é', 'z'];
    expect([...utf8Ranks(values)]).toEqual(byteRanks(values));
  });

  test('property: ranks equal a stable sort by the UTF-8 bytes (well-formed ids, shared prefixes, non-ASCII)', () => {
    const suffix = fc.oneof(wellFormed, fc.stringMatching(/^[0-9]{0,8}$/));
    fc.assert(
      fc.property(ids(prefixed(suffix)), (values) => {
        expect([...utf8Ranks(values)]).toEqual(byteRanks(values));
      }),
      { numRuns: 2000 },
    );
  });

  test('property: ranks equal a stable sort by the UTF-8 bytes when ties nest (many ids sharing long runs)', () => {
    // Chunks longer than the key's 5 bytes and alike in their first ones: groups of tied keys tie again inside.
    const chunk = fc.constantFrom('aaaaaaa', 'aaaaaab', 'aaaaaa', 'ééééééé', 'éééééé\u{1F600}', '\uffff\uffff', '\u{10000}');
    const id = fc.array(chunk, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.array(id, { minLength: 20, maxLength: 300 }), (values) => {
        expect([...utf8Ranks(values)]).toEqual(byteRanks(values));
      }),
      { numRuns: 300 },
    );
  });

  test('property: ranks equal a stable sort with compareUtf8 (any UTF-16, lone surrogates too)', () => {
    const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('a', 'b', '\ud800', '\udfff', '\ue000', '\u0080'));
    fc.assert(
      fc.property(ids(prefixed(fc.string({ unit, maxLength: 8 }))), (values) => {
        const order = values.map((_, i) => i).sort((a, b) => compareUtf8(values[a]!, values[b]!));
        const rank = new Array<number>(values.length);
        order.forEach((i, r) => (rank[i] = r));
        expect([...utf8Ranks(values)]).toEqual(rank);
      }),
      { numRuns: 2000 },
    );
  });
});
