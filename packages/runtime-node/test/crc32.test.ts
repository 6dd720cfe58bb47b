// The runtime's CRC-32 (zlib.crc32 where Node has it) and core's portable one give the same value for the same bytes,
// whatever the pieces: a bucket checksummed by one is checked by the other.
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { portableCrc32 } from '@recsys/core/internal';
import { crc32Of, nodeCrc32 } from '../src/crc32.js';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

describe('nodeCrc32', () => {
  test('uses zlib.crc32 where this Node has it, core’s portable one otherwise', () => {
    expect(typeof native).toBe('function'); // Node 20.20 here: the native path is the one measured and shipped
    expect(nodeCrc32).not.toBe(portableCrc32);
    expect(crc32Of(undefined)).toBe(portableCrc32);
  });

  test('the same value as the portable CRC-32 for any pieces and start value (empty pieces too)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 6 }), fc.integer({ min: 0, max: 0xffffffff }), (pieces, value) => {
        let a = value;
        let b = value;
        for (const piece of pieces) {
          a = nodeCrc32(piece, a);
          b = portableCrc32(piece, b);
          expect(a).toBe(b);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('an empty piece gives the value back, whatever buffer it views (zlib.crc32 returns 0 for one with no memory)', () => {
    for (const empty of [new Uint8Array(new ArrayBuffer(0)), new Uint8Array(0), new Uint8Array(8).subarray(8)]) {
      expect(nodeCrc32(empty, 0xcbf43926)).toBe(0xcbf43926);
      expect(nodeCrc32(empty, 0)).toBe(0);
    }
  });

  test('long inputs, views into larger buffers', () => {
    const big = new Uint8Array(3 << 20);
    for (let k = 0; k < big.length; k++) big[k] = (k * 2654435761) >>> 24;
    const view = big.subarray(12345, big.length - 6789);
    expect(nodeCrc32(view, 0)).toBe(portableCrc32(view, 0));
    expect(nodeCrc32(view, 0x12345678)).toBe(portableCrc32(view, 0x12345678));
  });
});
