import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { PairCounter } from '../internal.js';

const collect = (counter: PairCounter) => {
  const out = new Map<string, number>();
  counter.forEach((x, y, c) => {
    expect(out.has(`${x},${y}`)).toBe(false);
    out.set(`${x},${y}`, c);
  });
  return out;
};

describe('PairCounter', () => {
  test('property: counts like a Map keyed by the pair, through growth', () => {
    const id = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xfffffffd }), fc.constantFrom(0, 0xfffffffe - 1));
    const addArb = fc.tuple(id, id, fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1000 }))).filter(([x, y]) => x !== y).map(([x, y, by]) => [Math.min(x, y), Math.max(x, y), by] as const);
    fc.assert(
      fc.property(fc.array(addArb, { maxLength: 500 }), fc.integer({ min: 1, max: 64 }), (adds, capacity) => {
        const counter = new PairCounter(capacity);
        const reference = new Map<string, number>();
        for (const [x, y, by] of adds) {
          counter.add(x, y, by);
          reference.set(`${x},${y}`, (reference.get(`${x},${y}`) ?? 0) + by);
        }
        expect(counter.size).toBe(reference.size);
        expect(collect(counter)).toEqual(reference);
      }),
      { numRuns: 300 },
    );
  });

  test('(x, y) and (y, x) are different keys: callers must order pairs', () => {
    const counter = new PairCounter(4);
    counter.add(1, 2);
    counter.add(1, 2);
    counter.add(2, 3, 5);
    expect(collect(counter)).toEqual(new Map([['1,2', 2], ['2,3', 5]]));
  });

  test('holds far more pairs than its initial capacity', () => {
    const counter = new PairCounter(1);
    for (let x = 0; x < 300; x++) for (let y = x + 1; y < 300; y += 7) counter.add(x, y);
    let total = 0;
    counter.forEach((_x, _y, c) => (total += c));
    expect(counter.size).toBe(total);
    expect(counter.size).toBe(Array.from({ length: 300 }, (_, x) => Math.ceil((299 - x) / 7)).reduce((a, b) => a + b, 0));
  });
});
