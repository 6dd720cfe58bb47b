/**
 * A set of 64-bit fingerprints in two parallel typed arrays (open
 * addressing, linear probing). Used for exact-duplicate removal: 8 bytes per
 * distinct event instead of a `Set` of whole lines. Two independent 32-bit
 * hashes make a false "duplicate" among 50M events about a 1-in-10^4 event
 * (birthday bound 50M²/2⁶⁵); see docs/explanation/dedupe.md.
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

/** FNV-1a over UTF-16 code units. */
export function hash32(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A second, independent 32-bit hash (murmur3-style mixing) over UTF-16 code units. */
export function hash32b(text: string): number {
  let h = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Output of {@link fingerprint}: `[hash32, hash32b]` of the last text. */
export const FP = new Uint32Array(2);

/**
 * Both 32-bit hashes of `text` ({@link hash32} with the FNV offset basis and
 * {@link hash32b}) in a single pass, written to {@link FP}; this runs once per
 * event.
 */
export function fingerprint(text: string): void {
  let a = 0x811c9dc5;
  let h = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a ^= c;
    a = Math.imul(a, 0x01000193);
    let k = Math.imul(c, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  FP[0] = a >>> 0;
  FP[1] = h >>> 0;
}
