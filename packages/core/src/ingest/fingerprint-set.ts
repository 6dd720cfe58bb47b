import { LastView } from './last-view.js';

/**
 * Exact-duplicate removal keeps one 128-bit fingerprint per distinct event
 * instead of the line itself, in one typed array of 16-byte slots (open
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
 * raises it. Both parts hash the canonical line's UTF-8 bytes; ingest
 * leaves out the bytes every line of its scope shares (`{"v":1,"ts":"`, the
 * day, the tenant and surface), in a message from which the line can be
 * rebuilt ({@link fingerprintPieces}), so distinct lines still differ in what
 * is hashed and the guarantee above is unchanged. See
 * docs/explanation/performance.md.
 * @since 0.1.0
 */
export class FingerprintSet {
  /** Four words per slot (unkeyed hi, lo, keyed hi, lo), so one probe touches one cache line. */
  private slots: Uint32Array;
  private mask: number;
  private limit: number;
  private count = 0;
  private collided = 0;
  /** XOR of the words {@link touch} loaded (only so the loads stay). */
  private touched = 0;
  /** Words of `slots` {@link prefault} has been through. */
  private faulted = 0;
  /** The key {@link addText} hashes with. */
  readonly key: FingerprintKey;

  constructor(initialCapacity = 1 << 16, key: FingerprintKey = randomFingerprintKey()) {
    const cap = slotsFor(initialCapacity);
    this.slots = new Uint32Array(cap * 4);
    this.mask = cap - 1;
    this.limit = Math.floor(cap * MAX_LOAD);
    this.key = key;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes a table sized for `entries` holds (what the constructor allocates for that capacity). */
  static bytesFor(entries: number): number {
    return slotsFor(entries) * 16;
  }

  /** Bytes held by the table (16 per slot, at most {@link MAX_LOAD} of the slots used). */
  get bytes(): number {
    return this.slots.byteLength;
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
    const slots = this.slots;
    const mask = this.mask;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & mask;
    for (;;) {
      const at = i << 2;
      const sh = slots[at]!;
      const sl = slots[at + 1]!;
      if (sh === 0 && sl === 0) {
        slots[at] = h;
        slots[at + 1] = l;
        slots[at + 2] = kh;
        slots[at + 3] = kl;
        if (++this.count > this.limit) this.grow();
        return true;
      }
      if (sh === h && sl === l) {
        if (slots[at + 2] === kh && slots[at + 3] === kl) return false;
        this.collided++;
      }
      i = (i + 1) & mask;
    }
  }

  /**
   * {@link add} for each event `k < n` of a block whose `keep[k]` is 1, in
   * order (the fingerprints are the first four words of `fp[k·stride..)`, default stride 4); clears `keep[k]` of each
   * one already present and returns how many those were. Same answers as
   * calling {@link add} one event at a time.
   *
   * Each probe is a cache miss into a table of tens of MB. One at a time,
   * they hardly overlap: whether the slot was empty decides a branch the
   * CPU cannot predict, so the next event's load waits. Here a first pass
   * loads each event's home slot with nothing depending on the values (the
   * misses overlap), and the inserts then find those lines in cache.
   */
  addBlock(fp: Uint32Array, n: number, keep: Uint8Array, stride = 4): number {
    let duplicates = 0;
    for (let from = 0; from < n; from += PREFETCH_EVENTS) {
      const to = Math.min(n, from + PREFETCH_EVENTS);
      this.touch(fp, from, to, stride);
      for (let k = from; k < to; k++) {
        const at = k * stride;
        if (keep[k] === 1 && !this.add(fp[at]!, fp[at + 1]!, fp[at + 2]!, fp[at + 3]!)) {
          keep[k] = 0;
          duplicates++;
        }
      }
    }
    return duplicates;
  }

  /**
   * Writes to the next `bytes` of the table that this has not been through
   * yet, so that the system maps those pages now; returns whether any are
   * left. A fresh table's pages are mapped on their first write, and the
   * first blocks' adds (scattered over the whole table) otherwise pay for
   * nearly all of them at once (the first 4 MiB chunk of the 1M-event day:
   * 40–150 ms in `addBlock`, against 5–7 ms for the next ones). Ingest calls
   * this while it waits for a parse, so the main thread does it when it
   * would be idle. Changes no entry: an empty table gets zeros, a used one
   * a zero written over one empty slot per 4 KiB (a table at most three
   * quarters full has one in nearly every page; a page without one was
   * written already).
   */
  prefault(bytes: number): boolean {
    const slots = this.slots;
    const from = this.faulted;
    const to = Math.min(slots.length, from + Math.max(PAGE_WORDS, bytes >>> 2));
    if (this.count === 0) slots.fill(0, from, to);
    else {
      for (let page = from; page < to; page += PAGE_WORDS) {
        const end = Math.min(to, page + PAGE_WORDS);
        for (let at = page; at < end; at += 4) {
          if (slots[at] === 0 && slots[at + 1] === 0) {
            slots[at] = 0;
            break;
          }
        }
      }
    }
    this.faulted = to;
    return to < slots.length;
  }

  /** Loads the home slot of events `from..to` (see {@link addBlock}); the loaded words only feed {@link touched}. */
  private touch(fp: Uint32Array, from: number, to: number, stride: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let acc = 0;
    for (let k = from; k < to; k++) acc ^= slots[((fp[k * stride]! ^ Math.imul(fp[k * stride + 1]!, 0x9e3779b1)) & mask) << 2]!;
    // Kept so the loads are not dead code.
    this.touched ^= acc;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    const slots = new Uint32Array(cap * 4);
    const mask = cap - 1;
    for (let j = 0; j < old.length; j += 4) {
      const h = old[j]!;
      const l = old[j + 1]!;
      if (h === 0 && l === 0) continue;
      let i = (h ^ Math.imul(l, 0x9e3779b1)) & mask;
      while (slots[i << 2] !== 0 || slots[(i << 2) + 1] !== 0) i = (i + 1) & mask;
      const at = i << 2;
      slots[at] = h;
      slots[at + 1] = l;
      slots[at + 2] = old[j + 2]!;
      slots[at + 3] = old[j + 3]!;
    }
    this.slots = slots;
    this.mask = mask;
    this.limit = Math.floor(cap * MAX_LOAD);
    // A new table, written only where the entries were moved.
    this.faulted = 0;
  }
}

/**
 * Most slots in use before the table doubles. Linear probing stays short at
 * three quarters full (the slots are 16 bytes, four to a cache line), and the
 * table holds 21–43 bytes per distinct event instead of 32–64 at half full
 * (1.07 GB instead of 2.1 GB at 50M events).
 */
const MAX_LOAD = 0.75;

/**
 * Events whose home slots {@link FingerprintSet.addBlock} loads before
 * inserting them: enough misses in flight to overlap, few enough lines
 * (32 KB) to still be in cache when the inserts come (256–1024 measured
 * the same over the 1M day; 2048 and more lose).
 */
const PREFETCH_EVENTS = 512;

/** Words of a 4 KiB page ({@link FingerprintSet.prefault}). */
const PAGE_WORDS = 1024;

/** Slots (a power of two) for `entries` at most {@link MAX_LOAD} full. */
function slotsFor(entries: number): number {
  let cap = 1;
  while (cap * MAX_LOAD < entries) cap *= 2;
  return cap;
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

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/**
 * The 128-bit fingerprint of `text` (of its UTF-8 bytes, as
 * {@link fingerprintBytes}), written to {@link FP}.
 */
export function fingerprint(text: string, key: FingerprintKey): void {
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3 + 1024);
  const { written } = encoder.encodeInto(text, scratch);
  fingerprintBytes(scratch, 0, written, key);
}

/** The DataView {@link fingerprintBytes} reads words through. */
const wordView = new LastView();

/**
 * Points {@link fingerprintPieces}' word view at `b` before a block's lines
 * are fingerprinted (the parse does, once per block), so the compiled
 * fingerprint never meets a new buffer itself. Making the view is a branch
 * that ran once, on the first block, before V8 kept type feedback for the
 * function: code compiled during that block had none for it, and the second
 * block's first line threw that code away (and, inlined, the line loop's).
 * Changes no fingerprint.
 */
export function fingerprintWordsOf(b: Uint8Array): void {
  wordView.for(b);
}

/**
 * The 128-bit fingerprint of the bytes `b[s..e)`, written to {@link FP}: an
 * FNV-1a-style lane and a murmur3-style lane (unkeyed), and HalfSipHash-1-3
 * with 64-bit output under `key` (little-endian 32-bit words, the length mod
 * 256 in the top byte of the last word, as in SipHash). One pass over the
 * bytes, four at a time; runs once per event in the parse workers.
 */
export function fingerprintBytes(b: Uint8Array, s: number, e: number, key: FingerprintKey): void {
  fingerprintPieces(b, s, s, s, e, key);
}

/**
 * The fingerprint ({@link fingerprintBytes}'s function) of the message
 * `b[hs..he)`, then zero bytes (at least one, up to a multiple of four),
 * then `b[s..e)`; with `hs === he` that of `b[s..e)` alone, i.e.
 * {@link fingerprintBytes}. Ingest fingerprints a line of its scope as its
 * time (after the day) as the head and what follows its session id key as
 * the body (what every line of one ingest shares is left out: about half
 * the bytes of a typical line, so about half the words): see
 * `scopedFingerprint` in chunk-parser.ts for why distinct lines still give
 * distinct messages. The caller's head holds no zero byte, so the message
 * says where the head ended.
 */
export function fingerprintPieces(b: Uint8Array, hs: number, he: number, s: number, e: number, key: FingerprintKey): void {
  const n = (hs === he ? 0 : (he - hs + 4) & ~3) + e - s;
  // Each word is one little-endian DataView load (TurboFan inlines it) instead of four byte loads and shifts:
  // the same words, so the same fingerprints, at ~70 % of the time. A chunk's lines share one view.
  const words = wordView.for(b);
  let a = 0x811c9dc5;
  let h = 0x9747b28c ^ n;
  const k0 = key[0];
  const k1 = key[1];
  // HalfSipHash state, initialised for a 64-bit output.
  let v0 = k0;
  let v1 = k1 ^ 0xee;
  let v2 = 0x6c796765 ^ k0;
  let v3 = 0x74656462 ^ k1;
  let i = s;
  if (hs !== he) {
    i = hs;
    // The head's words, then its last 0–3 bytes and the zeros as one more word. (Its own loop, as the body's: one
    // loop that switched from head to body ran at half the speed.)
    for (let w = 0, done = false; !done; ) {
      if (i < he - 3) {
        w = words.getInt32(i, true);
        i += 4;
      } else {
        w = 0;
        for (let shift = 0; i < he; i++, shift += 8) w |= b[i]! << shift;
        done = true;
      }
      a = Math.imul(a ^ w, 0x01000193);
      let k = Math.imul(w, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
      v3 ^= w;
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= w;
    }
    i = s;
  }
  for (const stop = e - 3; i < stop; i += 4) {
    const w = words.getInt32(i, true);
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
  // The 0–3 bytes left; the length byte sits above them.
  let tail = 0;
  for (let shift = 0; i < e; i++, shift += 8) tail |= b[i]! << shift;
  if ((n & 3) !== 0) {
    a = Math.imul(a ^ tail, 0x01000193);
    h ^= Math.imul((Math.imul(tail, 0xcc9e2d51) << 15) | (Math.imul(tail, 0xcc9e2d51) >>> 17), 0x1b873593);
  }
  const last = tail | ((n & 0xff) << 24);
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
