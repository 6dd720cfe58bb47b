import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FingerprintSet } from '../internal.js';

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
});
