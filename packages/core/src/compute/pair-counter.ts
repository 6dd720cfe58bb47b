const EMPTY = 0xffffffff;

/**
 * Counts unordered item pairs `(a, b)` with `a < b`, keyed by two Uint32
 * columns in an open-addressing table: no per-pair objects and no
 * `Map` size ceiling (V8 Maps stop at 2^24 entries).
 * @since 0.1.0
 */
export class PairCounter {
  private a: Uint32Array;
  private b: Uint32Array;
  private counts: Uint32Array;
  private mask: number;
  private used = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.a = new Uint32Array(cap).fill(EMPTY);
    this.b = new Uint32Array(cap);
    this.counts = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.used;
  }

  private slot(x: number, y: number): number {
    let h = Math.imul(x, 0x9e3779b1) ^ Math.imul(y + 0x7f4a7c15, 0x85ebca6b);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Adds `by` to the count of pair (x, y); requires x < y. */
  add(x: number, y: number, by = 1): void {
    let i = this.slot(x, y);
    for (;;) {
      const sa = this.a[i]!;
      if (sa === EMPTY) break;
      if (sa === x && this.b[i] === y) {
        this.counts[i]! += by;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.a[i] = x;
    this.b[i] = y;
    this.counts[i] = by;
    if (++this.used * 2 > this.mask) this.grow();
  }

  /** Calls `fn` for every pair with its count (unspecified order). */
  forEach(fn: (x: number, y: number, count: number) => void): void {
    for (let i = 0; i < this.a.length; i++) {
      const x = this.a[i]!;
      if (x !== EMPTY) fn(x, this.b[i]!, this.counts[i]!);
    }
  }

  private grow(): void {
    const { a, b, counts } = this;
    const cap = a.length * 2;
    this.a = new Uint32Array(cap).fill(EMPTY);
    this.b = new Uint32Array(cap);
    this.counts = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < a.length; j++) {
      const x = a[j]!;
      if (x === EMPTY) continue;
      let i = this.slot(x, b[j]!);
      while (this.a[i] !== EMPTY) i = (i + 1) & this.mask;
      this.a[i] = x;
      this.b[i] = b[j]!;
      this.counts[i] = counts[j]!;
    }
  }
}
