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
 * with that comparator, but most of the work is native `Float64Array` sorts:
 * each value gets an order-preserving key from its first units after the
 * prefix every value shares (ids like `i51079` or `item_0042` differ there),
 * and only values whose keys tie are ranked again, from after the prefix
 * they share. A comparator sort of the 1M run's 80k item ids took 60–130 ms
 * of its compute set-up, on the main thread with the other core idle.
 * @since 0.9.0
 */
export function utf8Ranks(values: readonly string[]): Uint32Array {
  const rank = new Uint32Array(values.length);
  rankGroup(
    values,
    Array.from({ length: values.length }, (_, i) => i),
    -1,
    0,
    rank,
  );
  return rank;
}

/** Below this many values a group is sorted with the comparator. */
const SMALL_GROUP = 8;

/**
 * Ranks the values at `group` (ascending indices) as `first`, `first + 1`, …
 * in order. They share their first `parentSkip` units: keys are taken after
 * the longer prefix they all share, unless it is no longer (then only the
 * comparator can tell them apart: equal values, or ties hidden by the key's
 * zero padding), which also bounds the recursion.
 */
function rankGroup(values: readonly string[], group: number[], parentSkip: number, first: number, rank: Uint32Array): void {
  const n = group.length;
  const skip = n > 0 ? sharedPrefix(values, group) : 0;
  if (n <= SMALL_GROUP || skip <= parentSkip) {
    // `group` is ascending and Array#sort is stable: equal values keep their index order.
    group.sort((a, b) => compareUtf8(values[a]!, values[b]!));
    for (let j = 0; j < n; j++) rank[group[j]!] = first + j;
    return;
  }
  const keys = new Float64Array(n);
  for (let j = 0; j < n; j++) keys[j] = orderKey(values[group[j]!]!, skip);
  const sorted = keys.slice().sort();
  // Values whose keys tie, by the first position of their key in `sorted`.
  let tied: Map<number, number[]> | undefined;
  for (let j = 0; j < n; j++) {
    const key = keys[j]!;
    const at = lowerBound(sorted, key);
    if (at + 1 < n && sorted[at + 1] === key) {
      tied ??= new Map();
      const ties = tied.get(at);
      if (ties) ties.push(group[j]!);
      else tied.set(at, [group[j]!]);
    } else rank[group[j]!] = first + at;
  }
  if (tied) for (const [at, ties] of tied) rankGroup(values, ties, skip, first + at, rank);
}

/** Length (UTF-16 units) of the prefix the values at `group` (not empty) share. */
function sharedPrefix(values: readonly string[], group: readonly number[]): number {
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

const KEY_BYTES = 6; // 48 bits: exact in a float64

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

/** First index of `key` in ascending `sorted` (which contains it). */
function lowerBound(sorted: Float64Array, key: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
