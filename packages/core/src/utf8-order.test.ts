import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareUtf8 } from './internal.js';

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
