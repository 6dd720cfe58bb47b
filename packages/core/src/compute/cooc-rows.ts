import type { Limits } from '../limits.js';
import { checkLimit } from '../check-limit.js';
import type { EventTable } from './event-table.js';
import { sortTopByCountThenRank } from './order-keys.js';

/*
 * Cooc rows counted row by row instead of through a pair table.
 *
 * The pair table (`PairCounter`, ~12 bytes per distinct pair at 75 % load,
 * plus ~16 bytes per pair of CSR rows before the neighbour cut) grew with
 * the distinct pairs of the day: 1M events of a 100k-item Zipf day hold
 * ~6.8M directed pairs, 50M events far more. Here each session's distinct
 * items are kept once (`runItems`, 4 bytes per distinct (session, item)),
 * with the inverse index item → sessions (4 bytes more), and a row is
 * counted by walking its item's sessions into a dense per-item counter
 * (4 bytes per catalog item, reused row after row). Memory is then linear
 * in the events and in the rows as emitted (at most `max_neighbors_per_item`
 * neighbours each), never in the distinct pairs, so no spill or second pass
 * over a pair table is needed whatever the day's size.
 *
 * Rows are independent: any range of rows can be counted on its own from
 * the same runs (by another thread reading the same buffers), and ranges
 * concatenated in row order give the same rows as counting them all at once.
 */

/**
 * The distinct items of each session and, inversely, the sessions of each
 * item (only sessions with at least two distinct items: the others make no
 * pair), plus the items that get a row, in row order (UTF-8 order of their
 * id). With a row cut (`keep` in {@link sessionRuns}), only the sessions
 * that hold a kept item are listed, and only kept items have sessions in
 * the inverse index: what the kept rows read, and nothing else.
 * All plain typed arrays, so they can live in shared memory.
 * @since 0.4.0
 */
export interface SessionRuns {
  /** Session `s`'s distinct items are `runItems[runStart[s] .. runStart[s + 1])`, in the order first seen in the grouped items. */
  readonly runStart: Uint32Array;
  readonly runItems: Uint32Array;
  /** Item `i`'s sessions are `invSessions[invStart[i] .. invStart[i + 1])`. */
  readonly invStart: Uint32Array;
  readonly invSessions: Uint32Array;
  /** Items with a row, in row order. */
  readonly rowIds: Uint32Array;
  /**
   * With a row cut to at most {@link KEPT_PAIRS_MAX_ROWS} rows: each run
   * lists its kept items first, and the counts of the pairs of kept rows are
   * already made (see {@link KeptPairs}), so that a row walks only its
   * sessions' other items.
   * @since 0.12.0
   */
  readonly kept?: KeptPairs;
}

/**
 * The sessions shared by every two rows of a row cut, counted once per pair
 * (a row's walk would count each pair twice, once from each side: with the
 * default 1000 rows, about 60 % of what the rows walk are other kept rows).
 * @since 0.12.0
 */
export interface KeptPairs {
  /** Session `s`'s run starts with its `runKept[s]` kept items (the rows' items), then the others. */
  readonly runKept: Uint32Array;
  /** `pairs[a * rows + b]`: sessions holding the items of rows `a` and `b` (0 when `a === b`). */
  readonly pairs: Uint32Array;
}

/**
 * Most rows for which {@link sessionRuns} counts the pairs of kept rows
 * ({@link KeptPairs}): their matrix takes 4 bytes per pair of rows, 16 MiB
 * at this size (4 MB for the default 1000).
 */
export const KEPT_PAIRS_MAX_ROWS = 2048;

/**
 * Allocates a zeroed `Uint32Array` of `n` entries: plain memory, or shared
 * memory (`SharedArrayBuffer`) that worker threads read without a copy.
 * @since 0.4.0
 */
export type U32Alloc = (n: number) => Uint32Array;

const plainU32: U32Alloc = (n) => new Uint32Array(n);

/** Allocates in shared memory, so that posting the array to a worker shares it instead of copying it. @since 0.4.0 */
export const sharedU32: U32Alloc = (n) => new Uint32Array(new SharedArrayBuffer(n * 4));

/**
 * Each session's items, repeats included, session after session (see
 * `itemsBySession`): session `s`'s are `items[start[s] .. start[s + 1])`.
 * @since 0.6.0
 */
export interface SessionItems {
  readonly items: Uint32Array;
  readonly start: Uint32Array;
}

/**
 * Builds the session runs of a day's events from its items grouped by
 * session, which it consumes: each session's distinct items are written in
 * place over `grouped.items`, which then holds the runs (as a view, in plain
 * memory, when they fill at least half of it; copied otherwise, and always
 * copied into `alloc`'s memory when that is not plain). So the runs cost no
 * second array of the day's events at their peak. Trips
 * `max_items_per_session` on the first session (in session id order) with
 * too many distinct items, like the pair counting did. With `keep`, only
 * the rows of items in `keep` are listed (the `max_items_per_artifact`
 * cut); their counts stay exact, since every session of a kept item is
 * indexed. Sessions without a kept item are then left out of the runs
 * (those longer than `max_items_per_session` are still deduplicated, to
 * check the limit), and the inverse index lists only kept items' sessions
 * (1000 of the 80k items at 1M events).
 * @since 0.4.0
 */
export function sessionRuns(table: EventTable, limits: Limits, idOfRank: Uint32Array, grouped: SessionItems, keep?: Uint8Array, alloc: U32Alloc = plainU32): SessionRuns {
  // One function per loop: V8 compiles a hot loop of a long function (OSR) as the whole function, with no type
  // feedback for the code after the loop, which has not run yet. Leaving the loop then threw that code away, and
  // the next loop ran in the interpreter until a new compile of the whole function (up to ~80 ms of background
  // compiling) was ready: on a 1M-event day, every loop here ran mostly unoptimised. A small function's compile
  // is short, and its code survives the loop.
  const sessions = table.sessions.size;
  const n = table.items.size;
  const runStart = alloc(sessions + 1);
  const invStart = alloc(n + 1);
  const keptItems = keep ? countKept(keep, n) : 0;
  // Runs with their kept items first, and the pairs of kept rows counted below (KeptPairs).
  const runKept = keep && keptItems <= KEPT_PAIRS_MAX_ROWS ? alloc(sessions) : undefined;
  const w = compactRuns(table, limits, grouped, runStart, invStart, keep, runKept);
  const scratch = grouped.items;
  let runItems: Uint32Array;
  if (alloc === plainU32 && w * 2 >= scratch.length) runItems = scratch.subarray(0, w);
  else {
    runItems = alloc(w);
    runItems.set(scratch.subarray(0, w));
  }
  // Inverse index by a counting sort over items (counted above).
  prefixSums(invStart, n);
  const invSessions = alloc(invStart[n]!);
  fillInverse(runStart, runItems, invStart, invSessions, n, keep, runKept);
  const rowIds = alloc(countRows(invStart, idOfRank, n, keep));
  listRows(invStart, idOfRank, n, keep, rowIds);
  if (!runKept) return { runStart, runItems, invStart, invSessions, rowIds };
  return { runStart, runItems, invStart, invSessions, rowIds, kept: { runKept, pairs: keptPairs(runStart, runItems, runKept, rowIds, n, alloc) } };
}

/** How many items `keep` marks. */
function countKept(keep: Uint8Array, n: number): number {
  let kept = 0;
  for (let i = 0; i < n; i++) kept += keep[i]! !== 0 ? 1 : 0;
  return kept;
}

/**
 * The runs of {@link sessionRuns}, compacted in place over `grouped.items`
 * (a session's distinct items never start after its own items do), with
 * `runStart` and the inverse index's counts (`invStart[x + 1]`) filled and,
 * with `runKept`, each run's kept items first. Returns the runs' length.
 */
function compactRuns(table: EventTable, limits: Limits, grouped: SessionItems, runStart: Uint32Array, invStart: Uint32Array, keep: Uint8Array | undefined, runKept: Uint32Array | undefined): number {
  const { items: scratch, start } = grouped;
  const sessions = table.sessions.size;
  let w = 0;
  const maxItems = limits.max_items_per_session;
  const seen = new Uint32Array(table.items.size);
  // Sized for the longest run there can be (a session past the limit throws first): growing it in the loop was a
  // branch the first sessions rarely took, so V8's compile of this loop had no type feedback for it and threw the
  // code away when a longer session came (~15 ms of a 1M day's runs unoptimised until the next compile).
  const others = runKept ? new Uint32Array(Math.min(maxItems, table.items.size)) : undefined;
  for (let s = 0; s < sessions; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    runStart[s] = w;
    if (to - from < 2) continue;
    // With a row cut, a session without a kept item is read by no row: when it cannot trip the limit
    // either (no more items than the limit, repeats included), it is neither deduplicated nor listed.
    let kept = true;
    if (keep) {
      kept = false;
      for (let k = from; k < to && !kept; k++) kept = keep[scratch[k]!] !== 0;
      if (!kept && to - from <= maxItems) continue;
    }
    // Distinct items kept in first-seen order, found by a per-item stamp (the session's number + 1) instead
    // of sorting each session: no row depends on the order within a run (neighbours are ordered by count,
    // then rank, a total order).
    const stamp = s + 1;
    let m = 0;
    for (let k = from; k < to; k++) {
      const x = scratch[k]!;
      if (seen[x] !== stamp) {
        seen[x] = stamp;
        scratch[w + m++] = x;
      }
    }
    // The message names the session (every session's name decoded): only built when the limit trips.
    if (m > maxItems) checkLimit(limits, 'max_items_per_session', m, `session ${JSON.stringify(table.sessions.values[s])}`);
    // A session of one distinct item makes no pair and gives no row.
    if (m < 2 || !kept) continue;
    // Inverse index counts; with a row cut, of the kept items only (no other is a row).
    if (runKept) {
      // Kept items first, each part in first-seen order; the others wait in `others` meanwhile.
      let kk = 0;
      let o = 0;
      for (let k = w; k < w + m; k++) {
        const x = scratch[k]!;
        // Written to both places, kept where it belongs, without a branch: whether an item is kept is a
        // coin toss (~60 % of a day's events are of the 1000 most exposed items). 1 when kept, 0 when not.
        const kx = -keep![x]! >>> 31;
        scratch[w + kk] = x;
        others![o] = x;
        invStart[x + 1]! += kx;
        kk += kx;
        o += 1 - kx;
      }
      // A loop, not `set` of a `subarray`: that made an array object per session (sessionRuns 42 -> 110 ms at 1M).
      for (let j = 0; j < o; j++) scratch[w + kk + j] = others![j]!;
      runKept[s] = kk;
    } else if (keep) {
      for (let k = w; k < w + m; k++) invStart[scratch[k]! + 1]! += keep[scratch[k]!]! !== 0 ? 1 : 0;
    } else for (let k = w; k < w + m; k++) invStart[scratch[k]! + 1]!++;
    w += m;
  }
  runStart[sessions] = w;
  return w;
}

/** `counts[i + 1] += counts[i]` for i in 0 .. n - 1: counts become starts. @since 0.15.0 */
export function prefixSums(counts: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) counts[i + 1]! += counts[i]!;
}

/** The inverse index's sessions: each row item's sessions, in session order (a counting sort's second pass). */
function fillInverse(runStart: Uint32Array, runItems: Uint32Array, invStart: Uint32Array, invSessions: Uint32Array, n: number, keep: Uint8Array | undefined, runKept: Uint32Array | undefined): void {
  const fill = invStart.slice(0, n);
  const sessions = runStart.length - 1;
  if (runKept) {
    // The kept items are each run's first runKept[s]: no flag to test.
    for (let s = 0; s < sessions; s++) for (let k = runStart[s]!, end = k + runKept[s]!; k < end; k++) invSessions[fill[runItems[k]!]!++] = s;
  } else if (keep) {
    for (let s = 0; s < sessions; s++) for (let k = runStart[s]!; k < runStart[s + 1]!; k++) if (keep[runItems[k]!] !== 0) invSessions[fill[runItems[k]!]!++] = s;
  } else for (let s = 0; s < sessions; s++) for (let k = runStart[s]!; k < runStart[s + 1]!; k++) invSessions[fill[runItems[k]!]!++] = s;
}

/** How many items have a row: they are in a run (with another item) and, with a row cut, kept. */
function countRows(invStart: Uint32Array, idOfRank: Uint32Array, n: number, keep: Uint8Array | undefined): number {
  let rows = 0;
  for (let rank = 0; rank < n; rank++) {
    const id = idOfRank[rank]!;
    if (invStart[id + 1]! > invStart[id]! && (!keep || keep[id])) rows++;
  }
  return rows;
}

/** The items that have a row ({@link countRows}), in rank order, into `rowIds`. */
function listRows(invStart: Uint32Array, idOfRank: Uint32Array, n: number, keep: Uint8Array | undefined, rowIds: Uint32Array): void {
  let r = 0;
  for (let rank = 0; rank < n; rank++) {
    const id = idOfRank[rank]!;
    if (invStart[id + 1]! > invStart[id]! && (!keep || keep[id])) rowIds[r++] = id;
  }
}

/**
 * The pair counts of {@link KeptPairs}: every two kept items of a run are
 * one session shared by their rows (every kept item of a run has a row: the
 * run holds another item). Counted once per pair, in the upper half, then
 * mirrored.
 */
function keptPairs(runStart: Uint32Array, runItems: Uint32Array, runKept: Uint32Array, rowIds: Uint32Array, items: number, alloc: U32Alloc): Uint32Array {
  const rows = rowIds.length;
  const rowOf = new Uint32Array(items);
  for (let r = 0; r < rows; r++) rowOf[rowIds[r]!] = r;
  const pairs = alloc(rows * rows);
  // A run's kept items are distinct rows: room for every row, so the loop has no branch that grows it (see compactRuns' `others`).
  const run = new Uint32Array(rows);
  for (let s = 0; s < runKept.length; s++) {
    const from = runStart[s]!;
    const k = runKept[s]!;
    if (k < 2) continue;
    for (let j = 0; j < k; j++) run[j] = rowOf[runItems[from + j]!]!;
    for (let i = 0; i < k; i++) {
      const a = run[i]!;
      for (let j = i + 1; j < k; j++) {
        const b = run[j]!;
        // The cell of the upper half without a branch (which of two rows comes first is a coin toss):
        // `less` is all ones when b < a (rows < 2^31, so the difference's sign says it).
        const less = (b - a) >> 31;
        const lo = a + ((b - a) & less);
        pairs[lo * rows + (a + b - lo)]!++;
      }
    }
  }
  mirrorUpperHalf(pairs, rows);
  return pairs;
}

/** Copies the upper half of a `rows` × `rows` matrix onto its lower half (a loop of its own: see `sessionRuns`). */
function mirrorUpperHalf(pairs: Uint32Array, rows: number): void {
  for (let a = 0; a < rows; a++) for (let b = a + 1; b < rows; b++) pairs[b * rows + a] = pairs[a * rows + b]!;
}

/** Rows `from .. to` of {@link SessionRuns.rowIds}: neighbour lists, concatenated in row order. @since 0.4.0 */
export interface CoocRowRange {
  /** Neighbours kept per row (after `min_cooc_support` and `max_neighbors_per_item`). */
  readonly len: Uint32Array;
  readonly nbr: Uint32Array;
  readonly cnt: Uint32Array;
}

/**
 * Counts and orders rows `from .. to` (indices into `runs.rowIds`): for
 * each row item, the sessions it is in give, through a dense counter, how
 * many sessions it shares with every other item; neighbours with at least
 * `min_cooc_support` are ordered by count desc then item id (UTF-8) and cut
 * to `max_neighbors_per_item`. Pure and independent of other ranges.
 * @since 0.4.0
 */
export function coocRowRange(runs: SessionRuns, ranks: Uint32Array, idOfRank: Uint32Array, limits: Pick<Limits, 'min_cooc_support' | 'max_neighbors_per_item'>, from: number, to: number): CoocRowRange {
  const { runStart, runItems, invStart, invSessions, rowIds } = runs;
  const minSupport = limits.min_cooc_support;
  const maxNeighbors = limits.max_neighbors_per_item;
  const counts = new Uint32Array(ranks.length);
  const len = new Uint32Array(to - from);
  // Sized from an upper bound on what the rows keep (per row: the items of its sessions but itself, at most
  // max_neighbors_per_item, at most every other item), so the arrays do not grow: growing holds the old and
  // the new array at once, and this runs at compute's memory peak. Cheap: a row's walk stops at the cut.
  const bound = neighbourBound(runs, from, to, Math.min(maxNeighbors, ranks.length - 1));
  let nbr = new Uint32Array(Math.max(16, bound));
  let cnt = new Uint32Array(nbr.length);
  let out = 0;
  // With the kept rows' pairs counted (KeptPairs), a row walks only its sessions' other items (a row's own
  // item is kept, so it is not among them) and takes its kept neighbours from its line of the pair matrix.
  const runKept = runs.kept?.runKept;
  const pairs = runs.kept?.pairs;
  const rows = rowIds.length;
  // A row touches each item once at most, and adds at most its kept neighbours from the matrix: lists of
  // that size never grow, so the walk appends without a bound check (~0.8 MB per range at 100k items).
  const touched = new Uint32Array(ranks.length + 1 + (pairs ? rows : 0));
  const tc = new Uint32Array(touched.length);
  const atLeast = new Uint32Array(COUNT_CLASSES);
  // A row's sessions are walked a span at a time: first where each one's items are (its offsets, and the
  // first line of its items read once), then the items. The first loop's loads do not wait on each other, so
  // their cache misses overlap; walking session by session waited on three misses per session in turn
  // (runStart, runKept, runItems: the walk is mostly those). Warm, one thread, the defaults' 1000 rows at 5M
  // events: ~250 -> ~200 ms.
  const spanFrom = new Uint32Array(SPAN);
  const spanTo = new Uint32Array(SPAN);
  const lastItem = Math.max(0, runItems.length - 1);
  let lines = 0;
  for (let r = from; r < to; r++) {
    const x = rowIds[r]!;
    let t = 0;
    const last = invStart[x + 1]!;
    for (let b = invStart[x]!; b < last; b += SPAN) {
      const n = Math.min(last - b, SPAN);
      for (let q = 0; q < n; q++) {
        const s = invSessions[b + q]!;
        const f = runKept ? runStart[s]! + runKept[s]! : runStart[s]!;
        spanFrom[q] = f;
        spanTo[q] = runStart[s + 1]!;
        // Read for its cache line only (a run whose items are all kept has none to walk: its end, maybe past the array).
        lines ^= runItems[f < lastItem ? f : lastItem]!;
      }
      if (runKept) {
        for (let q = 0; q < n; q++) {
          const end = spanTo[q]!;
          for (let j = spanFrom[q]!; j < end; j++) {
            const y = runItems[j]!;
            const c = counts[y]!;
            // Appended without a branch, kept only when first seen (c === 0): the branch mispredicts often.
            touched[t] = y;
            t += (c - 1) >>> 31;
            counts[y] = c + 1;
          }
        }
      } else {
        for (let q = 0; q < n; q++) {
          const end = spanTo[q]!;
          for (let j = spanFrom[q]!; j < end; j++) {
            const y = runItems[j]!;
            if (y === x) continue;
            const c = counts[y]!;
            touched[t] = y;
            t += (c - 1) >>> 31;
            counts[y] = c + 1;
          }
        }
      }
    }
    // Keep the supported neighbours, reset the counter for the next row; count how many reach each count.
    atLeast.fill(0);
    let m = 0;
    for (let k = 0; k < t; k++) {
      const y = touched[k]!;
      const c = counts[y]!;
      counts[y] = 0;
      if (c >= minSupport) {
        touched[m] = y;
        tc[m++] = c;
        atLeast[c < COUNT_CLASSES ? c : COUNT_CLASSES - 1]!++;
      }
    }
    if (pairs) {
      for (let b = 0, at = r * rows; b < rows; b++, at++) {
        const c = pairs[at]!;
        if (c > 0 && c >= minSupport) {
          touched[m] = rowIds[b]!;
          tc[m++] = c;
          atLeast[c < COUNT_CLASSES ? c : COUNT_CLASSES - 1]!++;
        }
      }
    }
    m = dropBelowTop(touched, tc, m, atLeast, maxNeighbors);
    const ids = touched.subarray(0, m);
    const cs = tc.subarray(0, m);
    // Only the kept neighbours need ordering: a popular item's row has tens of thousands of candidates.
    sortTopByCountThenRank(ids, cs, ranks, idOfRank, maxNeighbors);
    const keepN = Math.min(m, maxNeighbors);
    if (out + keepN > nbr.length) {
      // 1.5x, not 2x: the old and new arrays are held together while copying, and this runs at compute's peak.
      const size = Math.max(Math.ceil(nbr.length * 1.5), out + keepN);
      const n2 = new Uint32Array(size);
      n2.set(nbr.subarray(0, out));
      nbr = n2;
      const c2 = new Uint32Array(size);
      c2.set(cnt.subarray(0, out));
      cnt = c2;
    }
    nbr.set(ids.subarray(0, keepN), out);
    cnt.set(cs.subarray(0, keepN), out);
    out += keepN;
    len[r - from] = keepN;
  }
  // Never true (an integer): keeps the reads above from being optimised away.
  if (lines === 0.5) throw new Error('unreachable');
  // A view when little is unused: copying would hold both arrays at once.
  const exact = out * 8 >= nbr.length * 7;
  return { len, nbr: exact ? nbr.subarray(0, out) : nbr.slice(0, out), cnt: exact ? cnt.subarray(0, out) : cnt.slice(0, out) };
}

/**
 * An upper bound on the neighbours rows `from .. to` keep: per row, the items of its sessions but itself, at
 * most `most`. A loop of its own: V8 compiles a long loop of a long function (on-stack replacement) as the
 * whole function and throws that code away when the loop ends (the code after it has no type feedback yet),
 * so this loop inside `coocRowRange` cost the rows' loop a compile (see `sessionRuns`).
 */
function neighbourBound(runs: SessionRuns, from: number, to: number, most: number): number {
  const { runStart, invStart, invSessions, rowIds } = runs;
  let bound = 0;
  for (let r = from; r < to; r++) {
    const x = rowIds[r]!;
    let reach = 0;
    for (let k = invStart[x]!; k < invStart[x + 1]! && reach < most; k++) reach += runStart[invSessions[k]! + 1]! - runStart[invSessions[k]!]! - 1;
    bound += Math.min(reach, most);
  }
  return bound;
}

/** Sessions of a row whose runs are located before they are walked (see `coocRowRange`). */
const SPAN = 256;

/** Count classes of {@link dropBelowTop}: counts 0 .. 254 exactly, the last class every count from 255 on. */
const COUNT_CLASSES = 256;

/**
 * Drops the candidates (`ids[0 .. m)`, counts in `cs`) that cannot be among
 * a row's `keep` first by count desc: those below the highest count `c`
 * that at least `keep` of them reach (counted by class in `atLeast`, the
 * last class holding every count from its own up). A popular item's row has
 * thousands of candidates and keeps 50; what survives is those 50, their
 * ties at the cut, and nothing whose count could place it before them, so
 * ordering the survivors gives the same first `keep`. Returns how many
 * survive (moved to the front, in their order).
 */
function dropBelowTop(ids: Uint32Array, cs: Uint32Array, m: number, atLeast: Uint32Array, keep: number): number {
  // Only worth a pass when the ordering would otherwise select among many more than it keeps.
  if (m <= 4 * keep) return m;
  let reached = 0;
  let cut = COUNT_CLASSES - 1;
  for (; cut > 0; cut--) {
    reached += atLeast[cut]!;
    if (reached >= keep) break;
  }
  if (cut <= 1) return m;
  let w = 0;
  for (let k = 0; k < m; k++) {
    const c = cs[k]!;
    if (c >= cut) {
      ids[w] = ids[k]!;
      cs[w++] = c;
    }
  }
  return w;
}

/**
 * Splits `rows` rows into at most `parts` contiguous ranges of about equal
 * work (the sessions walked per row), for the threads or passes that count
 * them.
 * @since 0.4.0
 */
export function rowRanges(runs: SessionRuns, parts: number): Array<[number, number]> {
  const { rowIds, invStart, runStart } = runs;
  const rows = rowIds.length;
  if (parts <= 1 || rows <= 1) return [[0, rows]];
  // Work of a row: the items of its sessions it walks (with KeptPairs, the kept ones are read from a line of
  // rows), estimated as its sessions times what a row walks per session on average. Summing each row's
  // sessions' lengths read the runs' offsets at random once per session of every row, as often as the count
  // itself: ~170 ms on the main thread at 5M events while the threads waited. The ranges only share out the
  // work (handed out as threads finish); any split gives the same rows.
  const runKept = runs.kept?.runKept;
  let reads = 0;
  let walked = 0;
  for (let s = 0; s + 1 < runStart.length; s++) {
    const len = runStart[s + 1]! - runStart[s]!;
    // Rows reading the session, and what each walks in it: its kept items and the others (KeptPairs), or
    // without the matrix every item and the items but itself (a row cut without it: an estimate, as here).
    const readers = runKept ? runKept[s]! : len;
    reads += readers;
    walked += readers * (runKept ? len - readers : len - 1);
  }
  const perSession = 1 + (reads > 0 ? walked / reads : 0);
  const work = new Float64Array(rows + 1);
  for (let r = 0; r < rows; r++) {
    const x = rowIds[r]!;
    work[r + 1] = work[r]! + 1 + (runKept ? rows : 0) + (invStart[x + 1]! - invStart[x]!) * perSession;
  }
  const total = work[rows]!;
  const ranges: Array<[number, number]> = [];
  let from = 0;
  for (let p = 1; p <= parts && from < rows; p++) {
    const goal = (total * p) / parts;
    let to = from + 1;
    while (to < rows && work[to + 1]! <= goal) to++;
    if (p === parts) to = rows;
    ranges.push([from, to]);
    from = to;
  }
  return ranges;
}

/**
 * Joins row ranges (in row order, covering every row) into the compact rows
 * the payload writer reads.
 * @since 0.4.0
 */
export function joinRowRanges(names: readonly string[], rowIds: Uint32Array, ranges: readonly CoocRowRange[]): { names: readonly string[]; rowIds: Uint32Array; start: Uint32Array; len: Uint32Array; nbr: Uint32Array; cnt: Uint32Array } {
  if (ranges.length === 1) {
    const only = ranges[0]!;
    const start = new Uint32Array(rowIds.length);
    for (let r = 1; r < rowIds.length; r++) start[r] = start[r - 1]! + only.len[r - 1]!;
    return { names, rowIds, start, len: only.len, nbr: only.nbr, cnt: only.cnt };
  }
  let total = 0;
  for (const part of ranges) total += part.nbr.length;
  const nbr = new Uint32Array(total);
  const cnt = new Uint32Array(total);
  const len = new Uint32Array(rowIds.length);
  const start = new Uint32Array(rowIds.length);
  let r = 0;
  let at = 0;
  for (const part of ranges) {
    nbr.set(part.nbr, at);
    cnt.set(part.cnt, at);
    for (let k = 0; k < part.len.length; k++, r++) {
      len[r] = part.len[k]!;
      start[r] = at;
      at += part.len[k]!;
    }
  }
  if (r !== rowIds.length) throw new Error(`row ranges cover ${r} of ${rowIds.length} rows`);
  return { names, rowIds, start, len, nbr, cnt };
}
