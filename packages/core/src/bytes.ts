/**
 * Joins byte chunks into one new buffer. Always a fresh copy, never a view
 * of an input: callers transfer the result to workers or keep it after the
 * chunks' buffers are reused. `length` saves a pass when the caller already
 * counted the bytes.
 */
export function concatBytes(parts: readonly Uint8Array[], length?: number): Uint8Array {
  let total = length;
  if (total === undefined) {
    total = 0;
    for (const p of parts) total += p.byteLength;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * A copy of `a` in a fresh array of the same kind and `length` entries
 * (plain memory, never shared: an arena's columns continue here), for
 * arrays that grow; the caller sizes it (doubling, so that growth costs
 * O(1) per entry).
 */
export function grow<T extends Uint8Array | Uint32Array | Float64Array>(a: T, length: number): T {
  const next = new (a.constructor as new (n: number) => T)(length);
  next.set(a);
  return next;
}
