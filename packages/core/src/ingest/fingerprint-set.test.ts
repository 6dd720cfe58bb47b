import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FingerprintSet } from '../internal.js';
import { FP, fingerprint, fingerprintBytes, fingerprintPieces, fingerprintWordsOf, randomFingerprintKey } from './fingerprint-set.js';

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

  test('property: addBlock answers as add one event at a time and as a Set of the four words (low-bit collisions, growth inside a block, blocks past the prefetch batch, skipped events, strides 4 and 5)', () => {
    // Words that differ only above bit 20 share their home slot in any table below 2^20 slots: long probe chains.
    const word = fc.oneof(fc.integer({ min: 0, max: 15 }).map((x) => (x << 20) >>> 0), fc.constantFrom(0, 1, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
    const event = fc.tuple(word, word, fc.constantFrom(0, 5), fc.constantFrom(0, 6), fc.boolean());
    fc.assert(
      // Stride 5: the spilled dedupe's records (four fingerprint words, then the event's sequence number).
      fc.property(fc.array(fc.array(event, { maxLength: 1300 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 2000 }), fc.constantFrom(4, 5), (blocks, capacity, stride) => {
        const set = new FingerprintSet(capacity, [1, 2]);
        const oneByOne = new FingerprintSet(capacity, [1, 2]);
        const reference = new Set<string>();
        for (const block of blocks) {
          const fp = new Uint32Array(block.length * stride).fill(0xdead);
          const keep = new Uint8Array(block.length);
          const expected = new Uint8Array(block.length);
          let duplicates = 0;
          block.forEach(([h, l, kh, kl, skip], k) => {
            fp.set([h, l, kh, kl], k * stride);
            if (skip) return;
            keep[k] = 1;
            const key = `${h},${h === 0 && l === 0 ? 1 : l},${kh},${kl}`;
            const isNew = !reference.has(key);
            reference.add(key);
            expect(oneByOne.add(h, l, kh, kl)).toBe(isNew);
            if (isNew) expected[k] = 1;
            else duplicates++;
          });
          expect(stride === 4 ? set.addBlock(fp, block.length, keep) : set.addBlock(fp, block.length, keep, stride)).toBe(duplicates);
          expect([...keep]).toEqual([...expected]);
          expect(set.size).toBe(reference.size);
        }
        expect(set.collisions).toBe(oneByOne.collisions);
      }),
      { numRuns: 150 },
    );
  });

  test('property: prefault between adds (before the first, after some, through growth) changes no answer, and runs out once it has been through the table', () => {
    const word = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff }));
    // Each step adds a fingerprint or prefaults some bytes of the table.
    const step = fc.oneof({ weight: 4, arbitrary: fc.tuple(word, word, fc.constantFrom(0, 9)).map(([h, l, k]) => ({ add: [h, l, k] as const })) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 40_000 }).map((bytes) => ({ prefault: bytes })) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 600 }), fc.integer({ min: 1, max: 3000 }), (steps, capacity) => {
        const set = new FingerprintSet(capacity, [1, 2]);
        const plain = new FingerprintSet(capacity, [1, 2]);
        for (const s of steps) {
          if ('add' in s) expect(set.add(s.add[0], s.add[1], s.add[2], s.add[2])).toBe(plain.add(s.add[0], s.add[1], s.add[2], s.add[2]));
          else set.prefault(s.prefault);
        }
        expect(set.size).toBe(plain.size);
        // Every entry is still there (a repeat of each is a duplicate) and nothing else was added.
        for (const s of steps) if ('add' in s) expect(set.add(s.add[0], s.add[1], s.add[2], s.add[2])).toBe(false);
        expect(set.size).toBe(plain.size);
        // Through the table in at most bytes / 4 KiB calls (at least a page per call), then false.
        let calls = 1;
        while (set.prefault(4096)) calls++;
        expect(calls).toBeLessThanOrEqual(Math.ceil(set.bytes / 4096));
        expect(set.prefault(4096)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  test('prefault goes through a grown table again (its pages are new)', () => {
    const set = new FingerprintSet(300);
    expect(set.bytes).toBe(8192);
    while (set.prefault(4096));
    for (let i = 1; i <= 1000; i++) set.add(i, i);
    expect(set.bytes).toBe(32768);
    // Page by page from the start: eight calls, the last one saying it is through.
    const answers = Array.from({ length: 8 }, () => set.prefault(4096));
    expect(answers).toEqual([true, true, true, true, true, true, true, false]);
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

  test('fingerprintBytes gives the values of the byte-at-a-time version (words read little-endian, the 0-3 bytes left and the length in the last word)', () => {
    // Computed by the version that assembled each word from four byte loads; the DataView loads must read the same words.
    const expected: Record<string, number[]> = {
      '': [0x1ab1854e, 0xebb6c228, 0xa0faf899, 0x3c504fec],
      a: [0x0b2da1f5, 0x7fa09ea6, 0x1cf8c9c7, 0x63b9391c],
      ab: [0xb28b7ee5, 0x74875592, 0x145e048d, 0x5ecb3e3f],
      abc: [0x3b336767, 0xc84a62dd, 0xf97af8cb, 0x7317a254],
      abcd: [0xe0217e9d, 0x95a46ea9, 0xaaa82938, 0x45cd4516],
      abcde: [0x4739f20f, 0x5d0c2dcd, 0x2e959650, 0x1c14634b],
      '{"v":1,"ts":"2026-03-01T00:00:00.153Z","tenant":"bench","surface":"web","session_id":"s1","item_id":"i51079","request_id":"r1","rank":0}': [0x4e66b62c, 0xf80b2f7f, 0x5d3ccdd5, 0x224dc650],
      'é\u0000\u00ff☃': [0xd25bb354, 0x75b4fd46, 0x72dccd1c, 0x9ab3b923],
    };
    for (const [text, words] of Object.entries(expected)) {
      const bytes = new TextEncoder().encode(text);
      fingerprintBytes(bytes, 0, bytes.length, [0x01234567, 0x89abcdef]);
      expect([...FP], JSON.stringify(text)).toEqual(words);
    }
  });

  test('property: the fingerprint of some bytes does not depend on where they sit (offset in the buffer, byteOffset of the view, which buffer came before)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 7 }), fc.nat({ max: 7 }), fc.nat({ max: 5 })), { minLength: 1, maxLength: 12 }),
        fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })),
        (pieces, key) => {
          for (const [bytes, before, viewOffset, after] of pieces) {
            fingerprintBytes(bytes.slice(), 0, bytes.length, key);
            const alone = [...FP];
            // The same bytes inside a bigger buffer, seen through a view that starts part-way into it.
            const backing = new Uint8Array(viewOffset + before + bytes.length + after).fill(0xa5);
            backing.set(bytes, viewOffset + before);
            const view = backing.subarray(viewOffset);
            fingerprintBytes(view, before, before + bytes.length, key);
            expect([...FP]).toEqual(alone);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
  test('property: fingerprintPieces is fingerprintBytes of the head, one to four zero bytes up to a multiple of four, then the body (of the body alone without a head)', () => {
    const zeroFree = fc.uint8Array({ maxLength: 30 }).map((b) => b.map((x) => x || 1));
    fc.assert(
      fc.property(zeroFree, fc.uint8Array({ maxLength: 60 }), fc.nat({ max: 9 }), fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })), (head, body, gap, key) => {
        // Head and body apart in one buffer, with other bytes between and around them.
        const buffer = new Uint8Array(3 + head.length + gap + body.length + 2).fill(0x5a);
        buffer.set(head, 3);
        const bodyAt = 3 + head.length + gap;
        buffer.set(body, bodyAt);
        fingerprintPieces(buffer, 3, 3 + head.length, bodyAt, bodyAt + body.length, key);
        const pieces = [...FP];
        const message = head.length === 0 ? body : new Uint8Array(((head.length + 4) & ~3) + body.length);
        if (head.length > 0) {
          message.set(head);
          message.set(body, (head.length + 4) & ~3);
        }
        fingerprintBytes(message, 0, message.length, key);
        expect(pieces).toEqual([...FP]);
      }),
      { numRuns: 500 },
    );
  });

  test('property: fingerprintWordsOf (the parse points the word view at its block first) changes no fingerprint, whichever buffer it was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 7 }), fc.boolean(), (bytes, before, same) => {
        const key = [3, 4] as const;
        fingerprintBytes(bytes.slice(), 0, bytes.length, key);
        const alone = Array.from(FP);
        const block = new Uint8Array(before + bytes.length).fill(0x5a);
        block.set(bytes, before);
        fingerprintWordsOf(same ? block : new Uint8Array(8));
        fingerprintBytes(block, before, before + bytes.length, key);
        expect(Array.from(FP)).toEqual(alone);
      }),
      { numRuns: 200 },
    );
  });
});
