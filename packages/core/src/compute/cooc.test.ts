import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EventTable, resolveLimits } from '../internal.js';
import { MissingPairsError, coocPairItems, coocRowObjects, coocRowsFromPairs, computeCoocRows, countSessionPairs } from './cooc.js';
import type { PairCounts } from './sorted-pairs.js';
import { SortedPairs } from './sorted-pairs.js';

/** The same pair counts as the shard merge's columns (sorted by (x, y)), which coocRowsFromPairs walks directly. */
function columns(pairs: PairCounts, touching?: Uint8Array): SortedPairs {
  let all: [number, number, number][] = [];
  pairs.forEach((x, y, c) => all.push([x, y, c]));
  all.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (touching) all = all.filter(([x, y]) => touching[x] === 1 || touching[y] === 1);
  const sorted = SortedPairs.fromColumns(Uint32Array.from(all, (p) => p[0]), Uint32Array.from(all, (p) => p[1]), Uint32Array.from(all, (p) => p[2]));
  return touching ? new SortedPairs(sorted.xs, sorted.starts, sorted.y, sorted.counts, touching) : sorted;
}

/** The rows from only the pairs that touch `coocPairItems` (as the one-day merge reads them), or `missing` when they need more. */
function rowsFromTouching(exposure: Parameters<typeof coocPairItems>[0], pairs: PairCounts, limits: ReturnType<typeof resolveLimits>) {
  const touching = coocPairItems(exposure, limits);
  if (!touching) return 'every pair';
  try {
    return coocRowObjects(coocRowsFromPairs(exposure, columns(pairs, touching), limits));
  } catch (error) {
    if (error instanceof MissingPairsError) return 'missing';
    throw error;
  }
}

/** `[session, item]` pairs → an event table (one event per pair, in order). */
function table(events: readonly (readonly [number, number])[]): EventTable {
  const t = new EventTable();
  events.forEach(([s, i], k) => t.add({ ts: `2026-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`, tenant: 't', surface: 's', session_id: `s${s}`, item_id: `i${i}` }));
  return t;
}

describe('cooc rows when max_items_per_artifact cuts', () => {
  test('property: counting only the kept rows’ pairs gives the rows of counting every pair', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 25 })), { maxLength: 200 }),
        fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constant(1_000_000)),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        (events, maxRows, maxNeighbors, minSupport, parts) => {
          const t = table(events);
          const limits = resolveLimits({ max_items_per_artifact: maxRows, max_neighbors_per_item: maxNeighbors, min_cooc_support: minSupport });
          const ranks = t.items.utf8Ranks();
          const everyPair = coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, countSessionPairs(t, limits), limits);
          expect(coocRowObjects(computeCoocRows(t, ranks, limits))).toEqual(coocRowObjects(everyPair));
          expect(coocRowObjects(computeCoocRows(t, ranks, limits, parts))).toEqual(coocRowObjects(everyPair));
          const exposure = { names: t.items.values, counts: t.itemCounts.data, ranks };
          expect(coocRowObjects(coocRowsFromPairs(exposure, columns(countSessionPairs(t, limits)), limits))).toEqual(coocRowObjects(everyPair));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: many more items than rows (kept rows found among the most exposed), from a pair table and from columns', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 60 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (events, maxRows, maxNeighbors, minSupport) => {
          const t = table(events);
          const limits = resolveLimits({ max_items_per_artifact: maxRows, max_neighbors_per_item: maxNeighbors, min_cooc_support: minSupport });
          const ranks = t.items.utf8Ranks();
          const exposure = { names: t.items.values, counts: t.itemCounts.data, ranks };
          const expected = coocRowObjects(computeCoocRows(t, ranks, limits));
          expect(coocRowObjects(coocRowsFromPairs(exposure, countSessionPairs(t, limits), limits))).toEqual(expected);
          expect(coocRowObjects(coocRowsFromPairs(exposure, columns(countSessionPairs(t, limits)), limits))).toEqual(expected);
          // From the pairs of the most exposed items alone: the same rows, or a refusal when the kept rows are not all among them.
          const touching = coocPairItems(exposure, limits);
          const among = touching !== undefined && coocRowsFromPairs(exposure, countSessionPairs(t, limits), limits).rowIds.every((id) => touching[id] === 1);
          const fromTouching = rowsFromTouching(exposure, countSessionPairs(t, limits), limits);
          if (touching === undefined) expect(fromTouching).toBe('every pair');
          else if (fromTouching !== 'missing') expect(fromTouching).toEqual(expected);
          else expect(among && expected.length === limits.max_items_per_artifact).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('rows of less exposed items when the most exposed share no session', () => {
    // i0 and i1 are the most exposed but alone in their sessions; the one row kept is i2's (more exposed than i3).
    const t = table([[1, 0], [1, 0], [2, 0], [3, 0], [4, 1], [4, 1], [5, 1], [6, 2], [6, 3], [7, 2], [8, 4]]);
    const ranks = t.items.utf8Ranks();
    const limits = resolveLimits({ max_items_per_artifact: 1 });
    const pairs = countSessionPairs(t, limits);
    const expected = [{ item_id: 'i2', items: [{ item_id: 'i3', count: 1 }] }];
    expect(coocRowObjects(computeCoocRows(t, ranks, limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, columns(pairs), limits))).toEqual(expected);
    // The pairs of the two most exposed (none) do not give the row: refused, the caller passes every pair.
    expect(rowsFromTouching({ names: t.items.values, counts: t.itemCounts.data, ranks }, pairs, limits)).toBe('missing');
    // Pairs filtered by other items than coocPairItems' are refused outright.
    expect(() => coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, columns(pairs, new Uint8Array(t.items.size).fill(1)), limits)).toThrow(/filtered by other items/);
  });

  test('the most exposed item’s row when all its pairs list it second', () => {
    // i5 is most exposed; its only neighbour i1 has the lower id, so i5 is the second item of its one pair.
    const t = table([[1, 1], [1, 5], [2, 5], [3, 5], [4, 6], [5, 7]]);
    const ranks = t.items.utf8Ranks();
    const limits = resolveLimits({ max_items_per_artifact: 1 });
    const expected = [{ item_id: 'i5', items: [{ item_id: 'i1', count: 1 }] }];
    expect(coocRowObjects(computeCoocRows(t, ranks, limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, countSessionPairs(t, limits), limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, columns(countSessionPairs(t, limits)), limits))).toEqual(expected);
  });

  test('the most exposed item’s row when its pairs list it second and first (columns walked by group)', () => {
    // i1 is most exposed; i0 has the lower id (pair (i0, i1) lists i1 second), i2 and i3 the higher (i1's own group):
    // its row needs the neighbours of both, counted in two places.
    const t = table([[1, 0], [1, 1], [2, 1], [2, 2], [3, 1], [3, 3], [4, 1], [5, 1]]);
    const ranks = t.items.utf8Ranks();
    const limits = resolveLimits({ max_items_per_artifact: 1 });
    const expected = [{ item_id: 'i1', items: [{ item_id: 'i0', count: 1 }, { item_id: 'i2', count: 1 }, { item_id: 'i3', count: 1 }] }];
    expect(coocRowObjects(computeCoocRows(t, ranks, limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, countSessionPairs(t, limits), limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, columns(countSessionPairs(t, limits)), limits))).toEqual(expected);
  });

  test('a most exposed item that has a row but is cut lists nothing into the kept rows', () => {
    // i0 and i1 both have rows; only i0's is kept, with both its neighbours (i1's counts must not leak into it).
    const t = table([[1, 0], [1, 1], [2, 0], [2, 2], [3, 1], [3, 3], [4, 1], [4, 4], [5, 0], [6, 5], [7, 6], [8, 7]]);
    const ranks = t.items.utf8Ranks();
    const limits = resolveLimits({ max_items_per_artifact: 1 });
    const expected = [{ item_id: 'i0', items: [{ item_id: 'i1', count: 1 }, { item_id: 'i2', count: 1 }] }];
    expect(coocRowObjects(computeCoocRows(t, ranks, limits))).toEqual(expected);
    expect(coocRowObjects(coocRowsFromPairs({ names: t.items.values, counts: t.itemCounts.data, ranks }, columns(countSessionPairs(t, limits)), limits))).toEqual(expected);
  });

  test('the kept rows are those of the most exposed items, with all their neighbours', () => {
    // A is the most exposed item; only its row is kept, and it lists every item it shared a session with.
    const t = table([[1, 0], [1, 1], [2, 0], [2, 2], [3, 0], [3, 3], [4, 1], [4, 2], [5, 0]]);
    const rows = coocRowObjects(computeCoocRows(t, t.items.utf8Ranks(), resolveLimits({ max_items_per_artifact: 1 })));
    expect(rows).toEqual([{ item_id: 'i0', items: [{ item_id: 'i1', count: 1 }, { item_id: 'i2', count: 1 }, { item_id: 'i3', count: 1 }] }]);
  });
});
