import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EventTable, resolveLimits } from '../internal.js';
import { coocRowObjects, computeCoocRows, itemsBySession } from './cooc.js';
import { coocRowRange, rowRanges, sessionRuns, sharedU32, type SessionRuns } from './cooc-rows.js';
import { invertRanks } from './order-keys.js';

/** `[session, item]` pairs → an event table (one event per pair, in order); item names are not in id order. */
function table(events: readonly (readonly [number, number])[]): EventTable {
  const t = new EventTable();
  events.forEach(([s, i], k) => t.add({ ts: `2026-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`, tenant: 't', surface: 's', session_id: `s${s}`, item_id: `${'zyxw'[i % 4]}${i}` }));
  return t;
}

/** The runs as plain arrays, built the obvious way from the table's columns (no counting sorts, no in-place writes). */
function referenceRuns(t: EventTable, keep?: Uint8Array): { [K in keyof SessionRuns]: number[] } {
  const bySession = new Map<number, Set<number>>();
  const session = t.session.view();
  const item = t.item.view();
  for (let i = 0; i < t.length; i++) {
    if (!bySession.has(session[i]!)) bySession.set(session[i]!, new Set());
    bySession.get(session[i]!)!.add(item[i]!);
  }
  const runStart: number[] = [];
  const runItems: number[] = [];
  const sessionsOf = new Map<number, number[]>();
  for (let s = 0; s < t.sessions.size; s++) {
    runStart.push(runItems.length);
    // Distinct items in first-seen order (a Set keeps insertion order; events of a session stay in table order).
    const items = [...(bySession.get(s) ?? [])];
    // With a row cut, only sessions read by a kept row, and only kept items' sessions.
    if (items.length < 2 || (keep && !items.some((x) => keep[x]))) continue;
    // With a row cut, kept items first (KeptPairs), each part in first-seen order.
    if (keep) runItems.push(...items.filter((x) => keep[x]), ...items.filter((x) => !keep[x]));
    else runItems.push(...items);
    for (const x of items) if (!keep || keep[x]) (sessionsOf.get(x) ?? sessionsOf.set(x, []).get(x)!).push(s);
  }
  runStart.push(runItems.length);
  const invStart = [0];
  const invSessions: number[] = [];
  for (let x = 0; x < t.items.size; x++) {
    invSessions.push(...(sessionsOf.get(x) ?? []));
    invStart.push(invSessions.length);
  }
  const idOfRank = invertRanks(t.items.utf8Ranks());
  const rowIds = [...idOfRank].filter((x) => sessionsOf.has(x) && (!keep || keep[x]));
  return { runStart, runItems, invStart, invSessions, rowIds };
}

const plain = (runs: SessionRuns) => ({
  runStart: [...runs.runStart],
  runItems: [...runs.runItems],
  invStart: [...runs.invStart],
  invSessions: [...runs.invSessions],
  rowIds: [...runs.rowIds],
});

const keptPlain = (runs: SessionRuns) => ({ runKept: [...runs.kept!.runKept], pairs: [...runs.kept!.pairs] });

/** KeptPairs from the reference runs: kept items per run, and sessions shared by every two rows, counted pair by pair. */
function referenceKept(runs: { [K in keyof SessionRuns]: number[] }, keep: Uint8Array) {
  const runKept: number[] = [];
  const rows = runs.rowIds.length;
  const pairs = Array<number>(rows * rows).fill(0);
  for (let s = 0; s + 1 < runs.runStart.length; s++) {
    const items = runs.runItems.slice(runs.runStart[s], runs.runStart[s + 1]);
    runKept.push(items.filter((x) => keep[x]).length);
    for (let a = 0; a < rows; a++) for (let b = 0; b < rows; b++) if (a !== b && items.includes(runs.rowIds[a]!) && items.includes(runs.rowIds[b]!)) pairs[a * rows + b]!++;
  }
  return { runKept, pairs };
}

// Sessions of one event (or one repeated item) make the runs fill less than half the grouped items (a copy);
// long sessions make them fill more (a view over the grouped items).
const events = fc.oneof(
  fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 12 })), { maxLength: 250 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 30 })), { maxLength: 250 }),
  fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 3 })), { maxLength: 250 }),
);

describe('session runs built in place over the items grouped by session', () => {
  test('property: the same runs as grouping the columns naively, in plain and in shared memory, with and without a row cut', () => {
    fc.assert(
      fc.property(events, fc.boolean(), fc.option(fc.uint8Array({ minLength: 31, maxLength: 31, max: 1 })), (evs, shared, keep) => {
        const t = table(evs);
        const limits = resolveLimits({});
        const idOfRank = invertRanks(t.items.utf8Ranks());
        const keepIds = keep ?? undefined;
        const runs = sessionRuns(t, limits, idOfRank, itemsBySession(t), keepIds, shared ? sharedU32 : undefined);
        const reference = referenceRuns(t, keepIds);
        expect(plain(runs)).toEqual(reference);
        expect(runs.kept !== undefined).toBe(keepIds !== undefined);
        if (runs.kept) expect(keptPlain(runs)).toEqual(referenceKept(reference, keepIds!));
        const arrays = [runs.runStart, runs.runItems, runs.invStart, runs.invSessions, runs.rowIds, ...(runs.kept ? [runs.kept.runKept, runs.kept.pairs] : [])];
        if (shared) for (const a of arrays) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
      }),
      { numRuns: 400 },
    );
  });

  test('property: events that already come session after session (grouped by a copy) give the same runs', () => {
    fc.assert(
      fc.property(events, fc.option(fc.uint8Array({ minLength: 31, maxLength: 31, max: 1 })), (evs, keep) => {
        const t = table([...evs].sort((a, b) => a[0] - b[0]));
        const keepIds = keep ?? undefined;
        const grouped = itemsBySession(t);
        expect(grouped.items).not.toBe(t.item.view());
        expect(plain(sessionRuns(t, resolveLimits({}), invertRanks(t.items.utf8Ranks()), grouped, keepIds))).toEqual(referenceRuns(t, keepIds));
        // The table's column is left as it was (the runs are written over the copy).
        expect([...t.item.view()]).toEqual([...evs].sort((a, b) => a[0] - b[0]).map(([, i]) => t.items.values.indexOf(`${'zyxw'[i % 4]}${i}`)));
      }),
      { numRuns: 300 },
    );
  });

  test('the grouped items hold each session’s items, repeats included', () => {
    const t = table([[3, 1], [1, 2], [3, 1], [2, 0], [1, 5], [3, 4]]);
    const { items, start } = itemsBySession(t);
    const names = (from: number, to: number) => [...items.subarray(from, to)].map((id) => t.items.values[id]).sort();
    // Sessions are numbered as first seen: s3 → 0, s1 → 1, s2 → 2.
    expect([...start]).toEqual([0, 3, 5, 6]);
    expect(names(0, 3)).toEqual(['y1', 'y1', 'z4']);
    expect(names(3, 5)).toEqual(['x2', 'y5']);
    expect(names(5, 6)).toEqual(['z0']);
  });

  test('max_items_per_session trips on the first session over it, naming it', () => {
    const t = table([[0, 1], [0, 2], [1, 1], [1, 2], [1, 3], [1, 3], [2, 1], [2, 2], [2, 3], [2, 4]]);
    const limits = resolveLimits({ max_items_per_session: 2 });
    expect(() => sessionRuns(t, limits, invertRanks(t.items.utf8Ranks()), itemsBySession(t))).toThrow(/s1/);
  });

  test('with a row cut, max_items_per_session still trips on a session that holds no kept item', () => {
    // s1 holds items 1, 2, 3 (3 > 2) and none of them is kept: it is read by no row, but it is over the limit.
    const t = table([[0, 0], [0, 4], [1, 1], [1, 2], [1, 3], [2, 0], [2, 4], [2, 5]]);
    const limits = resolveLimits({ max_items_per_session: 2 });
    const keep = new Uint8Array(t.items.size);
    keep[t.item.view()[0]!] = 1;
    expect(() => sessionRuns(t, limits, invertRanks(t.items.utf8Ranks()), itemsBySession(t), keep)).toThrow(/max_items_per_session.*s1/);
  });
});

/** Cooc rows counted the obvious way: pairs of distinct items per session, in a map. */
function referenceRows(t: EventTable, maxNeighbors: number, minSupport: number) {
  const bySession = new Map<string, Set<string>>();
  for (let i = 0; i < t.length; i++) {
    const s = t.sessions.values[t.session.view()[i]!]!;
    if (!bySession.has(s)) bySession.set(s, new Set());
    bySession.get(s)!.add(t.items.values[t.item.view()[i]!]!);
  }
  const counts = new Map<string, Map<string, number>>();
  for (const items of bySession.values()) {
    for (const x of items) for (const y of items) if (x !== y) (counts.get(x) ?? counts.set(x, new Map()).get(x)!).set(y, ((counts.get(x)?.get(y)) ?? 0) + 1);
  }
  const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return [...counts.keys()].sort(utf8).map((x) => ({
    item_id: x,
    items: [...counts.get(x)!]
      .filter(([, c]) => c >= minSupport)
      .sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b))
      .slice(0, maxNeighbors)
      .map(([item_id, count]) => ({ item_id, count })),
  }));
}

describe('cooc rows from the runs', () => {
  test('property: the rows of counting pairs in a map, whatever the ranges and neighbour cut', () => {
    fc.assert(
      fc.property(events, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), (evs, maxNeighbors, minSupport, parts) => {
        const t = table(evs);
        const limits = resolveLimits({ max_neighbors_per_item: maxNeighbors, min_cooc_support: minSupport });
        const rows = coocRowObjects(computeCoocRows(t, t.items.utf8Ranks(), limits, parts));
        expect(rows).toEqual(referenceRows(t, maxNeighbors, minSupport));
      }),
      { numRuns: 300 },
    );
  });

  test('a range of long sessions holds every kept neighbour, in arrays of exactly that size', () => {
    // One session of 120 items: 120 rows of 100 kept neighbours (119 reached) each.
    const t = table(Array.from({ length: 120 }, (_, i) => [0, i] as const));
    const ranks = t.items.utf8Ranks();
    const idOfRank = invertRanks(ranks);
    const runs = sessionRuns(t, resolveLimits({}), idOfRank, itemsBySession(t));
    const range = coocRowRange(runs, ranks, idOfRank, { min_cooc_support: 1, max_neighbors_per_item: 100 }, 0, runs.rowIds.length);
    expect(range.nbr.length).toBe(120 * 100);
    expect(range.cnt.length).toBe(120 * 100);
    expect(range.nbr.buffer.byteLength).toBe(120 * 100 * 4);
    expect([...range.len]).toEqual(Array(120).fill(100));
    expect(coocRowObjects(computeCoocRows(t, ranks, resolveLimits({ max_neighbors_per_item: 100 })))).toEqual(referenceRows(t, 100, 1));
  });
});

describe('cooc rows with many more neighbours than they keep', () => {
  /**
   * Item 0 shares 255 + i sessions with item i (i = 1 .. 10: counts from the last count class up), 2 with
   * items 11 .. 30 (ties at a cut) and 1 with items 31 .. 330; so rows keep a few of several hundred.
   */
  function crowded(): EventTable {
    const events: [number, number][] = [];
    let s = 0;
    for (let i = 1; i <= 10; i++) for (let k = 0; k < 255 + i; k++) events.push([s, 0], [s++, i]);
    for (let i = 11; i <= 30; i++) for (let k = 0; k < 2; k++) events.push([s, 0], [s++, i]);
    for (let i = 31; i <= 330; i++) events.push([s, 0], [s++, i]);
    return table(events);
  }

  test.each([3, 10, 15, 40, 400])('the rows of counting pairs in a map, keeping %i neighbours', (maxNeighbors) => {
    const t = crowded();
    const rows = coocRowObjects(computeCoocRows(t, t.items.utf8Ranks(), resolveLimits({ max_neighbors_per_item: maxNeighbors }), 2));
    expect(rows).toEqual(referenceRows(t, maxNeighbors, 1));
  });

  test.each([3, 15, 40])('with a row cut (kept pairs from the matrix), keeping %i neighbours', (maxNeighbors) => {
    const t = crowded();
    const limits = resolveLimits({ max_neighbors_per_item: maxNeighbors, max_items_per_artifact: 12 });
    const rows = coocRowObjects(computeCoocRows(t, t.items.utf8Ranks(), limits));
    const reference = referenceRows(t, maxNeighbors, 1);
    expect(rows.length).toBe(12);
    expect(rows).toEqual(reference.filter((row) => rows.some((r) => r.item_id === row.item_id)));
    // Item 0's row is kept (the most exposed) and reaches every count class.
    expect(rows.find((r) => r.item_id === 'z0')!.items[0]).toEqual({ item_id: 'x10', count: 265 });
  });
});

describe('row ranges of about equal work', () => {
  test('a row of many sessions gets a range with few other rows; ranges cover every row once, in order', () => {
    // Item 0 shares each of 10 sessions with one other item; each other item is in that one session.
    const t = table(Array.from({ length: 10 }, (_, s) => [[s, 0] as const, [s, s + 1] as const]).flat());
    const idOfRank = invertRanks(t.items.utf8Ranks());
    const ranges = rowRanges(sessionRuns(t, resolveLimits({}), idOfRank, itemsBySession(t)), 2);
    expect(ranges.flat()).toEqual([0, ranges[0]![1], ranges[0]![1], 11]);
    const heavy = [...idOfRank].filter((id) => id < 11).indexOf(t.items.values.indexOf('z0'));
    const [from, to] = ranges.find(([f, e]) => f <= heavy && heavy < e)!;
    expect(to - from).toBeLessThanOrEqual(3);
    // With every item kept (KeptPairs: each row reads a line of the matrix), still every row once, in order.
    const kept = rowRanges(sessionRuns(t, resolveLimits({}), idOfRank, itemsBySession(t), new Uint8Array(t.items.size).fill(1)), 3);
    expect(kept[0]![0]).toBe(0);
    expect(kept.at(-1)![1]).toBe(11);
    for (let k = 1; k < kept.length; k++) expect(kept[k]![0]).toBe(kept[k - 1]![1]);
    // More parts than rows: one row each at most, still every row.
    const runs = sessionRuns(t, resolveLimits({}), idOfRank, itemsBySession(t));
    expect(rowRanges(runs, 40)).toEqual(Array.from({ length: 11 }, (_, r) => [r, r + 1]));
  });
});
