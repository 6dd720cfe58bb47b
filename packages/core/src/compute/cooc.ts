import type { Limits } from '../limits.js';
import { checkLimit } from '../check-limit.js';
import type { EventTable } from './event-table.js';
import { PairCounter } from './pair-counter.js';
import { nameBytes, writeIdCountArray, writeName, type JsonBytes, type NameBytes, type PayloadSource } from './emit.js';
import { invertRanks, sortTopByCountThenRank } from './order-keys.js';
import { SortedPairs, type PairCounts } from './sorted-pairs.js';
import { coocRowRange, joinRowRanges, prefixSums, rowRanges, sessionRuns, type SessionItems, type SessionRuns, type U32Alloc } from './cooc-rows.js';
import { mostExposed, type ItemCount, type ItemExposure } from './popularity.js';

/** One co-occurrence row. @since 0.1.0 */
export interface CoocRow {
  item_id: string;
  items: ItemCount[];
}

/**
 * Co-occurrence rows in compact form: row `r` is item `rowIds[r]`, its
 * neighbours are `nbr[start[r] .. start[r] + len[r])` with counts in `cnt`,
 * already ordered by count desc then item id.
 * @since 0.1.0
 */
export interface CoocRows {
  readonly names: readonly string[];
  readonly rowIds: Uint32Array;
  readonly start: Uint32Array;
  readonly len: Uint32Array;
  readonly nbr: Uint32Array;
  readonly cnt: Uint32Array;
}

/**
 * Each session's items (repeats included), session after session: a
 * counting sort of the item column by session (sessions are dense ids).
 * Item `itemsBySession.items[start[s] .. start[s + 1])` are session `s`'s.
 * The items are copied in place of a row order that would then be read
 * through (4 bytes per event less at the peak of building the runs). When
 * the events already come session after session, that is a plain copy.
 * @since 0.6.0
 */
export function itemsBySession(table: EventTable): SessionItems {
  const sessions = table.sessions.size;
  const sessionOf = table.session.view();
  const itemOf = table.item.view();
  const start = new Uint32Array(sessions + 1);
  // Each loop a function of its own (see `sessionRuns`).
  const grouped = countBySession(sessionOf, start);
  prefixSums(start, sessions);
  // A copy all the same: the runs are then written over it (sessionRuns), and the table keeps its column.
  if (grouped) return { items: itemOf.slice(), start };
  const items = new Uint32Array(sessionOf.length);
  placeBySession(sessionOf, itemOf, start.slice(0, sessions), items);
  return { items, start };
}

/**
 * Events per session into `counts[s + 1]`; whether the events already come session after session (sessions
 * are numbered as first seen, so then their ids never decrease): the usual order of a day's files, and then
 * grouping them is a copy of the items.
 */
function countBySession(sessionOf: Uint32Array, counts: Uint32Array): boolean {
  let grouped = true;
  let last = 0;
  for (let i = 0; i < sessionOf.length; i++) {
    const s = sessionOf[i]!;
    counts[s + 1]!++;
    if (s < last) grouped = false;
    last = s;
  }
  return grouped;
}

/** Each event's item at its session's next place (`fill[s]`, from the sessions' starts on). */
function placeBySession(sessionOf: Uint32Array, itemOf: Uint32Array, fill: Uint32Array, items: Uint32Array): void {
  for (let i = 0; i < sessionOf.length; i++) items[fill[sessionOf[i]!]!++] = itemOf[i]!;
}

/**
 * Counts, for every pair of distinct items, the number of sessions in which
 * both appear. Trips `max_items_per_session` on a session with too many
 * distinct items (its pairs would grow quadratically). With `keep`, only
 * pairs with at least one item in `keep` are counted (their counts are
 * exact): enough for the rows of those items.
 * @since 0.1.0
 */
export function countSessionPairs(table: EventTable, limits: Limits, pairs?: PairCounter, keep?: Uint8Array, grouped: SessionItems = itemsBySession(table)): PairCounter {
  const { items: itemOf, start } = grouped;
  if (!pairs) {
    // Size for the pair occurrences, capped: repeated pairs make the distinct count much lower.
    let occurrences = 0;
    for (let s = 0; s < table.sessions.size; s++) {
      const len = start[s + 1]! - start[s]!;
      let other = len;
      if (keep) for (let k = start[s]!; k < start[s + 1]!; k++) other -= keep[itemOf[k]!]!;
      occurrences += (len * (len - 1)) / 2 - (keep ? (other * (other - 1)) / 2 : 0);
    }
    pairs = new PairCounter(Math.min(occurrences, Math.max(1 << 16, table.items.size * 64)) / 2);
  }
  let distinct = new Uint32Array(64);
  for (let s = 0; s < table.sessions.size; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    if (to - from < 2) continue;
    if (distinct.length < to - from) distinct = new Uint32Array((to - from) * 2);
    let n = 0;
    for (let k = from; k < to; k++) distinct[n++] = itemOf[k]!;
    const items = distinct.subarray(0, n).sort();
    let m = 0;
    for (let k = 0; k < n; k++) if (k === 0 || items[k] !== items[k - 1]) items[m++] = items[k]!;
    // The message names the session (every session's name decoded): only built when the limit trips.
    if (m > limits.max_items_per_session) checkLimit(limits, 'max_items_per_session', m, `session ${JSON.stringify(table.sessions.values[s])}`);
    if (keep) {
      for (let x = 0; x < m; x++) {
        const kx = keep[items[x]!]!;
        for (let y = x + 1; y < m; y++) if (kx || keep[items[y]!]) pairs.add(items[x]!, items[y]!);
      }
    } else for (let x = 0; x < m; x++) for (let y = x + 1; y < m; y++) pairs.add(items[x]!, items[y]!);
  }
  return pairs;
}

/**
 * The items whose cooc rows survive `max_items_per_artifact` when it cuts
 * (the most exposed items that share a session with another item, as
 * {@link coocRowsFromPairs} chooses them), or `undefined` when every row is
 * kept. Known before counting: an item has a row iff one of its sessions
 * holds another item.
 */
function keptRows(table: EventTable, exposure: ItemExposure, grouped: SessionItems, limits: Limits): Uint8Array | undefined {
  const n = table.items.size;
  if (n <= limits.max_items_per_artifact) return undefined;
  const { items: itemOf, start } = grouped;
  const early = mostExposedWithRows(table, exposure, grouped, limits.max_items_per_artifact);
  if (early) return early;
  const hasRow = new Uint8Array(n);
  let rows = 0;
  for (let s = 0; s < table.sessions.size; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    if (!holdsTwoItems(itemOf, from, to)) continue;
    for (let k = from; k < to; k++) {
      const id = itemOf[k]!;
      if (!hasRow[id]) {
        hasRow[id] = 1;
        rows++;
      }
    }
  }
  if (rows <= limits.max_items_per_artifact) return undefined;
  return keepMostExposed(exposure, hasRow, limits.max_items_per_artifact).keep;
}

/** Whether `itemOf[from .. to)` (one session's items) holds two different items: the session then gives each of them a row. */
function holdsTwoItems(itemOf: Uint32Array, from: number, to: number): boolean {
  const first = itemOf[from]!;
  for (let k = from + 1; k < to; k++) if (itemOf[k] !== first) return true;
  return false;
}

/**
 * {@link keptRows}' answer when the `max` most exposed items all have a row
 * (the rows kept are then exactly those; should no other item have one,
 * cutting to them changes no run), found by walking the sessions only
 * until each of them was seen in a session with another item: usually a
 * small part of the day, since the most exposed items are in many
 * sessions. `undefined` when the walk ends first (the caller then marks
 * every item's row).
 */
function mostExposedWithRows(table: EventTable, exposure: ItemExposure, grouped: SessionItems, max: number): Uint8Array | undefined {
  const { items: itemOf, start } = grouped;
  const keep = new Uint8Array(table.items.size);
  const top = mostExposed(exposure, max).ids;
  for (let j = 0; j < top.length; j++) keep[top[j]!] = 1;
  // keep[id]: 0 not among them, 1 among them and no row seen yet, 2 among them with a row seen.
  let missing = top.length;
  for (let s = 0; s < table.sessions.size && missing > 0; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    if (!holdsTwoItems(itemOf, from, to)) continue;
    for (let k = from; k < to; k++) {
      const id = itemOf[k]!;
      if (keep[id] === 1) {
        keep[id] = 2;
        missing--;
      }
    }
  }
  if (missing > 0) return undefined;
  for (let j = 0; j < top.length; j++) keep[top[j]!] = 1;
  return keep;
}

/**
 * Marks the `max` most exposed items that have a row (`hasRow`), in
 * popularity's order (most exposed first, ties by id in UTF-8 order), or all
 * of them when fewer have one. Only the `2·max` most exposed are ordered
 * first (a day has many more items than rows kept: 1000 of 80k at 1M), more
 * only when too few of those have rows.
 */
function keepMostExposed(exposure: ItemExposure, hasRow: Uint8Array, max: number): { keep: Uint8Array; kept: number } {
  const n = exposure.names.length;
  for (let k = 2 * max; ; k *= 4) {
    const byExposure = mostExposed(exposure, k).ids;
    const chosen = firstWithRow(byExposure, hasRow, max, n);
    if (chosen.kept === max || byExposure.length === n) return chosen;
  }
}

/** The first `max` of `byExposure` that have a row (`hasRow`), or as many as have one. */
function firstWithRow(byExposure: Uint32Array, hasRow: Uint8Array, max: number, n: number): { keep: Uint8Array; kept: number } {
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let j = 0; j < byExposure.length && kept < max; j++) {
    const id = byExposure[j]!;
    if (hasRow[id]) {
      keep[id] = 1;
      kept++;
    }
  }
  return { keep, kept };
}

/** The `2·max` most exposed items (`max_items_per_artifact`), in that order and as flags by id; none when there are no more items than that. */
function rowCandidates(exposure: ItemExposure, limits: Limits): { byExposure: Uint32Array; candidate: Uint8Array } | undefined {
  const n = exposure.names.length;
  const max = limits.max_items_per_artifact;
  if (n <= 2 * max) return undefined;
  const byExposure = mostExposed(exposure, 2 * max).ids;
  const candidate = new Uint8Array(n);
  for (let j = 0; j < byExposure.length; j++) candidate[byExposure[j]!] = 1;
  return { byExposure, candidate };
}

/**
 * The items whose pairs {@link coocRowsFromPairs} usually needs alone, as
 * flags by item id: when `max_items_per_artifact` cuts the rows, the `2·max`
 * most exposed items, among which the kept rows almost always are. Pairs
 * that touch none of them can be left out of its input (a
 * {@link SortedPairs} with this as `touching`); when the kept rows are not
 * all among them, it throws {@link MissingPairsError} instead of building
 * rows, and the caller gives it every pair. `undefined` when every pair is
 * needed.
 * @since 0.10.0
 */
export function coocPairItems(exposure: ItemExposure, limits: Limits): Uint8Array | undefined {
  return rowCandidates(exposure, limits)?.candidate;
}

/**
 * Thrown by {@link coocRowsFromPairs} given only the pairs that touch
 * {@link coocPairItems} when its rows need others: the caller passes every
 * pair instead.
 * @since 0.10.0
 */
export class MissingPairsError extends Error {
  constructor() {
    super('cooc rows need pairs of items beyond the most exposed: pass every pair');
    this.name = 'MissingPairsError';
  }
}

/**
 * When `max_items_per_artifact` cuts the rows and all the kept rows are among
 * the `2·max` most exposed items (the usual case: a day has far more items
 * than rows kept, and its most exposed items share sessions), the kept rows
 * (as {@link keepMostExposed} chooses them from every item's row) and their
 * neighbour counts at `min_cooc_support` (into `degree[id + 1]`), from one
 * pass over the pairs that looks only at those candidates; otherwise
 * `undefined`, with `degree` left zero. Saves the pass that marks every
 * item with a pair.
 */
function rowsAmongMostExposed(exposure: ItemExposure, candidates: ReturnType<typeof rowCandidates>, pairs: PairCounts, limits: Limits, degree: Uint32Array): Uint8Array | undefined {
  if (!candidates) return undefined;
  const n = exposure.names.length;
  const max = limits.max_items_per_artifact;
  const { byExposure, candidate } = candidates;
  const paired = new Uint8Array(n);
  const minSupport = limits.min_cooc_support;
  const visit = (x: number, y: number, c: number) => {
    if (candidate[x]) {
      paired[x] = 1;
      if (c >= minSupport) degree[x + 1]!++;
    }
    if (candidate[y]) {
      paired[y] = 1;
      if (c >= minSupport) degree[y + 1]!++;
    }
  };
  if (pairs instanceof SortedPairs) {
    // Group by group: x is tested once for all of its pairs.
    const { xs, starts, y: ys, counts: cs } = pairs;
    for (let g = 0; g < xs.length; g++) {
      const x = xs[g]!;
      const from = starts[g]!;
      const to = starts[g + 1]!;
      if (candidate[x]) {
        paired[x] = 1;
        let d = 0;
        for (let i = from; i < to; i++) {
          const c = cs[i]!;
          if (c >= minSupport) d++;
          const y = ys[i]!;
          if (candidate[y]) {
            paired[y] = 1;
            if (c >= minSupport) degree[y + 1]!++;
          }
        }
        degree[x + 1]! += d;
      } else {
        for (let i = from; i < to; i++) {
          const y = ys[i]!;
          if (candidate[y]) {
            paired[y] = 1;
            if (cs[i]! >= minSupport) degree[y + 1]!++;
          }
        }
      }
    }
  } else pairs.forEach(visit);
  const { keep, kept } = firstWithRow(byExposure, paired, max, n);
  if (kept < max) {
    degree.fill(0);
    return undefined;
  }
  // Candidates that are not kept counted neighbours they will not list: without this their slots would be
  // allocated and left empty (the rows' bytes are the same; a cut popular item can have tens of thousands).
  for (let j = 0; j < byExposure.length; j++) if (!keep[byExposure[j]!]) degree[byExposure[j]! + 1] = 0;
  return keep;
}

/**
 * Builds cooc rows from pair counts (DESIGN §3.3, §5.4): one row per item
 * that shares a session with another item, rows by item id; each row's
 * neighbours by count desc then item id, filtered by `min_cooc_support` and
 * cut to `max_neighbors_per_item`. With more rows than
 * `max_items_per_artifact`, the rows of the most exposed items are kept.
 * Shared by the single-process path and the shard merge, so both produce
 * identical bytes.
 * @since 0.1.0
 */
export function coocRowsFromPairs(exposure: ItemExposure, pairs: PairCounts, limits: Limits): CoocRows {
  const { names, ranks } = exposure;
  const n = names.length;
  // Sorted columns (the shard merge's) are walked directly: a callback per pair and pass cost more than the pass.
  const cols = pairs instanceof SortedPairs ? pairs : undefined;
  const minSupport = limits.min_cooc_support;
  const degree = new Uint32Array(n + 1);
  // Neighbour lists of the kept rows only (the rows are chosen first): with the default 1000 rows of a day of
  // 200k items, a fraction of the pairs, and no list is built for a row that is cut.
  const candidates = rowCandidates(exposure, limits);
  if (cols?.touching) {
    // Pairs left out by another set of items would give other rows: only coocPairItems' own are accepted.
    const expected = candidates?.candidate;
    const touching = cols.touching;
    if (!expected || expected.length !== touching.length || expected.some((v, i) => v !== touching[i])) throw new Error('cooc rows from pairs filtered by other items than coocPairItems');
  }
  let hasRow = rowsAmongMostExposed(exposure, candidates, pairs, limits, degree);
  let rowCount = limits.max_items_per_artifact;
  if (!hasRow && cols?.touching) throw new MissingPairsError();
  if (!hasRow) {
    const marked = new Uint8Array(n);
    hasRow = marked;
    if (cols) {
      const { xs, starts, y: ys } = cols;
      for (let g = 0; g < xs.length; g++) {
        marked[xs[g]!] = 1;
        const to = starts[g + 1]!;
        for (let i = starts[g]!; i < to; i++) marked[ys[i]!] = 1;
      }
    } else {
      pairs.forEach((x, y) => {
        marked[x] = 1;
        marked[y] = 1;
      });
    }
    rowCount = 0;
    for (let i = 0; i < n; i++) rowCount += hasRow[i]!;
    if (rowCount > limits.max_items_per_artifact) {
      const { keep, kept } = keepMostExposed(exposure, hasRow, limits.max_items_per_artifact);
      for (let i = 0; i < n; i++) if (!keep[i]) hasRow[i] = 0;
      rowCount = kept;
    }
    const rows = hasRow;
    if (cols) {
      const { xs, starts, y: ys, counts: cs } = cols;
      for (let g = 0; g < xs.length; g++) {
        const x = xs[g]!;
        const rowX = rows[x] === 1;
        const to = starts[g + 1]!;
        for (let i = starts[g]!; i < to; i++) {
          if (cs[i]! < minSupport) continue;
          if (rowX) degree[x + 1]!++;
          if (rows[ys[i]!]) degree[ys[i]! + 1]!++;
        }
      }
    } else {
      pairs.forEach((x, y, c) => {
        if (c < minSupport) return;
        if (rows[x]) degree[x + 1]!++;
        if (rows[y]) degree[y + 1]!++;
      });
    }
  }
  const rows = hasRow;
  for (let i = 0; i < n; i++) degree[i + 1]! += degree[i]!;
  const fill = degree.slice(0, n);
  const nbr = new Uint32Array(degree[n]!);
  const cnt = new Uint32Array(degree[n]!);
  const place = (x: number, y: number, c: number) => {
    if (c < minSupport) return;
    if (rows[x]) {
      nbr[fill[x]!] = y;
      cnt[fill[x]!++] = c;
    }
    if (rows[y]) {
      nbr[fill[y]!] = x;
      cnt[fill[y]!++] = c;
    }
  };
  if (cols) {
    // Group by group: a kept row x takes its group's pairs in one run of its list; each y is looked at alone.
    const { xs, starts, y: ys, counts: cs } = cols;
    for (let g = 0; g < xs.length; g++) {
      const x = xs[g]!;
      const from = starts[g]!;
      const to = starts[g + 1]!;
      if (rows[x]) {
        let at = fill[x]!;
        for (let i = from; i < to; i++) {
          const c = cs[i]!;
          if (c < minSupport) continue;
          const y = ys[i]!;
          nbr[at] = y;
          cnt[at++] = c;
          if (rows[y]) {
            nbr[fill[y]!] = x;
            cnt[fill[y]!++] = c;
          }
        }
        fill[x] = at;
      } else {
        for (let i = from; i < to; i++) {
          const y = ys[i]!;
          if (!rows[y]) continue;
          const c = cs[i]!;
          if (c < minSupport) continue;
          nbr[fill[y]!] = x;
          cnt[fill[y]!++] = c;
        }
      }
    }
  } else pairs.forEach(place);
  // Rows in UTF-8 order of their item id: walk ids by rank.
  const idOfRank = invertRanks(ranks);
  const rowIds = new Uint32Array(rowCount);
  let r = 0;
  for (let rank = 0; rank < n; rank++) if (rows[idOfRank[rank]!]) rowIds[r++] = idOfRank[rank]!;

  const maxNeighbors = limits.max_neighbors_per_item;
  const start = new Uint32Array(rowCount);
  const len = new Uint32Array(rowCount);
  for (let row = 0; row < rowCount; row++) {
    const id = rowIds[row]!;
    const from = degree[id]!;
    const to = degree[id + 1]!;
    // Only the kept neighbours need ordering: a popular item's row has tens of thousands of candidates.
    sortTopByCountThenRank(nbr.subarray(from, to), cnt.subarray(from, to), ranks, idOfRank, maxNeighbors);
    start[row] = from;
    len[row] = Math.min(to - from, maxNeighbors);
  }
  return { names, rowIds, start, len, nbr, cnt };
}

/**
 * Cooc rows of a day's events, counted row by row from the sessions' runs
 * (cooc-rows.ts; no pair table). When `max_items_per_artifact` cuts rows,
 * only the kept rows are counted (the default 1000 rows of a 100k-item day);
 * they are the same as from all pairs, since a kept row's sessions are all
 * walked and the kept items are the most exposed of any set of row items
 * that holds them. `parts` splits the rows into that many ranges counted one
 * after the other (the result does not depend on it; threads count the
 * ranges in parallel, see `coocRowRange`).
 * @since 0.1.0
 */
export function computeCoocRows(table: EventTable, ranks: Uint32Array, limits: Limits, parts = 1): CoocRows {
  const exposure = { names: table.items.values, counts: table.itemCounts.data, ranks };
  const idOfRank = invertRanks(ranks);
  const runs = sessionRunsOf(table, exposure, limits, idOfRank);
  return joinRowRanges(exposure.names, runs.rowIds, rowRanges(runs, parts).map(([from, to]) => coocRowRange(runs, ranks, idOfRank, limits, from, to)));
}

/**
 * The session runs of a day for its cooc rows (`max_items_per_artifact`
 * applied): what {@link coocRowRange} counts rows from, on any thread.
 * @since 0.4.0
 */
export function sessionRunsOf(table: EventTable, exposure: ItemExposure, limits: Limits, idOfRank: Uint32Array, alloc?: U32Alloc): SessionRuns {
  const grouped = itemsBySession(table);
  return sessionRuns(table, limits, idOfRank, grouped, keptRows(table, exposure, grouped, limits), alloc);
}

/**
 * The neighbour lists of rows `from .. to` (row `r` is `rowIds[r]`, its
 * neighbours `nbr[start[r - base] ..]`, `len[r - base]` of them), each row
 * preceded by a comma unless it is row 0: rows written in ranges, one after
 * the other, give the bytes of writing them all at once. Shared by the
 * single-thread payload and the worker threads (cooc-threads.ts), so both
 * write the same bytes.
 */
export function* writeCoocRows(
  out: JsonBytes,
  pretty: boolean,
  names: NameBytes,
  rowIds: Uint32Array,
  rows: { readonly start: ArrayLike<number>; readonly len: ArrayLike<number>; readonly nbr: Uint32Array; readonly cnt: Uint32Array },
  from: number,
  to: number,
  base = 0,
): Generator<void> {
  const { start, len, nbr, cnt } = rows;
  for (let r = from; r < to; r++) {
    out.text(pretty ? `${r > 0 ? ',' : ''}\n    {\n      "item_id": ` : `${r > 0 ? ',' : ''}{"item_id":`);
    writeName(out, names, rowIds[r]!);
    out.text(pretty ? ',\n      "items": ' : ',"items":');
    const s = start[r - base]!;
    yield* writeIdCountArray(out, pretty, '      ', names, nbr, cnt, 'item_id', 'count', s, s + len[r - base]!);
    out.text(pretty ? '\n    }' : '}');
    if (out.ready) yield;
  }
}

const utf8 = new TextEncoder();
const ROW_OPEN = utf8.encode('{"item_id":');
const ROW_ITEMS = utf8.encode(',"items":');
const ENTRY_OPEN = ROW_OPEN;
const ENTRY_COUNT = utf8.encode(',"count":');
const OUT_CHUNK = 1 << 20;

/**
 * The compact bytes of rows `from .. to`, exactly as {@link writeCoocRows}
 * writes them compact, but straight into byte chunks (no generator, no
 * per-fragment calls): this is most of what a worker thread does per row.
 * Every piece is written byte by byte into the current chunk after one
 * bound check per neighbour; a chunk that cannot hold the next piece is
 * closed (pieces longer than a chunk get a chunk of their own).
 */
export function compactCoocRows(
  names: NameBytes,
  rowIds: Uint32Array,
  rows: { readonly start: ArrayLike<number>; readonly len: ArrayLike<number>; readonly nbr: Uint32Array; readonly cnt: Uint32Array },
  from: number,
  to: number,
  base = 0,
): Uint8Array[] {
  const nb = names.buf;
  const ns = names.start;
  const { start, len, nbr, cnt } = rows;
  const chunks: Uint8Array[] = [];
  // One buffer for all the rows when they fit in a few chunks (their size at most: 10 digits a count): then no
  // chunk is closed in the loop. Closing one was a branch the first rows never took, so V8's compile of the loop
  // (on-stack replacement) had no type feedback for it and threw the code away there (~15 ms of a 1M day's rows
  // unoptimised until the next compile).
  const most = compactRowsBound(names, rowIds, rows, from, to, base, ONE_BUFFER_MAX);
  let buf = new Uint8Array(most <= ONE_BUFFER_MAX ? most : OUT_CHUNK);
  let pos = 0;
  for (let r = from; r < to; r++) {
    const id = rowIds[r]!;
    const a = ns[id]!;
    const b = ns[id + 1]!;
    // ",{"item_id":" + name + ","items":[" (or "[]}") + "]}".
    if (pos + (b - a) + 32 > buf.length) {
      chunks.push(buf.subarray(0, pos));
      buf = new Uint8Array(Math.max(OUT_CHUNK, b - a + 32));
      pos = 0;
    }
    if (r > 0) buf[pos++] = 0x2c;
    for (let k = 0; k < ROW_OPEN.length; k++) buf[pos++] = ROW_OPEN[k]!;
    for (let k = a; k < b; k++) buf[pos++] = nb[k]!;
    for (let k = 0; k < ROW_ITEMS.length; k++) buf[pos++] = ROW_ITEMS[k]!;
    const s = start[r - base]!;
    const e = s + len[r - base]!;
    buf[pos++] = 0x5b;
    for (let k = s; k < e; k++) {
      const y = nbr[k]!;
      const ya = ns[y]!;
      const yb = ns[y + 1]!;
      // "," + {"item_id": + name + ,"count": + ≤ 10 digits + "}" + the row's closing "]}".
      if (pos + (yb - ya) + 36 > buf.length) {
        chunks.push(buf.subarray(0, pos));
        buf = new Uint8Array(Math.max(OUT_CHUNK, yb - ya + 36));
        pos = 0;
      }
      if (k > s) buf[pos++] = 0x2c;
      for (let q = 0; q < ENTRY_OPEN.length; q++) buf[pos++] = ENTRY_OPEN[q]!;
      for (let q = ya; q < yb; q++) buf[pos++] = nb[q]!;
      for (let q = 0; q < ENTRY_COUNT.length; q++) buf[pos++] = ENTRY_COUNT[q]!;
      let c = cnt[k]!;
      let digits = 1;
      for (let m = c; m >= 10; m = Math.floor(m / 10)) digits++;
      let at = pos + digits;
      pos = at;
      do {
        buf[--at] = 48 + (c % 10);
        c = Math.floor(c / 10);
      } while (c > 0);
      buf[pos++] = 0x7d;
    }
    if (pos + 2 > buf.length) {
      chunks.push(buf.subarray(0, pos));
      buf = new Uint8Array(OUT_CHUNK);
      pos = 0;
    }
    buf[pos++] = 0x5d;
    buf[pos++] = 0x7d;
  }
  // The last chunk is often mostly empty (a thread's range of the default rows writes ~100 KB): copied out
  // when it fills less than half its buffer, so that the payload does not hold 1 MiB per range until written.
  if (pos > 0) chunks.push(pos * 2 < buf.length ? buf.slice(0, pos) : buf.subarray(0, pos));
  return chunks;
}

/** Most bytes {@link compactCoocRows} writes into one buffer instead of chunks. */
const ONE_BUFFER_MAX = 8 * OUT_CHUNK;

/**
 * At least as many bytes as {@link compactCoocRows} writes for rows `from .. to` (a count as 10 digits), or
 * some number above `limit` once the bound passes it: rows that do not fit one buffer are not walked twice.
 */
function compactRowsBound(names: NameBytes, rowIds: Uint32Array, rows: { readonly start: ArrayLike<number>; readonly len: ArrayLike<number>; readonly nbr: Uint32Array }, from: number, to: number, base: number, limit: number): number {
  const ns = names.start;
  let bytes = 0;
  for (let r = from; r < to && bytes <= limit; r++) {
    const id = rowIds[r]!;
    bytes += ns[id + 1]! - ns[id]! + 32;
    const s = rows.start[r - base]!;
    const e = s + rows.len[r - base]!;
    for (let k = s; k < e; k++) bytes += ns[rows.nbr[k]! + 1]! - ns[rows.nbr[k]!]! + 32;
  }
  return bytes;
}

/**
 * The `neighbors` member of a cooc artifact. With `compact`, the compact
 * bytes of every row, in row order, already written (by worker threads):
 * the first compact write uses them as they are (and lets them go); any
 * later write, and the pretty form, writes from `rows`, which may be given
 * as a function called only then (joining the threads' ranges is then
 * skipped when the compact bytes are all that is written).
 * @since 0.1.0
 */
export function coocPayload(rows: CoocRows | (() => CoocRows), compact?: readonly Uint8Array[]): PayloadSource {
  let joined = typeof rows === 'function' ? undefined : rows;
  const rowsOf = () => (joined ??= (rows as () => CoocRows)());
  let written = compact;
  return {
    key: 'neighbors',
    *write(out, pretty) {
      if (!pretty && written) {
        // Row 0 has no leading comma: the rows' bytes between brackets are the array, also when there are none.
        const chunks = written;
        written = undefined;
        out.text('[');
        for (const chunk of chunks) {
          out.chunk(chunk);
          if (out.ready) yield;
        }
        out.text(']');
        return;
      }
      const all = rowsOf();
      const { rowIds } = all;
      if (rowIds.length === 0) {
        out.text('[]');
        return;
      }
      const names = nameBytes(all.names);
      out.text('[');
      if (!pretty) {
        // Blocks of rows, so that chunks are handed on as they fill.
        for (let r = 0; r < rowIds.length; r += 4096) {
          for (const chunk of compactCoocRows(names, rowIds, all, r, Math.min(rowIds.length, r + 4096))) out.chunk(chunk);
          if (out.ready) yield;
        }
      } else yield* writeCoocRows(out, pretty, names, rowIds, all, 0, rowIds.length);
      out.text(pretty ? '\n  ]' : ']');
    },
  };
}

/** Cooc rows as plain objects (tests, small data). @since 0.1.0 */
export function coocRowObjects(rows: CoocRows): CoocRow[] {
  return Array.from(rows.rowIds, (id, r) => {
    const items: ItemCount[] = [];
    for (let k = rows.start[r]!; k < rows.start[r]! + rows.len[r]!; k++) items.push({ item_id: rows.names[rows.nbr[k]!]!, count: rows.cnt[k]! });
    return { item_id: rows.names[id]!, items };
  });
}

/** Cooc rows of a day's events as plain objects. @since 0.1.0 */
export function computeCooc(table: EventTable, ranks: Uint32Array, limits: Limits): CoocRow[] {
  return coocRowObjects(computeCoocRows(table, ranks, limits));
}
