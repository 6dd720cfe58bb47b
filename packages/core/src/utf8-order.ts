/**
 * Compares two strings in UTF-8 byte order (= Unicode code point order), as
 * `Buffer.compare` on their UTF-8 encodings would, without encoding them.
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000–U+FFFF after
 * astral characters (surrogates); we remap the two ranges where they differ.
 * @since 0.1.0
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

/**
 * `rank[i]` = position of `values[i]` in {@link compareUtf8} order (a stable
 * sort: equal values keep their index order). Equal to sorting the indices
 * with that comparator, but most of the work is native `BigUint64Array`
 * sorts: each value gets an order-preserving key from its first units after
 * the prefix every value shares (ids like `i51079` or `item_0042` differ
 * there), and only values whose keys tie are ranked again, from after the
 * prefix they share. A comparator sort of the 1M run's 80k item ids took
 * 55 CPU ms (60–130 ms of wall under load) of its compute set-up, on the
 * main thread with the other core idle.
 * @since 0.9.0
 */
export function utf8Ranks(values: readonly string[]): Uint32Array {
  const n = values.length;
  const rank = new Uint32Array(n);
  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  rankGroup(values, all, -1, 0, rank);
  return rank;
}

/** Below this many values a group is sorted with the comparator. */
const SMALL_GROUP = 8;
/** Bits of an entry's position in its group (the low bits of its sort word). */
const POSITION_BITS = 24;
/** Index of the high and low 32-bit halves of a 64-bit word in a `Uint32Array` view. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

/**
 * Ranks the values at `group` (ascending indices) as `first`, `first + 1`, …
 * in order. They share their first `parentSkip` units: keys are taken after
 * the longer prefix they all share, unless it is no longer (then only the
 * comparator can tell them apart: equal values, or ties hidden by the key's
 * zero padding), which also bounds the recursion. Groups of more than
 * 2^24 values (more than a sort word's position bits) use the comparator.
 */
function rankGroup(values: readonly string[], group: Uint32Array, parentSkip: number, first: number, rank: Uint32Array): void {
  const n = group.length;
  const skip = n > 0 ? sharedPrefix(values, group) : 0;
  if (n <= SMALL_GROUP || skip <= parentSkip || n > 2 ** POSITION_BITS) {
    // `group` is ascending and Array#sort is stable: equal values keep their index order.
    const order = Array.from(group).sort((a, b) => compareUtf8(values[a]!, values[b]!));
    for (let j = 0; j < n; j++) rank[order[j]!] = first + j;
    return;
  }
  // One 64-bit word per value: its 5 key bytes, then its position in `group`, so one native sort orders
  // by key and, within a tie, by position (index order). Written and read as 32-bit halves: no BigInts.
  // Each loop is a function of its own: V8 compiles a long loop of a long function (on-stack replacement) as
  // the whole function and threw that code away at the sort after it (no type feedback there yet), so the
  // next loop ran unoptimised until another compile (~10–20 ms of a 1M day's 80k item ids).
  const words = new BigUint64Array(n);
  const halves = new Uint32Array(words.buffer);
  writeSortWords(values, group, skip, halves);
  words.sort();
  rankSortedWords(values, group, skip, halves, first, rank);
}

/** Each value's sort word of {@link rankGroup} (key after `skip`, then position), as its two 32-bit halves. */
function writeSortWords(values: readonly string[], group: Uint32Array, skip: number, halves: Uint32Array): void {
  for (let j = 0; j < group.length; j++) {
    const key = orderKey(values[group[j]!]!, skip);
    const low = key % 256;
    halves[2 * j + HIGH] = (key - low) / 256;
    halves[2 * j + LOW] = low * 2 ** POSITION_BITS + j;
  }
}

/** Ranks from the sorted words of {@link rankGroup}: a word's position, or its tie group ranked again. */
function rankSortedWords(values: readonly string[], group: Uint32Array, skip: number, halves: Uint32Array, first: number, rank: Uint32Array): void {
  const n = group.length;
  const positionMask = 2 ** POSITION_BITS - 1;
  for (let r = 0; r < n; ) {
    const high = halves[2 * r + HIGH]!;
    const lowByte = halves[2 * r + LOW]! >>> POSITION_BITS;
    let end = r + 1;
    while (end < n && halves[2 * end + HIGH] === high && halves[2 * end + LOW]! >>> POSITION_BITS === lowByte) end++;
    if (end === r + 1) rank[group[halves[2 * r + LOW]! & positionMask]!] = first + r;
    else {
      const ties = new Uint32Array(end - r);
      for (let k = r; k < end; k++) ties[k - r] = group[halves[2 * k + LOW]! & positionMask]!;
      rankGroup(values, ties, skip, first + r, rank);
    }
    r = end;
  }
}

/** Length (UTF-16 units) of the prefix the values at `group` (not empty) share. */
function sharedPrefix(values: readonly string[], group: Uint32Array): number {
  const head = values[group[0]!]!;
  let len = head.length;
  for (let j = 1; j < group.length && len > 0; j++) {
    const v = values[group[j]!]!;
    if (v.length < len) len = v.length;
    let k = 0;
    while (k < len && v.charCodeAt(k) === head.charCodeAt(k)) k++;
    len = k;
  }
  return len;
}

const KEY_BYTES = 5; // 40 bits above a sort word's 24 position bits

/**
 * The first {@link KEY_BYTES} bytes, as a number, of an order-preserving
 * byte encoding of `value`'s UTF-16 units from `skip` on: each unit is
 * mapped as in {@link compareUtf8} (so units compare as UTF-8 would), then a
 * unit below 0x80 is one byte, any other three bytes led by a byte ≥ 0x80.
 * The encoding is prefix-free and order-preserving, so
 * `compareUtf8(a, b) < 0` implies `orderKey(a) <= orderKey(b)`; missing
 * bytes are 0, which puts a value before the longer values it starts.
 */
function orderKey(value: string, skip: number): number {
  let key = 0;
  let bytes = 0;
  for (let i = skip; i < value.length && bytes < KEY_BYTES; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) {
      key = key * 256 + c;
      bytes++;
      continue;
    }
    if (c >= 0xd800) c = c >= 0xe000 ? c - 0x800 : c + 0x2000;
    for (let p = 0; p < 3 && bytes < KEY_BYTES; p++) {
      key = key * 256 + (p === 0 ? 0x80 | (c >>> 14) : p === 1 ? (c >>> 7) & 0x7f : c & 0x7f);
      bytes++;
    }
  }
  for (; bytes < KEY_BYTES; bytes++) key *= 256;
  return key;
}
