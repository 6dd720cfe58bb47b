import { describe, expect, test } from 'vitest';
import { Interner } from './interner.js';

describe('Interner.releaseLookups', () => {
  test('keeps the ids and values; interning or looking up afterwards throws instead of numbering afresh', () => {
    const names = new Interner();
    expect(['b', 'a', 'b', 'c'].map((v) => names.intern(v))).toEqual([0, 1, 0, 2]);
    names.releaseLookups();
    expect(names.size).toBe(3);
    expect(names.values).toEqual(['b', 'a', 'c']);
    expect([...names.utf8Ranks()]).toEqual([1, 0, 2]);
    expect(() => names.intern('a')).toThrow(/released/);
    expect(() => names.lookup('a')).toThrow(/released/);
    expect(names.size).toBe(3);
  });
});
