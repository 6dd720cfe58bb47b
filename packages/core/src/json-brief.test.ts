import { describe, expect, test } from 'vitest';
import { briefJson } from './json-brief.js';

describe('briefJson', () => {
  test('describes scalars as JSON and containers by kind', () => {
    expect(briefJson(2)).toBe('2');
    expect(briefJson(2.5)).toBe('2.5');
    expect(briefJson(null)).toBe('null');
    expect(briefJson(true)).toBe('true');
    expect(briefJson('x"y')).toBe('"x\\"y"');
    expect(briefJson([])).toBe('an empty array');
    expect(briefJson([1, [2]])).toBe('an array of 2');
    expect(briefJson({ a: 1 })).toBe('an object');
  });

  test('stays short for huge strings and deeply nested values', () => {
    const long = briefJson('x'.repeat(1 << 20));
    expect(long.length).toBeLessThan(80);
    expect(long.startsWith('"xxx')).toBe(true);
    const depth = 200_000;
    const nested: unknown = JSON.parse('['.repeat(depth) + ']'.repeat(depth));
    expect(() => JSON.stringify(nested)).toThrow(RangeError);
    expect(briefJson(nested)).toBe('an array of 1');
  });
});
