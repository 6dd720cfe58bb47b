const EMPTY = 0xffffffff;
const MAX_LOAD = 0.75;

/**
 * Counts unordered item pairs `(a, b)` with `a < b`, keyed by two Uint32
 * columns in an open-addressing table (linear probing, any capacity via
 * multiply-shift indexing, 75% load): 12 bytes per slot, no per-pair
 * objects and no `Map` size ceiling (V8 Maps stop at 2^24 entries).
 * @since 0.1.0
 */
export class PairCounter {
  private a: Uint32Array;
  private b: Uint32Array;
  private counts: Uint32Array;
  private cap: number;
  private used = 0;

  /** `expectedPairs`: distinct pairs expected (sizing only; the table grows when needed). */
  constructor(expectedPairs = 1 << 15) {
    this.cap = Math.max(64, Math.ceil(expectedPairs / MAX_LOAD));
    this.a = new Uint32Array(this.cap).fill(EMPTY);
    this.b = new Uint32Array(this.cap);
    this.counts = new Uint32Array(this.cap);
  }

  get size(): number {
    return this.used;
  }

  private slot(x: number, y: number): number {
    let h = Math.imul(x, 0x9e3779b1) ^ Math.imul(y + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    // Multiply-shift: maps the 32-bit hash onto [0, cap) without a power-of-two capacity.
    return Math.floor((h >>> 0) * this.cap / 4294967296);
  }

  /** Adds `by` to the count of pair (x, y); requires x < y. */
  add(x: number, y: number, by = 1): void {
    let i = this.slot(x, y);
    const a = this.a;
    for (;;) {
      const sa = a[i]!;
      if (sa === EMPTY) break;
      if (sa === x && this.b[i] === y) {
        this.counts[i]! += by;
        return;
      }
      if (++i === this.cap) i = 0;
    }
    a[i] = x;
    this.b[i] = y;
    this.counts[i] = by;
    if (++this.used > this.cap * MAX_LOAD) this.grow();
  }

  /** Calls `fn` for every pair with its count (unspecified order). */
  forEach(fn: (x: number, y: number, count: number) => void): void {
    const { a, b, counts } = this;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x !== EMPTY) fn(x, b[i]!, counts[i]!);
    }
  }

  private grow(): void {
    const { a, b, counts } = this;
    this.cap = Math.ceil(this.cap * 1.75);
    this.a = new Uint32Array(this.cap).fill(EMPTY);
    this.b = new Uint32Array(this.cap);
    this.counts = new Uint32Array(this.cap);
    for (let j = 0; j < a.length; j++) {
      const x = a[j]!;
      if (x === EMPTY) continue;
      let i = this.slot(x, b[j]!);
      while (this.a[i] !== EMPTY) if (++i === this.cap) i = 0;
      this.a[i] = x;
      this.b[i] = b[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}
