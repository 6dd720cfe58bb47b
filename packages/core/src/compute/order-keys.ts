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
  const n = ids.length;
  if (n < 2) return;
  let maxCount = 0;
  for (let k = 0; k < n; k++) if (counts[k]! > maxCount) maxCount = counts[k]!;
  const r = ranks.length;
  if (fitsOrderKey(maxCount, r)) {
    const keys = new Float64Array(n);
    for (let k = 0; k < n; k++) keys[k] = (maxCount - counts[k]!) * r + ranks[ids[k]!]!;
    keys.sort();
    for (let k = 0; k < n; k++) {
      const key = keys[k]!;
      const rank = key % r;
      ids[k] = idOfRank[rank]!;
      counts[k] = maxCount - (key - rank) / r;
    }
    return;
  }
  const idx = Array.from({ length: n }, (_, k) => k);
  idx.sort((p, q) => counts[q]! - counts[p]! || ranks[ids[p]!]! - ranks[ids[q]!]!);
  const ids2 = idx.map((k) => ids[k]!);
  const counts2 = idx.map((k) => counts[k]!);
  ids.set(ids2);
  counts.set(counts2);
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
  const n = ids.length;
  // Selecting pays off only when most entries are cut.
  if (n <= 2 * k + 16) return sortByCountThenRank(ids, counts, ranks, idOfRank);
  let maxCount = 0;
  for (let j = 0; j < n; j++) if (counts[j]! > maxCount) maxCount = counts[j]!;
  const r = ranks.length;
  if (!fitsOrderKey(maxCount, r)) return sortByCountThenRank(ids, counts, ranks, idOfRank);
  const keys = new Float64Array(n);
  for (let j = 0; j < n; j++) keys[j] = (maxCount - counts[j]!) * r + ranks[ids[j]!]!;
  if (selectSmallest(keys, k)) keys.subarray(0, k).sort();
  else keys.sort();
  for (let j = 0; j < k; j++) {
    const key = keys[j]!;
    const rank = key % r;
    ids[j] = idOfRank[rank]!;
    counts[j] = maxCount - (key - rank) / r;
  }
}

/**
 * Moves the `k` smallest of `a` (distinct values) to `a[0 .. k)`, in any
 * order (Hoare quickselect, median-of-three pivots). Returns false, leaving
 * `a` a permutation of itself, when the partitions stop shrinking fast
 * enough (inputs that defeat the pivot choice): the caller then sorts all
 * of `a`, so no input makes this quadratic.
 */
export function selectSmallest(a: Float64Array, k: number): boolean {
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

/** Inverse of a rank permutation: `idOfRank[rank[id]] = id`. */
export function invertRanks(ranks: Uint32Array): Uint32Array {
  const inv = new Uint32Array(ranks.length);
  for (let id = 0; id < ranks.length; id++) inv[ranks[id]!] = id;
  return inv;
}
