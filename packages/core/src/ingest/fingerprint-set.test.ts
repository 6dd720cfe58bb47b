import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FingerprintSet } from '../internal.js';
import { FP, fingerprint, randomFingerprintKey } from './fingerprint-set.js';

describe('FingerprintSet', () => {
  test('property: addText behaves like Set#add on the same strings (new → true, repeat → false), through growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('', 'a', 'b', '{"v":1}', 'é'), fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 8 })), { maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (texts, capacity) => {
          const set = new FingerprintSet(capacity);
          const reference = new Set<string>();
          for (const text of texts) {
            const isNew = !reference.has(text);
            reference.add(text);
            expect(set.addText(text), JSON.stringify(text)).toBe(isNew);
            expect(set.size).toBe(reference.size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: add(h, l) behaves like a set of pairs; (0, 0) is stored as (0, 1)', () => {
    const word = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(0xffffffff, 0x80000000), fc.integer({ min: 0, max: 0xffffffff }));
    fc.assert(
      fc.property(fc.array(fc.tuple(word, word), { maxLength: 300 }), (pairs) => {
        const set = new FingerprintSet(1);
        const reference = new Set<string>();
        for (const [h, l] of pairs) {
          const key = h === 0 && l === 0 ? '0,1' : `${h},${l}`;
          const isNew = !reference.has(key);
          reference.add(key);
          expect(set.add(h, l)).toBe(isNew);
        }
        expect(set.size).toBe(reference.size);
      }),
      { numRuns: 300 },
    );
  });

  test('keeps 200k distinct lines apart', () => {
    const set = new FingerprintSet();
    for (let i = 0; i < 200_000; i++) expect(set.addText(`{"session_id":"s${i}","item_id":"i${i % 977}"}`)).toBe(true);
    expect(set.size).toBe(200_000);
    expect(set.addText('{"session_id":"s5","item_id":"i5"}')).toBe(false);
  });

  test('a hit on the unkeyed part alone is a collision, not a duplicate; all four words must match (through growth)', () => {
    const set = new FingerprintSet(1);
    expect(set.add(7, 9, 1, 2)).toBe(true);
    expect(set.add(7, 9, 1, 3)).toBe(true);
    expect(set.add(7, 9, 4, 2)).toBe(true);
    expect(set.collisions).toBe(3);
    for (let i = 0; i < 1000; i++) set.add(i + 100, i, i, i);
    expect(set.add(7, 9, 1, 2)).toBe(false);
    expect(set.add(7, 9, 1, 3)).toBe(false);
    expect(set.add(7, 9, 4, 2)).toBe(false);
    expect(set.size).toBe(1003);
  });

  test('the keyed part depends on the key; equal texts under one key are duplicates', () => {
    const a = new FingerprintSet(16, [1, 2]);
    const b = new FingerprintSet(16, [1, 3]);
    fingerprint('{"v":1}', a.key);
    const underA = [...FP];
    fingerprint('{"v":1}', b.key);
    const underB = [...FP];
    expect(underA.slice(0, 2)).toEqual(underB.slice(0, 2));
    expect(underA.slice(2)).not.toEqual(underB.slice(2));
    expect(a.addText('{"v":1}')).toBe(true);
    expect(a.addText('{"v":1}')).toBe(false);
    expect(randomFingerprintKey()).not.toEqual(randomFingerprintKey());
  });
});
