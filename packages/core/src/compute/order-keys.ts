/**
 * Sorting "count desc, then id in UTF-8 order" as one native numeric sort:
 * each entry becomes the float64 `(maxCount - count) * n + rank` (exact while
 * it stays below 2^53), sorted with `Float64Array.prototype.sort`, which is
 * several times faster than a comparator sort on millions of entries.
 */

/** True when keys for these bounds stay exact in a float64. */
export function fitsOrderKey(maxCount: number, ranks: number): boolean {
  return (maxCount + 1) * ranks < Number.MAX_SAFE_INTEGER;
}

/**
 * Orders `ids` (item ids) by count desc then rank asc, in place.
 * `countOf(k)` is the count of the k-th entry (before sorting).
 */
export function sortByCountThenRank(ids: Uint32Array, counts: Uint32Array, ranks: Uint32Array, idOfRank: Uint32Array): void {
  sortTopByCountThenRank(ids, counts, ranks, idOfRank, ids.length);
}

/**
 * Like {@link sortByCountThenRank}, but only the first `k` entries need to
 * come out in order (a cooc row keeps `max_neighbors_per_item` of its
 * neighbours; a row of a popular item has tens of thousands): the `k`
 * smallest keys are selected first (quickselect, linear), and only they are
 * sorted. The first `min(k, n)` entries are exactly those of the full sort;
 * what the entries after them hold is unspecified (callers cut there).
 */
export function sortTopByCountThenRank(ids: Uint32Array, counts: Uint32Array, ranks: Uint32Array, idOfRank: Uint32Array, k: number): void {
  // One path for short and long lists, each loop in a function of its own: this runs inlined in the cooc rows'
  // count, and V8 compiles that long-running loop (on-stack replacement) with the type feedback of what has run
  // so far. Branches to another sort for short lists, or to the selection for long ones, were each taken by
  // some rows only, and the compiled count lacked feedback for one of them: the first row that took it threw
  // the code away (a second compile of the whole count; on a 1M day ~60 ms of it ran unoptimised meanwhile).
  // So every list is selected first, also where that saves nothing (a short list: a linear pass more).
  const n = ids.length;
  if (n < 2) return;
  const maxCount = maxOf(counts, n);
  const r = ranks.length;
  if (!fitsOrderKey(maxCount, r)) return sortByComparator(ids, counts, ranks);
  const keys = orderKeys(ids, counts, ranks, maxCount, n);
  const top = Math.min(k, n);
  keys.subarray(0, selectSmallest(keys, top) ? top : n).sort();
  fromOrderKeys(keys, ids, counts, idOfRank, maxCount, r, top);
}

/** The largest of `counts[0 .. n)`. */
function maxOf(counts: Uint32Array, n: number): number {
  let max = 0;
  for (let j = 0; j < n; j++) if (counts[j]! > max) max = counts[j]!;
  return max;
}

/** Each entry's key `(maxCount - count) * ranks + rank` (see {@link fitsOrderKey}). */
function orderKeys(ids: Uint32Array, counts: Uint32Array, ranks: Uint32Array, maxCount: number, n: number): Float64Array {
  const keys = new Float64Array(n);
  const r = ranks.length;
  for (let j = 0; j < n; j++) keys[j] = (maxCount - counts[j]!) * r + ranks[ids[j]!]!;
  return keys;
}

/** The first `k` sorted keys back into item ids and counts. */
function fromOrderKeys(keys: Float64Array, ids: Uint32Array, counts: Uint32Array, idOfRank: Uint32Array, maxCount: number, r: number, k: number): void {
  for (let j = 0; j < k; j++) {
    const key = keys[j]!;
    const rank = key % r;
    ids[j] = idOfRank[rank]!;
    counts[j] = maxCount - (key - rank) / r;
  }
}

/** The same order with a comparator, for counts too large for exact keys. */
function sortByComparator(ids: Uint32Array, counts: Uint32Array, ranks: Uint32Array): void {
  const idx = Array.from({ length: ids.length }, (_, k) => k);
  idx.sort((p, q) => counts[q]! - counts[p]! || ranks[ids[p]!]! - ranks[ids[q]!]!);
  const ids2 = idx.map((k) => ids[k]!);
  const counts2 = idx.map((k) => counts[k]!);
  ids.set(ids2);
  counts.set(counts2);
}

/**
 * Moves the `k` smallest of `a` (distinct values; all of them when `k` is at least its length) to `a[0 .. k)`, in any
 * order (Hoare quickselect, median-of-three pivots). Returns false, leaving
 * `a` a permutation of itself, when the partitions stop shrinking fast
 * enough (inputs that defeat the pivot choice): the caller then sorts all
 * of `a`, so no input makes this quadratic.
 */
export function selectSmallest(a: Float64Array, k: number): boolean {
  if (k >= a.length) return true;
  const target = k - 1;
  let lo = 0;
  let hi = a.length - 1;
  let budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 8;
  while (hi > lo) {
    if (budget-- === 0) return false;
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i++] = a[j]!;
        a[j--] = t;
      }
    }
    // a[lo .. j] <= pivot <= a[i .. hi]; anything between equals the pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return true;
}

/** Inverses made, by rank permutation (neither is written after it is made): a day's compute asks for one three times. */
const inverses = new WeakMap<Uint32Array, Uint32Array>();

/** Inverse of a rank permutation: `idOfRank[rank[id]] = id` (the same array for the same `ranks`; not to be written). */
export function invertRanks(ranks: Uint32Array): Uint32Array {
  let inv = inverses.get(ranks);
  if (!inv) {
    inv = new Uint32Array(ranks.length);
    for (let id = 0; id < ranks.length; id++) inv[ranks[id]!] = id;
    inverses.set(ranks, inv);
  }
  return inv;
}
