// Rolling windows against a brute force on real data: every 7-day and 28-day
// window of the Diginetica sample (142 days), built by summing per-day
// aggregates (after a round trip through their stored form) and applying the
// limits to the sums, equals a plain Map/Set recomputation over the
// concatenated days in which a session counts within its UTC day.
import { beforeAll, describe, expect, test } from 'vitest';
import { bruteForceCounts, digineticaEventsByDay, type DigineticaEvent } from '@recsys/vitest-config/diginetica';
import { resolveLimits, type Limits } from '../limits.js';
import { EventTable } from './event-table.js';
import { countSessionPairs, coocRowObjects, coocRowsFromPairs } from './cooc.js';
import { computePopularityRows, popularityItems } from './popularity.js';
import { DayAggregateFormatError, WindowSum, decodeDayAggregate, dayAggregateOf, encodeDayAggregate, rollingWindow, windowDaysEnding, type DayAggregate } from './day-aggregate.js';

const INPUTS = [{ day: '2026-01-01', uri: 'file:///c/2026-01-01.jsonl', sha256: 'a'.repeat(64), events: 6 }];
const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

type Event = DigineticaEvent;


/** Popularity and cooc of a window, brute force: "item:count" strings as the artifacts list them. */
function bruteForce(days: Map<string, Event[]>, window: readonly string[], limits: Limits): { popularity: string[]; cooc: [string, string[]][] } {
  const { exposures, together } = bruteForceCounts(days, window);
  const byExposure = [...exposures.entries()].sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b));
  const popularity = byExposure.slice(0, limits.max_items_per_artifact).map(([i, c]) => `${i}:${c}`);
  // Rows of the most exposed items when there are too many, then by item id.
  const rowItems = byExposure.map(([i]) => i).filter((i) => together.has(i)).slice(0, limits.max_items_per_artifact).sort(utf8);
  const cooc = rowItems.map((item): [string, string[]] => [
    item,
    [...together.get(item)!.entries()]
      .filter(([, c]) => c >= limits.min_cooc_support)
      .sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b))
      .slice(0, limits.max_neighbors_per_item)
      .map(([i, c]) => `${i}:${c}`),
  ]);
  return { popularity, cooc };
}

function tableOf(day: string, events: readonly Event[]): EventTable {
  const table = new EventTable({ users: false, instants: false });
  for (const e of events) table.add({ ts: `${day}T00:00:00Z`, tenant: 't', surface: 's', session_id: e.session, item_id: e.item });
  return table;
}

async function roundTrip(aggregate: DayAggregate): Promise<DayAggregate> {
  const text = [...encodeDayAggregate({ tenant: 't', surface: 's' }, INPUTS, aggregate)].join('');
  return (await decodeDayAggregate(text.split('\n'))).aggregate;
}

function windowArtifacts(aggregates: Map<string, DayAggregate>, window: readonly string[], limits: Limits) {
  const sum = new WindowSum();
  for (const day of window) {
    const a = aggregates.get(day);
    if (a) sum.add(a);
  }
  const s = sum.result();
  return {
    popularity: popularityItems(computePopularityRows(s.exposure, limits.max_items_per_artifact)).map((i) => `${i.item_id}:${i.count}`),
    cooc: coocRowObjects(coocRowsFromPairs(s.exposure, s.pairs, limits)).map((r): [string, string[]] => [r.item_id, r.items.map((i) => `${i.item_id}:${i.count}`)]),
  };
}

describe('rolling windows on the Diginetica sample equal a brute force over the concatenated days', () => {
  let days: Map<string, Event[]>;
  let aggregates: Map<string, DayAggregate>;
  beforeAll(async () => {
    days = digineticaEventsByDay();
    aggregates = new Map();
    const limits = resolveLimits({});
    for (const [day, events] of days) {
      const table = tableOf(day, events);
      aggregates.set(day, await roundTrip(dayAggregateOf(day, table, countSessionPairs(table, limits))));
    }
  });

  test('the sample spans 142 days with gaps (windows over missing days sum what exists)', () => {
    expect(days.size).toBe(142);
    const all = [...days.keys()];
    expect(windowDaysEnding(all.at(-1)!, 1)).toEqual([all.at(-1)]);
  });

  const LIMITS: [string, Partial<Record<keyof Limits, number>>][] = [
    ['Go defaults (50 neighbours, 1000 rows)', {}],
    ['min_cooc_support 2 applied to the sums', { min_cooc_support: 2 }],
    ['tight truncation: 5 neighbours, 40 rows of the most exposed items', { max_neighbors_per_item: 5, max_items_per_artifact: 40 }],
  ];
  for (const n of [7, 28]) {
    for (const [name, overrides] of LIMITS) {
      // 28-day windows ending on every third day: they overlap by 25 days, so every day is in many.
      const step = n === 7 ? 1 : 3;
      test(`${n}-day windows ending on every ${step === 1 ? '' : 'third '}day of the sample, ${name}`, () => {
        const limits = resolveLimits(overrides);
        let checked = 0;
        let multiDayPairs = 0;
        for (const end of [...days.keys()].filter((_, k) => k % step === 0)) {
          const window = windowDaysEnding(end, n);
          expect(window).toHaveLength(n);
          const want = bruteForce(days, window, limits);
          const got = windowArtifacts(aggregates, window, limits);
          expect(got.popularity, `${n} days to ${end}`).toEqual(want.popularity);
          expect(got.cooc, `${n} days to ${end}`).toEqual(want.cooc);
          checked++;
          if (window.filter((d) => days.has(d)).length > 1) multiDayPairs++;
        }
        expect(checked).toBe(Math.ceil(142 / step));
        // The property is about sums over several days: almost every window has more than one day.
        expect(multiDayPairs).toBeGreaterThan(checked - 5);
        // A brute force over up to 142 windows: generous, since CI runs every package's suite at once on 2 cores.
      }, 300_000);
    }
  }

  test('a window sums the untruncated days: an item cut from every day can lead the window', () => {
    // Three days, each with a top item of its own; "w" is second on every day, so with
    // max_items_per_artifact 1 no day lists it, but over the window it has the most exposures.
    const agg = (day: string, top: string) => {
      const t = tableOf(day, [
        { session: 's1', item: top },
        { session: 's2', item: top },
        { session: 's3', item: top },
        { session: 's1', item: 'w' },
        { session: 's2', item: 'w' },
      ]);
      return dayAggregateOf(day, t, countSessionPairs(t, resolveLimits({})));
    };
    const limits = resolveLimits({ max_items_per_artifact: 1, min_cooc_support: 3 });
    const sum = new WindowSum();
    for (const [day, top] of [['2026-01-01', 'a'], ['2026-01-02', 'b'], ['2026-01-03', 'c']] as const) sum.add(agg(day, top));
    const s = sum.result();
    expect(popularityItems(computePopularityRows(s.exposure, 1))).toEqual([{ item_id: 'w', count: 6 }]);
    // No pair reaches support 3 on a day (2 sessions each), and none over the window either
    // (each pair is on one day only), so the row of "w" is empty.
    expect(coocRowObjects(coocRowsFromPairs(s.exposure, s.pairs, limits))).toEqual([{ item_id: 'w', items: [] }]);
    expect(s).toMatchObject({ days: ['2026-01-01', '2026-01-02', '2026-01-03'], events: 15, sessions: 9, items: 4, hasPairs: true });
  });

  test('a session id on two days is two sessions (a session counts within its UTC day)', () => {
    const limits = resolveLimits({ min_cooc_support: 2 });
    const sum = new WindowSum();
    for (const day of ['2026-01-01', '2026-01-02']) {
      const t = tableOf(day, [
        { session: 'same', item: 'x' },
        { session: 'same', item: 'y' },
      ]);
      sum.add(dayAggregateOf(day, t, countSessionPairs(t, limits)));
    }
    const s = sum.result();
    expect(s.sessions).toBe(2);
    expect(coocRowObjects(coocRowsFromPairs(s.exposure, s.pairs, limits))).toEqual([
      { item_id: 'x', items: [{ item_id: 'y', count: 2 }] },
      { item_id: 'y', items: [{ item_id: 'x', count: 2 }] },
    ]);
  });

  test('the order days are added in does not change the sums', () => {
    const limits = resolveLimits({});
    const window = windowDaysEnding('2016-05-31', 28);
    const forward = windowArtifacts(aggregates, window, limits);
    const backward = windowArtifacts(aggregates, [...window].reverse(), limits);
    expect(backward).toEqual(forward);
  });

  test('a day without pair counts leaves the window without pairs', () => {
    const t = tableOf('2026-01-01', [{ session: 's', item: 'x' }]);
    const sum = new WindowSum();
    sum.add(dayAggregateOf('2026-01-01', t, undefined));
    expect(sum.result().hasPairs).toBe(false);
    expect(() => sum.add(dayAggregateOf('2026-01-01', t, undefined))).toThrow(/already/);
  });

  test('rollingWindow covers the N days ending with the day', () => {
    expect(rollingWindow('2026-03-01', 7)).toEqual({ start: '2026-02-23T00:00:00Z', end: '2026-03-02T00:00:00Z' });
    expect(rollingWindow('2026-03-01', 1)).toEqual({ start: '2026-03-01T00:00:00Z', end: '2026-03-02T00:00:00Z' });
  });
});

describe('stored day aggregates', () => {
  const limits = resolveLimits({});
  const table = tableOf('2026-01-01', [
    { session: 's1', item: 'b' },
    { session: 's1', item: 'a' },
    { session: 's2', item: '😀' },
    { session: 's2', item: '\uffff' },
    { session: 's2', item: 'a' },
    { session: 's3', item: 'c' },
  ]);
  const aggregate = dayAggregateOf('2026-01-01', table, countSessionPairs(table, limits));
  const text = [...encodeDayAggregate({ tenant: 't', surface: 's' }, INPUTS, aggregate)].join('');

  test('items in UTF-8 order, pairs grouped by (a, b); decodes to the same aggregate', async () => {
    const lines = text.split('\n');
    expect(lines.slice(1)).toEqual(['["a",2]', '["b",1]', '["c",1]', '["\uffff",1]', '["😀",1]', '[0,1,1,3,1,4,1]', '[3,4,1]', '']);
    expect(JSON.parse(lines[0]!)).toEqual({ format: 'recsys-day-aggregate/1', tenant: 't', surface: 's', day: '2026-01-01', inputs: INPUTS, events: 6, sessions: 3, items: 5, pairs: 4 });
    const { aggregate: back } = await decodeDayAggregate(lines);
    expect(back).toEqual(aggregate);
  });

  test('the same events in another order give the same bytes', () => {
    const other = tableOf('2026-01-01', [
      { session: 's3', item: 'c' },
      { session: 's2', item: 'a' },
      { session: 's2', item: '\uffff' },
      { session: 's1', item: 'a' },
      { session: 's2', item: '😀' },
      { session: 's1', item: 'b' },
    ]);
    expect([...encodeDayAggregate({ tenant: 't', surface: 's' }, INPUTS, dayAggregateOf('2026-01-01', other, countSessionPairs(other, limits)))].join('')).toBe(text);
  });

  test('without pairs: header says null, no pair lines', async () => {
    const plain = [...encodeDayAggregate({ tenant: 't', surface: 's' }, INPUTS, dayAggregateOf('2026-01-01', table, undefined))].join('');
    expect(JSON.parse(plain.split('\n')[0]!).pairs).toBeNull();
    expect(plain.split('\n')).toHaveLength(7);
    expect((await decodeDayAggregate(plain.split('\n'))).aggregate.pairs).toBeUndefined();
  });

  test.each([
    ['truncated', (l: string[]) => l.slice(0, 4), /truncated/],
    ['an item out of order', (l: string[]) => [l[0]!, l[2]!, l[1]!, ...l.slice(3)], /UTF-8 order/],
    ['a pair index out of range', (l: string[]) => [...l.slice(0, 6), '[0,9,1]', ...l.slice(7)], /malformed pair/],
    ['a zero count', (l: string[]) => [l[0]!, '["a",0]', ...l.slice(2)], /expected \[item_id, exposures\]/],
    ['not JSON', (l: string[]) => [l[0]!, '["a",', ...l.slice(2)], /not JSON/],
    ['a foreign header', (l: string[]) => ['{"format":"recsys-partial/1"}', ...l.slice(1)], /no valid header/],
  ])('refuses %s', async (_name, edit, message) => {
    const lines = text.split('\n');
    await expect(decodeDayAggregate(edit(lines))).rejects.toThrow(DayAggregateFormatError);
    await expect(decodeDayAggregate(edit(lines))).rejects.toThrow(message);
  });
});
