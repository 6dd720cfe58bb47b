import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EventTable, resolveLimits } from '../internal.js';
import { coocRowObjects, coocRowsFromPairs, computeCoocRows, countSessionPairs } from './cooc.js';

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
        },
      ),
      { numRuns: 300 },
    );
  });

  test('the kept rows are those of the most exposed items, with all their neighbours', () => {
    // A is the most exposed item; only its row is kept, and it lists every item it shared a session with.
    const t = table([[1, 0], [1, 1], [2, 0], [2, 2], [3, 0], [3, 3], [4, 1], [4, 2], [5, 0]]);
    const rows = coocRowObjects(computeCoocRows(t, t.items.utf8Ranks(), resolveLimits({ max_items_per_artifact: 1 })));
    expect(rows).toEqual([{ item_id: 'i0', items: [{ item_id: 'i1', count: 1 }, { item_id: 'i2', count: 1 }, { item_id: 'i3', count: 1 }] }]);
  });
});
