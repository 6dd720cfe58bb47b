/**
 * Exact-duplicate removal keeps one 128-bit fingerprint per distinct event
 * instead of the line itself, in four parallel typed arrays (open
 * addressing, linear probing):
 *
 * - a fast unkeyed 64-bit part (two independent 32-bit lanes) that places
 *   the entry in the table, and
 * - a keyed 64-bit part (HalfSipHash-1-3 under a random key drawn for each
 *   ingest) that confirms a hit.
 *
 * The unkeyed part alone can be attacked: a birthday search finds two item
 * ids whose events share it in well under a second, and one distinct event
 * would be dropped as a "duplicate". Without the key nobody can aim at the
 * keyed part, so an entry is only a duplicate when all 128 bits agree; a hit
 * on the unkeyed part alone is counted in {@link FingerprintSet.collisions}
 * and both events are kept. The chance of a false duplicate is about
 * n²/2¹²⁹ per day (1 in 10²³ at 50M events), and nothing an input can do
 * raises it. See docs/explanation/performance.md.
 * @since 0.1.0
 */
export class FingerprintSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private khi: Uint32Array;
  private klo: Uint32Array;
  private mask: number;
  private count = 0;
  private collided = 0;
  /** The key {@link addText} hashes with. */
  readonly key: FingerprintKey;

  constructor(initialCapacity = 1 << 16, key: FingerprintKey = randomFingerprintKey()) {
    let cap = 1;
    while (cap < initialCapacity * 2) cap <<= 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.khi = new Uint32Array(cap);
    this.klo = new Uint32Array(cap);
    this.mask = cap - 1;
    this.key = key;
  }

  get size(): number {
    return this.count;
  }

  /** Distinct entries that shared the unkeyed 64-bit part with an earlier one (kept apart by the keyed part). */
  get collisions(): number {
    return this.collided;
  }

  /** Adds the fingerprint of `text`; returns false if it was already present. */
  addText(text: string): boolean {
    fingerprint(text, this.key);
    return this.add(FP[0]!, FP[1]!, FP[2]!, FP[3]!);
  }

  /**
   * Adds a fingerprint (`h`, `l`: the unkeyed part; `kh`, `kl`: the keyed
   * part); returns false if all four words were already present.
   */
  add(h: number, l: number, kh = 0, kl = 0): boolean {
    // (0, 0) marks an empty slot; nudge the one fingerprint that collides with it.
    if (h === 0 && l === 0) l = 1;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & this.mask;
    for (;;) {
      const sh = this.hi[i]!;
      const sl = this.lo[i]!;
      if (sh === 0 && sl === 0) break;
      if (sh === h && sl === l) {
        if (this.khi[i] === kh && this.klo[i] === kl) return false;
        this.collided++;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[i] = h;
    this.lo[i] = l;
    this.khi[i] = kh;
    this.klo[i] = kl;
    if (++this.count * 2 > this.mask) this.grow();
    return true;
  }

  private grow(): void {
    const oldHi = this.hi;
    const oldLo = this.lo;
    const oldKhi = this.khi;
    const oldKlo = this.klo;
    this.hi = new Uint32Array(oldHi.length * 2);
    this.lo = new Uint32Array(oldLo.length * 2);
    this.khi = new Uint32Array(oldHi.length * 2);
    this.klo = new Uint32Array(oldLo.length * 2);
    this.mask = this.hi.length - 1;
    for (let j = 0; j < oldHi.length; j++) {
      const h = oldHi[j]!;
      const l = oldLo[j]!;
      if (h === 0 && l === 0) continue;
      let i = (h ^ Math.imul(l, 0x9e3779b1)) & this.mask;
      while (this.hi[i] !== 0 || this.lo[i] !== 0) i = (i + 1) & this.mask;
      this.hi[i] = h;
      this.lo[i] = l;
      this.khi[i] = oldKhi[j]!;
      this.klo[i] = oldKlo[j]!;
    }
  }
}

/** The 64-bit key of the keyed fingerprint part, as two 32-bit words. @since 0.1.0 */
export type FingerprintKey = readonly [number, number];

/**
 * A fresh random key (Web Crypto, available in Node and browsers). Each
 * ingest draws its own, so collisions cannot be precomputed; the output does
 * not depend on it (only on which events are equal).
 * @since 0.1.0
 */
export function randomFingerprintKey(): FingerprintKey {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return [words[0]!, words[1]!];
}

/**
 * Output of {@link fingerprint}: the unkeyed part (two independent 32-bit
 * hashes) in `[0]`, `[1]` and the keyed part in `[2]`, `[3]`.
 */
export const FP = new Uint32Array(4);

/**
 * The 128-bit fingerprint of `text`, written to {@link FP}: an FNV-1a-style
 * lane and a murmur3-style lane (unkeyed), and HalfSipHash-1-3 with 64-bit
 * output under `key` (over the UTF-16 code units, two per 32-bit word, the
 * length mod 256 in the last word as in SipHash). Runs once per event, in
 * one pass over the text.
 */
export function fingerprint(text: string, key: FingerprintKey): void {
  let a = 0x811c9dc5;
  let h = 0x9747b28c ^ text.length;
  const k0 = key[0];
  const k1 = key[1];
  // HalfSipHash state, initialised for a 64-bit output.
  let v0 = k0;
  let v1 = k1 ^ 0xee;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
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
    // One SipRound per word (c = 1).
    v3 ^= w;
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= w;
  }
  let last = (n & 0xff) << 24;
  if (i < n) {
    const w = text.charCodeAt(i);
    a = Math.imul(a ^ w, 0x01000193);
    h ^= Math.imul((Math.imul(w, 0xcc9e2d51) << 15) | (Math.imul(w, 0xcc9e2d51) >>> 17), 0x1b873593);
    // A UTF-16 unit fills 16 bits; the length byte stays clear of it.
    last |= w;
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

  v3 ^= last;
  v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
  v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
  v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
  v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  v0 ^= last;
  v2 ^= 0xee;
  // d = 3 finalisation rounds per output word.
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  FP[2] = (v1 ^ v3) >>> 0;
  v1 ^= 0xdd;
  for (let r = 0; r < 3; r++) {
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
  }
  FP[3] = (v1 ^ v3) >>> 0;
}
