import { z } from 'zod';
import { InputPartitionSchema, type InputPartition } from '@recsys/contracts';
import { compareUtf8 } from '../utf8-order.js';
import { dayOfMs, dayStartMs, nextDay } from '../days.js';
import type { EventTable } from './event-table.js';
import { Interner } from './interner.js';
import { U32Counts } from './growable.js';
import { PairCounter } from './pair-counter.js';
import { SortedPairs, type PairCounts } from './sorted-pairs.js';
import { invertRanks } from './order-keys.js';
import type { ItemExposure } from './popularity.js';
import { countingSort } from './counting-sort.js';

/*
 * Per-day aggregates and rolling windows (DESIGN §9, docs/explanation/windows.md).
 *
 * A day aggregate holds a UTC day's **untruncated** counts: exposures per
 * item and, when pairs were counted, the number of the day's sessions in
 * which each pair of items appears. A window of N days sums the aggregates
 * of its days, then the artifact kind's merge function (the one sharded
 * runs use) applies `min_cooc_support`, `max_neighbors_per_item` and
 * `max_items_per_artifact` to the sums. A session counts within its UTC day,
 * exactly as the service sums its daily signal rows: the same session id on
 * two days is two sessions.
 *
 * The serialized form follows the partials' body (docs/how-to/scale-out.md):
 *   line 1       header (DayAggregateHeader)
 *   next `items` `[item_id, exposures]` in UTF-8 order (an item's position is its index)
 *   then         `[a, b1, c1, b2, c2, …]` pairs a < b by index, grouped by a then b.
 * Same aggregate ⇒ same bytes.
 */

/** Format tag of stored day aggregates. @since 0.3.0 */
export const DAY_AGGREGATE_FORMAT = 'recsys-day-aggregate/1';

const PAIRS_PER_LINE = 4096;

/** Session pair counts of a day, sorted by (a, b), `a < b` indices into the day's items. @since 0.3.0 */
export interface DayPairs {
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  readonly sessions: Uint32Array;
}

/** The untruncated counts of one UTC day of one tenant/surface. @since 0.3.0 */
export interface DayAggregate {
  readonly day: string;
  /** Item ids in UTF-8 byte order. */
  readonly items: readonly string[];
  /** `exposures[k]` = exposures of `items[k]` (every entry ≥ 1). */
  readonly exposures: Uint32Array;
  /** Session pair counts, when they were counted (cooc); `undefined` otherwise. */
  readonly pairs: DayPairs | undefined;
  readonly events: number;
  readonly sessions: number;
}

/**
 * The aggregate of a day's event table; `pairs` are its session pair counts
 * (`countSessionPairs`, which also applies `max_items_per_session` to the
 * day's sessions), or `undefined` when no requested kind needs them.
 * @since 0.3.0
 */
export function dayAggregateOf(day: string, table: EventTable, pairs: PairCounter | undefined): DayAggregate {
  return dayAggregateOfCounts(day, table.items, table.itemCounts, pairs, table.length, table.sessions.size);
}

/**
 * The aggregate of a day from counts by dense item id (an event table's, or
 * the summed partials of a sharded day): `items` interns the ids, `counts`
 * gives each id's exposures, `pairs` the session pair counts by id.
 * @since 0.3.0
 */
export function dayAggregateOfCounts(day: string, itemIds: Interner, counts: { get(id: number): number }, pairs: PairCounts | undefined, events: number, sessions: number): DayAggregate {
  const names = itemIds.values;
  const n = names.length;
  const ranks = itemIds.utf8Ranks();
  const idOfRank = invertRanks(ranks);
  const items = Array.from(idOfRank, (id) => names[id]!);
  const exposures = new Uint32Array(n);
  for (let r = 0; r < n; r++) exposures[r] = counts.get(idOfRank[r]!);
  let dayPairs: DayPairs | undefined;
  if (pairs instanceof SortedPairs && ranks.every((rank, id) => rank === id)) {
    // Ids are ranks (the shard merge's items) and the pairs are sorted by them: already the stored order.
    dayPairs = { a: pairs.x, b: pairs.y, sessions: pairs.counts };
  } else if (pairs) {
    const p = pairs.size;
    const lo = new Uint32Array(p);
    const hi = new Uint32Array(p);
    const cnt = new Uint32Array(p);
    let k = 0;
    pairs.forEach((x, y, c) => {
      const rx = ranks[x]!;
      const ry = ranks[y]!;
      lo[k] = Math.min(rx, ry);
      hi[k] = Math.max(rx, ry);
      cnt[k++] = c;
    });
    const identity = new Uint32Array(p);
    for (let i = 0; i < p; i++) identity[i] = i;
    const order = countingSort(countingSort(identity, hi, n), lo, n);
    dayPairs = { a: order.map((j) => lo[j]!), b: order.map((j) => hi[j]!), sessions: order.map((j) => cnt[j]!) };
  }
  return { day, items, exposures, pairs: dayPairs, events, sessions };
}

/** The N days of the window ending with `day`, oldest first. @since 0.3.0 */
export function windowDaysEnding(day: string, n: number): string[] {
  const out: string[] = [];
  const end = dayStartMs(day);
  for (let k = n - 1; k >= 0; k--) out.push(dayOfMs(end - k * 86_400_000));
  return out;
}

/** The artifact window of the N days ending with `day`: `[first 00:00Z, day+1 00:00Z)`. @since 0.3.0 */
export function rollingWindow(day: string, n: number): { start: string; end: string } {
  return { start: `${windowDaysEnding(day, n)[0]!}T00:00:00Z`, end: `${nextDay(day)}T00:00:00Z` };
}

/** The sums of a window's day aggregates, in the form the kinds' merge functions take. @since 0.3.0 */
export interface WindowSums {
  /** Exposures per merged item id, with UTF-8 ranks. */
  readonly exposure: ItemExposure;
  /** Session pair counts by merged item id (empty unless every day had pairs). */
  readonly pairs: PairCounter;
  /** Whether every day added had pair counts. */
  readonly hasPairs: boolean;
  readonly days: readonly string[];
  readonly events: number;
  readonly sessions: number;
  readonly items: number;
}

/**
 * Sums day aggregates (any order: the sums, and so the artifacts built from
 * them, do not depend on it). A day can be added once.
 * @since 0.3.0
 */
export class WindowSum {
  private readonly items = new Interner();
  private readonly exposures = new U32Counts();
  private readonly pairs = new PairCounter(1 << 16);
  private readonly days: string[] = [];
  private events = 0;
  private sessions = 0;
  private allPairs = true;

  /** Adds one day's counts. */
  add(aggregate: DayAggregate): void {
    if (this.days.includes(aggregate.day)) throw new Error(`day ${aggregate.day} is already in this window`);
    this.days.push(aggregate.day);
    const local = new Uint32Array(aggregate.items.length);
    for (let k = 0; k < aggregate.items.length; k++) {
      const id = this.items.intern(aggregate.items[k]!);
      local[k] = id;
      this.exposures.increment(id, aggregate.exposures[k]!);
    }
    if (!aggregate.pairs) this.allPairs = false;
    else {
      const { a, b, sessions } = aggregate.pairs;
      for (let k = 0; k < a.length; k++) {
        const x = local[a[k]!]!;
        const y = local[b[k]!]!;
        if (x < y) this.pairs.add(x, y, sessions[k]!);
        else this.pairs.add(y, x, sessions[k]!);
      }
    }
    this.events += aggregate.events;
    this.sessions += aggregate.sessions;
  }

  /** The sums so far. */
  result(): WindowSums {
    const names = this.items.values;
    return {
      exposure: { names, counts: this.exposures.data, ranks: this.items.utf8Ranks() },
      pairs: this.allPairs ? this.pairs : new PairCounter(0),
      hasPairs: this.allPairs && this.days.length > 0,
      days: [...this.days].sort(),
      events: this.events,
      sessions: this.sessions,
      items: names.length,
    };
  }
}

const count = z.int().min(0);

/** Line 1 of a stored day aggregate. @since 0.3.0 */
export const DayAggregateHeaderSchema = z.strictObject({
  format: z.literal(DAY_AGGREGATE_FORMAT),
  tenant: z.string(),
  surface: z.string(),
  day: z.string(),
  /** The canonical partition(s) it was computed from (one per shard): a re-ingested day has others. */
  inputs: z.array(InputPartitionSchema),
  events: count,
  sessions: count,
  items: count,
  /** Pair entries that follow; `null` when pairs were not counted. */
  pairs: count.nullable(),
});

/** A day aggregate's header. @since 0.3.0 */
export type DayAggregateHeader = z.infer<typeof DayAggregateHeaderSchema>;

/**
 * The lines (each ending with `\n`) of a stored day aggregate.
 * @since 0.3.0
 */
export function* encodeDayAggregate(scope: { readonly tenant: string; readonly surface: string }, inputs: readonly InputPartition[], aggregate: DayAggregate): Generator<string> {
  const header: DayAggregateHeader = {
    format: DAY_AGGREGATE_FORMAT,
    tenant: scope.tenant,
    surface: scope.surface,
    day: aggregate.day,
    inputs: [...inputs],
    events: aggregate.events,
    sessions: aggregate.sessions,
    items: aggregate.items.length,
    pairs: aggregate.pairs ? aggregate.pairs.a.length : null,
  };
  yield JSON.stringify(header) + '\n';
  for (let k = 0; k < aggregate.items.length; k++) yield `[${JSON.stringify(aggregate.items[k])},${aggregate.exposures[k]}]\n`;
  const p = aggregate.pairs;
  if (!p) return;
  for (let at = 0; at < p.a.length; ) {
    const a = p.a[at]!;
    const line: number[] = [a];
    for (let inLine = 0; at < p.a.length && p.a[at] === a && inLine < PAIRS_PER_LINE; inLine++, at++) line.push(p.b[at]!, p.sessions[at]!);
    yield `[${line.join(',')}]\n`;
  }
}

/** A stored day aggregate that does not parse (the caller rebuilds it from the canonical partition). @since 0.3.0 */
export class DayAggregateFormatError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'DayAggregateFormatError';
  }
}

/**
 * Parses a stored day aggregate from its lines (without the `\n`), checking
 * every line's shape, the order and the totals the header announces.
 * @since 0.3.0
 */
export async function decodeDayAggregate(lines: AsyncIterable<string> | Iterable<string>): Promise<{ header: DayAggregateHeader; aggregate: DayAggregate }> {
  let header: DayAggregateHeader | undefined;
  let lineNo = 0;
  const bad = (detail: string): never => {
    throw new DayAggregateFormatError(`line ${lineNo}: ${detail}`, lineNo);
  };
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 0xffffffff;
  let items: string[] = [];
  let exposures = new Uint32Array(0);
  let pa: number[] = [];
  let pb: number[] = [];
  let pc: number[] = [];
  for await (const text of lines) {
    lineNo++;
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      bad('not JSON');
    }
    if (!header) {
      const parsed = DayAggregateHeaderSchema.safeParse(value);
      if (!parsed.success) bad(`no valid header (${parsed.error!.issues[0]!.path.join('.') || '(root)'}: ${parsed.error!.issues[0]!.message})`);
      header = parsed.data!;
      exposures = new Uint32Array(header.items);
      continue;
    }
    if (!Array.isArray(value)) return bad('expected a JSON array');
    if (items.length < header.items) {
      if (value.length !== 2 || typeof value[0] !== 'string' || !isCount(value[1])) bad('expected [item_id, exposures]');
      // Strictly increasing: a repeated or misplaced id would make indices ambiguous.
      if (items.length > 0 && compareUtf8(items.at(-1)!, value[0] as string) >= 0) bad('items not in UTF-8 order');
      exposures[items.length] = value[1] as number;
      items.push(value[0] as string);
      continue;
    }
    if (header.pairs === null) bad('pairs in an aggregate without pair counts');
    if (value.length < 3 || value.length % 2 === 0) bad('expected [a, b, count, …]');
    const a = value[0] as unknown;
    if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a >= header.items || (pa.length > 0 && a < pa.at(-1)!)) bad(`item index ${String(a)} out of range or order`);
    for (let j = 1; j < value.length; j += 2) {
      const b = value[j] as unknown;
      const c = value[j + 1] as unknown;
      if (typeof b !== 'number' || !Number.isInteger(b) || b <= (a as number) || b >= header.items || !isCount(c)) bad('malformed pair entry');
      if (pa.length > 0 && pa.at(-1) === a && (b as number) <= pb.at(-1)!) bad('pairs out of order');
      pa.push(a as number);
      pb.push(b as number);
      pc.push(c as number);
    }
  }
  if (!header) throw new DayAggregateFormatError('empty', 0);
  if (items.length !== header.items || (header.pairs ?? 0) !== pa.length) {
    throw new DayAggregateFormatError(`truncated: ${items.length} of ${header.items} items and ${pa.length} of ${header.pairs ?? 0} pairs`, lineNo);
  }
  const pairs = header.pairs === null ? undefined : { a: Uint32Array.from(pa), b: Uint32Array.from(pb), sessions: Uint32Array.from(pc) };
  pa = pb = pc = [];
  const aggregate: DayAggregate = { day: header.day, items, exposures, pairs, events: header.events, sessions: header.sessions };
  items = [];
  return { header, aggregate };
}
