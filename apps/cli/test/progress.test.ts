// The terminal progress line groups the lines read as `toLocaleString('en-US')` does, without ICU's set-up.
import { describe, expect, test } from 'vitest';
import { groupThousands } from '../src/interrupt.js';

describe('groupThousands', () => {
  test('writes every whole number as en-US does', () => {
    const numbers = [0, 7, 12, 999, 1000, 1001, 65_535, 999_999, 1_000_000, 12_345_678, 50_000_000, 2 ** 32, Number.MAX_SAFE_INTEGER];
    for (let i = 0; i < 2000; i++) numbers.push(Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 16)));
    for (const n of numbers) expect(groupThousands(n), String(n)).toBe(n.toLocaleString('en-US'));
  });
});
