import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { crc32Hex, portableCrc32 } from './crc32-portable.js';

const enc = new TextEncoder();

/** The CRC-32 bit by bit, as the standard defines it: what the sliced tables must agree with. */
function bitwise(data: Uint8Array, value: number): number {
  let c = ~value >>> 0;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (0xedb88320 ^ (c >>> 1)) >>> 0 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('portableCrc32', () => {
  test('known values (the CRC-32 check value and zlib’s)', () => {
    expect(portableCrc32(enc.encode('123456789'), 0)).toBe(0xcbf43926);
    expect(portableCrc32(enc.encode('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x414fa339);
    expect(portableCrc32(new Uint8Array(0), 0)).toBe(0);
    expect(portableCrc32(new Uint8Array(0), 0xdeadbeef)).toBe(0xdeadbeef);
    expect(crc32Hex(0xcbf43926)).toBe('cbf43926');
    expect(crc32Hex(0x414fa339)).toBe('414fa339');
    expect(crc32Hex(7)).toBe('00000007');
  });

  test('equals the bitwise CRC-32 for any bytes and start value, and continues across pieces', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 300 }), fc.integer({ min: 0, max: 0xffffffff }), (data, cutAt, value) => {
        const whole = portableCrc32(data, value);
        expect(whole).toBe(bitwise(data, value));
        const cut = Math.min(cutAt, data.length);
        expect(portableCrc32(data.subarray(cut), portableCrc32(data.subarray(0, cut), value))).toBe(whole);
      }),
      { numRuns: 500 },
    );
  });
});
