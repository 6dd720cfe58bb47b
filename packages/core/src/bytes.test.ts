import { describe, expect, it } from 'vitest';
import { concatBytes } from './bytes.js';

describe('concatBytes', () => {
  it('joins the chunks in order', () => {
    const out = concatBytes([Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]);
    expect([...out]).toEqual([1, 2, 3]);
  });

  it('returns a fresh buffer even for one chunk, so the caller may transfer or reuse the input', () => {
    const input = Uint8Array.of(7, 8, 9);
    const out = concatBytes([input.subarray(1)]);
    expect(out.buffer).not.toBe(input.buffer);
    input[1] = 0;
    expect([...out]).toEqual([8, 9]);
  });

  it('uses the length it is given', () => {
    expect(concatBytes([Uint8Array.of(1), Uint8Array.of(2)], 2).byteLength).toBe(2);
    expect(concatBytes([]).byteLength).toBe(0);
  });
});
