import { LastView } from './last-view.js';

/** Options of a {@link ByteInterner}. @since 0.7.0 */
export interface ByteInternerOptions {
  /**
   * Key of the hash (two 32-bit words); default: drawn at random. Interners
   * that exchange hashes (a parse worker's chunk sessions and the event
   * table's session dictionary) share one key.
   */
  readonly key?: readonly [number, number];
  /**
   * Keep a string per value (default true). Without, values live only as
   * UTF-8 bytes and {@link ByteInterner.values} / {@link ByteInterner.name}
   * decode them when asked (error messages, tests): a day's sessions never
   * become strings on the ingest path.
   */
  readonly strings?: boolean;
}

/**
 * Maps ids to dense integers (0, 1, 2, … in first-seen order) by their
 * UTF-8 bytes, so the parse workers intern straight from the raw line
 * without making a string per event: a string is made once, for a value's
 * first occurrence (or never, with `strings: false`). Strings and byte
 * ranges share one table (a string is looked up by its UTF-8 bytes), so
 * either way the same value gets the same id. Ids are well-formed strings
 * (raw ids with lone surrogates are replaced on ingest), so their UTF-8
 * bytes identify them.
 *
 * Open addressing over a keyed hash (HalfSipHash-1-3, 32-bit output, key
 * drawn per interner unless given): ids come from the raw input, and a
 * fixed hash would let crafted ids pile up on one probe chain.
 */
export class ByteInterner {
  /** The key of {@link ByteInterner.hashOf}. */
  readonly key: readonly [number, number];
  private strs: string[] | undefined;
  /** Decoded values when no strings are kept ({@link ByteInterner.values}), while still current. */
  private decoded: string[] | undefined;
  private count = 0;
  private arena = new Uint8Array(1 << 12);
  private used = 0;
  /** Byte range of each id in `arena`: starts at `offsets[id]`, ends at `offsets[id + 1]`. */
  private offsets = new Uint32Array(1 << 10);
  private hashes: Uint32Array | undefined = new Uint32Array(1 << 10);
  /** id + 1 per slot, 0 = empty. */
  private table: Int32Array | undefined = new Int32Array(1 << 11);
  private mask = (1 << 11) - 1;
  private readonly k0: number;
  private readonly k1: number;
  /** The hash {@link ByteInterner.find} computed last. */
  private found = 0;

  constructor(options: ByteInternerOptions = {}) {
    const key = options.key ?? randomKey();
    this.key = key;
    this.k0 = key[0];
    this.k1 = key[1];
    this.strs = options.strings === false ? undefined : [];
  }

  get size(): number {
    return this.count;
  }

  /** The values in id order (decoded on demand, and kept until the next value, when no strings are kept). */
  get values(): readonly string[] {
    if (this.strs) return this.strs;
    if (this.decoded?.length !== this.count) this.decoded = Array.from({ length: this.count }, (_, id) => this.name(id));
    return this.decoded;
  }

  /** The value of `id`. */
  name(id: number): string {
    if (this.strs) return this.strs[id]!;
    return utf8.decode(this.arena.subarray(this.offsets[id]!, this.offsets[id + 1]!));
  }

  /** The id of the printable-ASCII bytes `b[s..e)`. */
  internAscii(b: Uint8Array, s: number, e: number): number {
    return this.internHashed(b, s, e, this.hashOf(b, s, e));
  }

  /**
   * The id of the UTF-8 bytes `b[s..e)` whose {@link ByteInterner.hashOf}
   * under this interner's key is `hash` (computed where the bytes were
   * found, e.g. by a parse worker).
   */
  internHashed(b: Uint8Array, s: number, e: number, hash: number): number {
    const table = this.lookups();
    const hashes = this.hashes!;
    const arena = this.arena;
    const offsets = this.offsets;
    const len = e - s;
    let i = hash & this.mask;
    for (;;) {
      const slot = table[i]!;
      if (slot === 0) break;
      const id = slot - 1;
      if (hashes[id] === hash) {
        const at = offsets[id]!;
        if (offsets[id + 1]! - at === len) {
          let k = 0;
          while (k < len && arena[at + k] === b[s + k]) k++;
          if (k === len) return id;
        }
      }
      i = (i + 1) & this.mask;
    }
    return this.insert(i, hash, b, s, e, this.strs ? (isAscii(b, s, e) ? asciiString(b, s, e) : utf8.decode(b.subarray(s, e))) : undefined);
  }

  /** The id of `value`. */
  intern(value: string): number {
    const written = encodeScratch(value);
    const i = this.find(value, written);
    return i < 0 ? -1 - i : this.insert(i, this.found, scratch, 0, written, value);
  }

  /** The id of `value`, or `undefined` when it was never interned. */
  lookup(value: string): number | undefined {
    const i = this.find(value, encodeScratch(value));
    return i < 0 ? -1 - i : undefined;
  }

  /**
   * Lets the lookup table go once every value is interned (ids, values and
   * names stay): a day's session dictionary holds millions of entries that
   * compute never looks up. Interning or looking up afterwards throws.
   * @since 0.7.0
   */
  releaseLookups(): void {
    this.table = undefined;
    this.hashes = undefined;
    // Drop the slack of the doubling arrays too: names are all that is asked for from now on.
    this.arena = this.arena.slice(0, this.used);
    this.offsets = this.offsets.slice(0, this.count + 1);
  }

  /**
   * Adds the UTF-8 bytes `b[s..e)` as the next id without looking them up:
   * for a dictionary whose lookups were released ({@link releaseLookups}),
   * filled by a caller that knows each value is new to it (a shard's sessions
   * read from its buckets: every session of a bucket is named once, and one
   * that two parts hold is told apart by the caller). No hash, no probe, no
   * string. Throws while lookups are kept: an id missing from the lookup
   * table would break `intern` and `lookup`.
   * @since 0.14.0
   */
  append(b: Uint8Array, s: number, e: number): number {
    if (this.table) throw new Error('append needs the lookups released (releaseLookups): the id would be missing from the lookup table');
    const id = this.count;
    const len = e - s;
    if (this.used + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + len, 1 << 12));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    this.arena.set(b.subarray(s, e), this.used);
    if (id + 2 > this.offsets.length) {
      const offsets = new Uint32Array(Math.max(this.offsets.length * 2, 1 << 10));
      offsets.set(this.offsets);
      this.offsets = offsets;
    }
    this.offsets[id] = this.used;
    this.used += len;
    this.offsets[id + 1] = this.used;
    if (this.strs) this.strs.push(utf8.decode(b.subarray(s, e)));
    this.count = id + 1;
    return id;
  }

  /**
   * The values added since `from` (an earlier {@link ByteInterner.size}),
   * as UTF-8 bytes: `bytes`, the end of each value in it, and each value's
   * hash. Views of this interner's arrays: valid until it grows.
   */
  bytesSince(from: number): { bytes: Uint8Array; ends: Uint32Array; hashes: Uint32Array } {
    this.lookups();
    const base = this.offsets[from]!;
    const ends = this.offsets.subarray(from + 1, this.count + 1);
    return {
      bytes: this.arena.subarray(base, this.used),
      ends: base === 0 ? ends : ends.map((o) => o - base),
      hashes: this.hashes!.subarray(from, this.count),
    };
  }

  /** HalfSipHash-1-3 of `b[s..e)` under this interner's key, 32-bit output. */
  hashOf(b: Uint8Array, s: number, e: number): number {
    let v0 = this.k0;
    let v1 = this.k1;
    let v2 = 0x6c796765 ^ v0;
    let v3 = 0x74656462 ^ v1;
    // Whole 4-byte words (one little-endian DataView load each, as in fingerprintBytes: the same words), then
    // the last word: the 0–3 bytes left with the length byte above them.
    const words = wordView.for(b);
    const stop = e - 3;
    for (let i = s; ; i += 4) {
      let w: number;
      if (i < stop) w = words.getInt32(i, true);
      else {
        w = ((e - s) & 0xff) << 24;
        for (let shift = 0; i < e; i++, shift += 8) w |= b[i]! << shift;
      }
      v3 ^= w;
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= w;
      if (i >= e) break;
    }
    v2 ^= 0xff;
    for (let r = 0; r < 3; r++) {
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    }
    return (v1 ^ v3) >>> 0;
  }

  /** The slot of `value` (whose UTF-8 bytes are `scratch[0..written)`) as `-1 - id` when present, else the free slot for it. */
  private find(value: string, written: number): number {
    const table = this.lookups();
    const hashes = this.hashes!;
    const hash = (this.found = this.hashOf(scratch, 0, written));
    const arena = this.arena;
    const offsets = this.offsets;
    let i = hash & this.mask;
    for (;;) {
      const slot = table[i]!;
      if (slot === 0) return i;
      const id = slot - 1;
      if (hashes[id] === hash) {
        if (this.strs) {
          if (this.strs[id] === value) return -1 - id;
        } else {
          const at = offsets[id]!;
          if (offsets[id + 1]! - at === written) {
            let k = 0;
            while (k < written && arena[at + k] === scratch[k]) k++;
            if (k === written) return -1 - id;
          }
        }
      }
      i = (i + 1) & this.mask;
    }
  }

  private lookups(): Int32Array {
    if (!this.table) throw new Error('interner lookups were released (releaseLookups): nothing more can be interned');
    return this.table;
  }

  private insert(slot: number, hash: number, b: Uint8Array, s: number, e: number, value: string | undefined): number {
    const id = this.count;
    const len = e - s;
    if (this.used + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      arena.set(this.arena.subarray(0, this.used));
      this.arena = arena;
    }
    for (let k = 0; k < len; k++) this.arena[this.used + k] = b[s + k]!;
    if (id + 2 > this.offsets.length) {
      const offsets = new Uint32Array(this.offsets.length * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const hashes = new Uint32Array(this.hashes!.length * 2);
      hashes.set(this.hashes!);
      this.hashes = hashes;
    }
    this.offsets[id] = this.used;
    this.used += len;
    this.offsets[id + 1] = this.used;
    this.hashes![id] = hash;
    if (this.strs) this.strs.push(value!);
    this.count = id + 1;
    this.table![slot] = id + 1;
    // At most half full: the probe chains stay short.
    if ((id + 1) * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const table = new Int32Array(size);
    const mask = size - 1;
    const hashes = this.hashes!;
    for (let id = 0; id < this.count; id++) {
      let i = hashes[id]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = id + 1;
    }
    this.table = table;
    this.mask = mask;
  }
}

/** The DataView {@link ByteInterner.hashOf} reads words through. */
const wordView = new LastView();

/**
 * Points {@link ByteInterner.hashOf}'s word view at `b` before a block's
 * values are interned from it (the parse does, once per block), for the
 * reason given at `fingerprintWordsOf`. Changes no hash.
 */
export function hashWordsOf(b: Uint8Array): void {
  wordView.for(b);
}

function randomKey(): [number, number] {
  const key = crypto.getRandomValues(new Uint32Array(2));
  return [key[0]!, key[1]!];
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
let scratch = new Uint8Array(4096);

/** Encodes `value` into `scratch` (grown as needed); returns the byte count. */
function encodeScratch(value: string): number {
  if (value.length * 3 > scratch.length) scratch = new Uint8Array(value.length * 3 + 1024);
  return encoder.encodeInto(value, scratch).written;
}

function isAscii(b: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (b[i]! > 0x7f) return false;
  return true;
}

/** The string of printable-ASCII bytes (one code unit per byte). */
export function asciiString(b: Uint8Array, s: number, e: number): string {
  if (e - s <= 64) {
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
    return out;
  }
  return String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[]);
}
