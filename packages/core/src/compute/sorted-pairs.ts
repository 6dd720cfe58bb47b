/*
 * Pair counts sorted by (x, y), as groups of equal x, and the streaming
 * merge that sums sorted streams into them.
 *
 * The shard merge used to add every pair of every partial into a hash table
 * (`PairCounter`): one random probe per pair into a table of the day's
 * distinct pairs, most of the merge's CPU. A partial lists its pairs sorted
 * by (a, b) in the UTF-8 order of its item ids, and that order is the same
 * in every shard, so once each shard's items are mapped to their rank among
 * the day's items every partial is already a stream sorted by (rank a, rank
 * b). Summing k such streams is then a k-way merge of all of them at once
 * (each pair written once; an earlier version merged each partial into the
 * pairs summed so far, copying those once per later partial). No hashing,
 * no random access, and the result comes out in the order the day aggregate
 * stores.
 */

/**
 * Anything that lists unordered pair counts `(x, y, count)`, `x < y`, each
 * pair once (a {@link PairCounter}, {@link SortedPairs}).
 * @since 0.7.0
 */
export interface PairCounts {
  /** Distinct pairs. */
  readonly size: number;
  /** Calls `fn` for every pair with its count. */
  forEach(fn: (x: number, y: number, count: number) => void): void;
}

/**
 * Pair counts sorted by `x`, then `y` (`x < y`, no pair twice), as groups of
 * equal `x`: group g is `x = xs[g]`, its pairs `starts[g]` … `starts[g + 1]`
 * of {@link y} and {@link counts}. No `x` per pair: its readers walk the
 * groups (one `x` for all of a group's pairs), and the column of 4 bytes a
 * pair (60 MB for a day of 15 M pairs) is only made when asked for ({@link x}).
 * With {@link touching}, only the pairs that touch one of those items are
 * here (the others were never read in).
 * @since 0.7.0
 */
export class SortedPairs implements PairCounts {
  private column: Uint32Array | undefined;

  /**
   * @param touching when set, flags by item (1: touched): the pairs held are
   *   exactly those with `touching[x]` or `touching[y]` set.
   * @since 0.10.0 (grouped; before, the pairs' `x`, `y` and counts columns)
   */
  constructor(
    readonly xs: Uint32Array,
    readonly starts: Uint32Array,
    readonly y: Uint32Array,
    readonly counts: Uint32Array,
    readonly touching?: Uint8Array,
  ) {}

  /** From one `x` per pair (sorted by (x, y)). @since 0.10.0 */
  static fromColumns(x: Uint32Array, y: Uint32Array, counts: Uint32Array): SortedPairs {
    let groups = 0;
    for (let i = 0; i < x.length; i++) if (i === 0 || x[i] !== x[i - 1]) groups++;
    const xs = new Uint32Array(groups);
    const starts = new Uint32Array(groups + 1);
    let g = 0;
    for (let i = 0; i < x.length; i++) {
      if (i === 0 || x[i] !== x[i - 1]) {
        xs[g] = x[i]!;
        starts[g++] = i;
      }
    }
    starts[groups] = x.length;
    return new SortedPairs(xs, starts, y, counts);
  }

  get size(): number {
    return this.y.length;
  }

  /** Each pair's `x` (made on the first call, then kept). */
  get x(): Uint32Array {
    if (!this.column) {
      const x = new Uint32Array(this.y.length);
      for (let g = 0; g < this.xs.length; g++) x.fill(this.xs[g]!, this.starts[g]!, this.starts[g + 1]!);
      this.column = x;
    }
    return this.column;
  }

  /** In (x, y) order. */
  forEach(fn: (x: number, y: number, count: number) => void): void {
    const { xs, starts, y, counts } = this;
    for (let g = 0; g < xs.length; g++) {
      const x = xs[g]!;
      const to = starts[g + 1]!;
      for (let i = starts[g]!; i < to; i++) fn(x, y[i]!, counts[i]!);
    }
  }
}

const EMPTY: Uint32Array = new Uint32Array(0);
const ZERO: Uint32Array = new Uint32Array(1);

/**
 * One input's pair counts, sorted by (x, y), as groups of equal `x`: the
 * group's `x`, where its `y`s start, and every pair's `y` and count (8 bytes
 * a pair). Filled with {@link GroupedPairs.add} in (x, y) order, then summed
 * with other inputs by {@link mergeGroupedPairs}.
 * @since 0.8.0
 */
export class GroupedPairs {
  /** Group g: `x = xs[g]`, pairs `starts[g]` … `starts[g + 1]`. */
  xs: Uint32Array = new Uint32Array(1024);
  starts: Uint32Array = new Uint32Array(1025);
  groups = 0;
  /** Pairs added. */
  size = 0;
  y: Uint32Array;
  counts: Uint32Array;

  /** Room for `expected` pairs (more grows). */
  constructor(expected: number) {
    this.y = new Uint32Array(Math.max(16, expected));
    this.counts = new Uint32Array(Math.max(16, expected));
  }

  /**
   * Adds the next pair; pairs must come in strictly ascending (x, y) order
   * with `x < y`. Returns false, adding nothing, when one does not (the
   * caller names the input).
   */
  add(x: number, y: number, count: number): boolean {
    const g = this.groups;
    const i = this.size;
    if (x >= y) return false;
    if (g === 0 || this.xs[g - 1]! !== x) {
      if (g > 0 && this.xs[g - 1]! > x) return false;
      if (g === this.xs.length) this.growGroups();
      this.xs[g] = x;
      this.starts[g] = i;
      this.groups = g + 1;
    } else if (this.y[i - 1]! >= y) return false;
    if (i === this.y.length) this.growPairs();
    this.y[i] = y;
    this.counts[i] = count;
    this.size = i + 1;
    this.starts[this.groups] = i + 1;
    return true;
  }

  /**
   * Opens the group of `x` for the next `m` pairs, which the caller writes
   * straight into {@link y} and {@link counts} from {@link size} (read them
   * after this call: they may have grown), strictly ascending and above
   * `x`, then sets {@link size} past them. For a decoder that fills the
   * columns in its own loop instead of one {@link add} per pair. Returns
   * false, opening nothing, when `x` is not above the previous group's.
   */
  openGroup(x: number, m: number): boolean {
    const g = this.groups;
    if (g > 0 && this.xs[g - 1]! >= x) return false;
    if (g === this.xs.length) this.growGroups();
    while (this.size + m > this.y.length) this.growPairs();
    this.xs[g] = x;
    this.starts[g] = this.size;
    this.starts[g + 1] = this.size + m;
    this.groups = g + 1;
    return true;
  }

  /**
   * Ends the group last opened, at `end` (at most where {@link openGroup}
   * announced it to end): for a decoder that leaves some of a group's pairs
   * out. A group left with no pair is removed. Sets {@link size} to `end`.
   */
  endGroup(end: number): void {
    const g = this.groups - 1;
    this.size = end;
    if (end === this.starts[g]) this.groups = g;
    else this.starts[g + 1] = end;
  }

  private growGroups(): void {
    const xs = new Uint32Array(this.xs.length * 2);
    xs.set(this.xs);
    this.xs = xs;
    const starts = new Uint32Array(xs.length + 1);
    starts.set(this.starts);
    this.starts = starts;
  }

  private growPairs(): void {
    const y = new Uint32Array(this.y.length * 2);
    y.set(this.y);
    this.y = y;
    const counts = new Uint32Array(y.length);
    counts.set(this.counts);
    this.counts = counts;
  }
}

/** Merges `ya/ca[aFrom, aTo)` and `yb/cb[bFrom, bTo)`, each ascending by y, into `outY/outC` from `o`, summing equal y; returns where it stopped. */
function mergeTwo(ya: Uint32Array, ca: Uint32Array, aFrom: number, aTo: number, yb: Uint32Array, cb: Uint32Array, bFrom: number, bTo: number, outY: Uint32Array, outC: Uint32Array, o: number): number {
  let i = aFrom;
  let j = bFrom;
  while (i < aTo && j < bTo) {
    const u = ya[i]!;
    const v = yb[j]!;
    if (u < v) {
      outY[o] = u;
      outC[o++] = ca[i++]!;
    } else if (v < u) {
      outY[o] = v;
      outC[o++] = cb[j++]!;
    } else {
      outY[o] = u;
      outC[o++] = ca[i++]! + cb[j++]!;
    }
  }
  while (i < aTo) {
    outY[o] = ya[i]!;
    outC[o++] = ca[i++]!;
  }
  while (j < bTo) {
    outY[o] = yb[j]!;
    outC[o++] = cb[j++]!;
  }
  return o;
}

/**
 * Sums inputs of pair counts, each sorted by (x, y), into one
 * {@link SortedPairs}: a k-way merge of all inputs at once, group by group
 * (x ascending), so each pair is written once. A group that one input alone
 * holds is copied as a block; the groups of an x that several hold are
 * merged by y. One input is taken as it is (its groups, `y` and counts
 * become the result's: nothing is copied). `touching` is what the inputs
 * were filtered by, if anything (see {@link SortedPairs.touching}).
 * @since 0.8.0
 */
export function mergeGroupedPairs(inputs: readonly GroupedPairs[], touching?: Uint8Array): SortedPairs {
  const parts = inputs.filter((p) => p.size > 0);
  const k = parts.length;
  if (k === 0) return new SortedPairs(EMPTY, ZERO, EMPTY, EMPTY, touching);
  if (k === 1) {
    const p = parts[0]!;
    return new SortedPairs(p.xs.subarray(0, p.groups), p.starts.subarray(0, p.groups + 1), p.y.subarray(0, p.size), p.counts.subarray(0, p.size), touching);
  }
  let total = 0;
  let totalGroups = 0;
  for (const p of parts) {
    total += p.size;
    totalGroups += p.groups;
  }
  const outXs = new Uint32Array(totalGroups);
  const outStarts = new Uint32Array(totalGroups + 1);
  let og = 0;
  const outY = new Uint32Array(total);
  const outC = new Uint32Array(total);
  // Per input: its next group; per input of the current x: where its pairs of that group are at, and end.
  const group = new Uint32Array(k);
  const at = new Uint32Array(k);
  const end = new Uint32Array(k);
  const holders = new Uint32Array(k);
  let scratchY = EMPTY;
  let scratchC = EMPTY;
  let spareY = EMPTY;
  let spareC = EMPTY;
  let o = 0;
  for (;;) {
    let x = 0xffffffff;
    let found = false;
    for (let q = 0; q < k; q++) {
      const p = parts[q]!;
      if (group[q]! < p.groups && p.xs[group[q]!]! <= x) {
        x = p.xs[group[q]!]!;
        found = true;
      }
    }
    if (!found) break;
    outXs[og] = x;
    outStarts[og++] = o;
    let h = 0;
    for (let q = 0; q < k; q++) {
      const p = parts[q]!;
      const g = group[q]!;
      if (g < p.groups && p.xs[g] === x) {
        holders[h] = q;
        at[h] = p.starts[g]!;
        end[h++] = p.starts[g + 1]!;
        group[q] = g + 1;
      }
    }
    if (h === 1) {
      const p = parts[holders[0]!]!;
      const from = at[0]!;
      const to = end[0]!;
      if (to - from > 16) {
        outY.set(p.y.subarray(from, to), o);
        outC.set(p.counts.subarray(from, to), o);
        o += to - from;
      } else {
        // A short group (most of them when the pairs were filtered): copied in place, no views made.
        const { y, counts } = p;
        for (let i = from; i < to; i++) {
          outY[o] = y[i]!;
          outC[o++] = counts[i]!;
        }
      }
      continue;
    }
    // Several inputs hold x: their groups merged two at a time (tight two-way merges; the last one into the output).
    let size = 0;
    for (let r = 0; r < h; r++) size += end[r]! - at[r]!;
    if (scratchY.length < size) {
      scratchY = new Uint32Array(size * 2);
      scratchC = new Uint32Array(size * 2);
      spareY = new Uint32Array(size * 2);
      spareC = new Uint32Array(size * 2);
    }
    let y: Uint32Array = parts[holders[0]!]!.y;
    let c: Uint32Array = parts[holders[0]!]!.counts;
    let from = at[0]!;
    let to = end[0]!;
    for (let r = 1; r < h; r++) {
      const p = parts[holders[r]!]!;
      const last = r === h - 1;
      const intoY = last ? outY : scratchY;
      const intoC = last ? outC : scratchC;
      const start = last ? o : 0;
      const stop = mergeTwo(y, c, from, to, p.y, p.counts, at[r]!, end[r]!, intoY, intoC, start);
      if (last) o = stop;
      else {
        y = scratchY;
        c = scratchC;
        from = 0;
        to = stop;
        // The next merge writes into the other scratch pair while reading this one.
        [scratchY, spareY] = [spareY, scratchY];
        [scratchC, spareC] = [spareC, scratchC];
      }
    }
  }
  // Views, not copies: the room that pairs held by several inputs left unused was never written (no memory taken).
  outStarts[og] = o;
  return new SortedPairs(outXs.subarray(0, og), outStarts.subarray(0, og + 1), outY.subarray(0, o), outC.subarray(0, o), touching);
}
