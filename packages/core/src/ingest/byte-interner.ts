/**
 * Maps ids to dense integers (0, 1, 2, … in first-seen order) by their
 * UTF-8 bytes, so the parse workers intern straight from the raw line
 * without making a string per event: a string is made once, for a value's
 * first occurrence. Strings and byte ranges share one table (a string is
 * looked up by its UTF-8 bytes), so either way the same value gets the same
 * id.
 *
 * Open addressing over a keyed hash (HalfSipHash-1-3, 32-bit output, key
 * drawn per interner): ids come from the raw input, and a fixed hash would
 * let crafted ids pile up on one probe chain.
 */
export class ByteInterner {
  /** The values in id order. */
  values: string[] = [];
  private arena = new Uint8Array(1 << 12);
  private used = 0;
  /** Byte range of each id in `arena`: starts at `offsets[id]`, ends at `offsets[id + 1]`. */
  private offsets = new Uint32Array(1 << 10);
  private hashes = new Uint32Array(1 << 10);
  /** id + 1 per slot, 0 = empty. */
  private table = new Int32Array(1 << 11);
  private mask = (1 << 11) - 1;
  private readonly k0: number;
  private readonly k1: number;

  constructor() {
    const key = crypto.getRandomValues(new Uint32Array(2));
    this.k0 = key[0]!;
    this.k1 = key[1]!;
  }

  get size(): number {
    return this.values.length;
  }

  /** The id of the printable-ASCII bytes `b[s..e)`. */
  internAscii(b: Uint8Array, s: number, e: number): number {
    const hash = this.hash(b, s, e);
    const arena = this.arena;
    const offsets = this.offsets;
    const len = e - s;
    let i = hash & this.mask;
    for (;;) {
      const slot = this.table[i]!;
      if (slot === 0) break;
      const id = slot - 1;
      if (this.hashes[id] === hash) {
        const at = offsets[id]!;
        if (offsets[id + 1]! - at === len) {
          let k = 0;
          while (k < len && arena[at + k] === b[s + k]) k++;
          if (k === len) return id;
        }
      }
      i = (i + 1) & this.mask;
    }
    return this.insert(i, hash, b, s, e, asciiString(b, s, e));
  }

  /** The id of `value`. */
  intern(value: string): number {
    if (value.length * 3 > scratch.length) scratch = new Uint8Array(value.length * 3 + 1024);
    const { written } = encoder.encodeInto(value, scratch);
    const b = scratch;
    const hash = this.hash(b, 0, written);
    let i = hash & this.mask;
    for (;;) {
      const slot = this.table[i]!;
      if (slot === 0) break;
      const id = slot - 1;
      if (this.hashes[id] === hash && this.values[id] === value) return id;
      i = (i + 1) & this.mask;
    }
    return this.insert(i, hash, b, 0, written, value);
  }

  private insert(slot: number, hash: number, b: Uint8Array, s: number, e: number, value: string): number {
    const id = this.values.length;
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
      const hashes = new Uint32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
    }
    this.offsets[id] = this.used;
    this.used += len;
    this.offsets[id + 1] = this.used;
    this.hashes[id] = hash;
    this.values.push(value);
    this.table[slot] = id + 1;
    // At most half full: the probe chains stay short.
    if ((id + 1) * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.values.length; id++) {
      let i = this.hashes[id]! & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = id + 1;
    }
    this.table = table;
    this.mask = mask;
  }

  /** HalfSipHash-1-3 of `b[s..e)` with a 32-bit output. */
  private hash(b: Uint8Array, s: number, e: number): number {
    let v0 = this.k0;
    let v1 = this.k1;
    let v2 = 0x6c796765 ^ v0;
    let v3 = 0x74656462 ^ v1;
    let i = s;
    for (const stop = e - 3; i < stop; i += 4) {
      const w = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
      v3 ^= w;
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= w;
    }
    let w = ((e - s) & 0xff) << 24;
    for (let shift = 0; i < e; i++, shift += 8) w |= b[i]! << shift;
    v3 ^= w;
    v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
    v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
    v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
    v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    v0 ^= w;
    v2 ^= 0xff;
    for (let r = 0; r < 3; r++) {
      v0 = (v0 + v1) | 0; v1 = (v1 << 5) | (v1 >>> 27); v1 ^= v0; v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0; v3 = (v3 << 8) | (v3 >>> 24); v3 ^= v2;
      v0 = (v0 + v3) | 0; v3 = (v3 << 7) | (v3 >>> 25); v3 ^= v0;
      v2 = (v2 + v1) | 0; v1 = (v1 << 13) | (v1 >>> 19); v1 ^= v2; v2 = (v2 << 16) | (v2 >>> 16);
    }
    return (v1 ^ v3) >>> 0;
  }
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(4096);

/** The string of printable-ASCII bytes (one code unit per byte). */
export function asciiString(b: Uint8Array, s: number, e: number): string {
  if (e - s <= 64) {
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
    return out;
  }
  return String.fromCharCode.apply(null, b.subarray(s, e) as unknown as number[]);
}
