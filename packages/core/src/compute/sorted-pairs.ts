/*
 * Pair counts as three parallel columns sorted by (x, y), and the streaming
 * merge that sums sorted streams into them.
 *
 * The shard merge used to add every pair of every partial into a hash table
 * (`PairCounter`): one random probe per pair into a table of the day's
 * distinct pairs, most of the merge's CPU. A partial lists its pairs sorted
 * by (a, b) in the UTF-8 order of its item ids, and that order is the same
 * in every shard, so once each shard's items are mapped to their rank among
 * the day's items every partial is already a stream sorted by (rank a, rank
 * b). Summing k such streams is then a sequential merge: pairs of the first
 * partial are appended, each later partial is merged into what the earlier
 * ones left (pairs in both are summed). No hashing, no random access, and
 * the result comes out in the order the day aggregate stores.
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
 * Pair counts sorted by `x`, then `y` (`x[i] < y[i]`, no pair twice).
 * @since 0.7.0
 */
export class SortedPairs implements PairCounts {
  constructor(
    readonly x: Uint32Array,
    readonly y: Uint32Array,
    readonly counts: Uint32Array,
  ) {}

  get size(): number {
    return this.x.length;
  }

  /** In (x, y) order. */
  forEach(fn: (x: number, y: number, count: number) => void): void {
    const { x, y, counts } = this;
    for (let i = 0; i < x.length; i++) fn(x[i]!, y[i]!, counts[i]!);
  }
}

const EMPTY: Uint32Array = new Uint32Array(0);

/**
 * Sums streams of pair counts, each sorted by (x, y), into one
 * {@link SortedPairs}: `begin` a stream, `add` its pairs in order, `end` it;
 * then `result`. Holds the pairs summed so far and, while a stream is
 * merged, the new columns (sized for both).
 * @since 0.7.0
 */
export class SortedPairMerge {
  private accX: Uint32Array = EMPTY;
  private accY: Uint32Array = EMPTY;
  private accC: Uint32Array = EMPTY;
  private outX: Uint32Array = EMPTY;
  private outY: Uint32Array = EMPTY;
  private outC: Uint32Array = EMPTY;
  /** Next pair of the accumulated columns to merge; pairs written to the out columns. */
  private j = 0;
  private o = 0;
  /** The stream's previous pair, to check its order. */
  private lastX = -1;
  private lastY = -1;
  private open = false;

  /** Starts a stream of about `expected` pairs (sizing only). */
  begin(expected: number): void {
    if (this.open) throw new Error('SortedPairMerge: a stream is already open');
    this.open = true;
    const cap = this.accX.length + Math.max(0, expected);
    this.outX = new Uint32Array(cap);
    this.outY = new Uint32Array(cap);
    this.outC = new Uint32Array(cap);
    this.j = 0;
    this.o = 0;
    this.lastX = -1;
    this.lastY = -1;
  }

  /**
   * Adds the stream's next pair; pairs must come in strictly ascending
   * (x, y) order with `x < y`. Returns false, adding nothing, when one does
   * not (the caller names the input).
   */
  add(x: number, y: number, count: number): boolean {
    if (x >= y || x < this.lastX || (x === this.lastX && y <= this.lastY)) return false;
    this.lastX = x;
    this.lastY = y;
    const ax = this.accX;
    const ay = this.accY;
    const ac = this.accC;
    const n = ax.length;
    let j = this.j;
    let o = this.o;
    // Accumulated pairs before (x, y) go out as they are.
    while (j < n) {
      const px = ax[j]!;
      if (px > x || (px === x && ay[j]! >= y)) break;
      if (o === this.outX.length) this.grow(o, n - j);
      this.outX[o] = px;
      this.outY[o] = ay[j]!;
      this.outC[o++] = ac[j++]!;
    }
    if (j < n && ax[j] === x && ay[j] === y) count += ac[j++]!;
    if (o === this.outX.length) this.grow(o, n - j + 1);
    this.outX[o] = x;
    this.outY[o] = y;
    this.outC[o++] = count;
    this.j = j;
    this.o = o;
    return true;
  }

  /** Ends the stream: the accumulated pairs after its last pair go out, and the result becomes the accumulated pairs. */
  end(): void {
    if (!this.open) throw new Error('SortedPairMerge: no stream is open');
    const rest = this.accX.length - this.j;
    if (this.o + rest > this.outX.length) this.grow(this.o, rest);
    this.outX.set(this.accX.subarray(this.j), this.o);
    this.outY.set(this.accY.subarray(this.j), this.o);
    this.outC.set(this.accC.subarray(this.j), this.o);
    const size = this.o + rest;
    // A view when the stream announced about what it held; copied when much of the room went unused.
    const fit = (a: Uint32Array) => (size * 8 >= a.length * 7 ? a.subarray(0, size) : a.slice(0, size));
    this.accX = fit(this.outX);
    this.accY = fit(this.outY);
    this.accC = fit(this.outC);
    this.outX = this.outY = this.outC = EMPTY;
    this.open = false;
  }

  /** The pairs summed over every ended stream. */
  result(): SortedPairs {
    if (this.open) throw new Error('SortedPairMerge: a stream is still open');
    return new SortedPairs(this.accX, this.accY, this.accC);
  }

  /** Room for `more` pairs after the `used` ones written so far (a stream that held more than it announced). */
  private grow(used: number, more: number): void {
    const cap = Math.max(this.outX.length * 2, used + more, 1024);
    const bigger = (a: Uint32Array) => {
      const b = new Uint32Array(cap);
      b.set(a.subarray(0, used));
      return b;
    };
    this.outX = bigger(this.outX);
    this.outY = bigger(this.outY);
    this.outC = bigger(this.outC);
  }
}
