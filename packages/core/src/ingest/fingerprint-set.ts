/**
 * A set of 64-bit fingerprints in two parallel typed arrays (open
 * addressing, linear probing). Used for exact-duplicate removal: 8 bytes per
 * distinct event instead of a `Set` of whole lines. Two independent 32-bit
 * hashes make a false "duplicate" among 50M events about a 1-in-10^4 event
 * (birthday bound 50M²/2⁶⁵); see docs/explanation/performance.md.
 * @since 0.1.0
 */
export class FingerprintSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the fingerprint of `text`; returns false if it was already present. */
  addText(text: string): boolean {
    fingerprint(text);
    return this.add(FP[0]!, FP[1]!);
  }

  /** Adds a fingerprint; returns false if it was already present. */
  add(h: number, l: number): boolean {
    // (0, 0) marks an empty slot; nudge the one fingerprint that collides with it.
    if (h === 0 && l === 0) l = 1;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = this.hi[i]!;
      const sl = this.lo[i]!;
      if (sh === 0 && sl === 0) break;
      if (sh === h && sl === l) return false;
      i = (i + 1) & this.mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    if (++this.count * 2 > this.mask) this.grow();
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.mask = this.hi.length - 1;
    for (let j = 0; j < oldHi.length; j++) {
      const h = oldHi[j]!;
      const l = oldLo[j]!;
      if (h === 0 && l === 0) continue;
      let i = (h ^ Math.imul(l, 0x9e3779b1)) & this.mask;
      while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & this.mask;
      this.hi[i] = h;
      this.lo[i] = l;
    }
  }
}

/** Output of {@link fingerprint}: two independent 32-bit hashes of the last text. */
export const FP = new Uint32Array(2);

/**
 * A 64-bit fingerprint of `text` as two independent 32-bit hashes (an
 * FNV-1a-style lane and a murmur3-style lane), written to {@link FP}. Runs
 * once per event, so it consumes two UTF-16 units per step.
 */
export function fingerprint(text: string): void {
  let a = 0x811c9dc5;
  let h = 0x9747b28c ^ text.length;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const w = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ w, 0x01000193);
    let k = Math.imul(w, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    const w = text.charCodeAt(i);
    a = Math.imul(a ^ w, 0x01000193);
    h ^= Math.imul((Math.imul(w, 0xcc9e2d51) << 15) | (Math.imul(w, 0xcc9e2d51) >>> 17), 0x1b873593);
  }
  a ^= a >>> 15;
  a = Math.imul(a, 0x2c1b3c6d);
  a ^= a >>> 12;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  FP[0] = a >>> 0;
  FP[1] = h >>> 0;
}
