/**
 * Stable counting sort of `order` by `key[order[k]]` (keys < `buckets`):
 * linear in items + buckets, for ordering pair and item ids of aggregates
 * (partials and stored day aggregates) without comparisons.
 */
export function countingSort(order: Uint32Array, key: Uint32Array, buckets: number): Uint32Array {
  const start = new Uint32Array(buckets + 1);
  for (let k = 0; k < key.length; k++) start[key[k]! + 1]!++;
  for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
  const out = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    const o = order[k]!;
    out[start[key[o]!]!++] = o;
  }
  return out;
}
