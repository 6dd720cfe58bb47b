/** An append-only Uint32 column that doubles when full. */
export class U32Column {
  data: Uint32Array;
  length = 0;

  constructor(initial = 1024) {
    this.data = new Uint32Array(initial);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  /** Room for `extra` more values without growing (bulk appends write `data` directly, then set `length`). */
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let n = this.data.length;
    while (n < this.length + extra) n *= 2;
    const next = new Uint32Array(n);
    next.set(this.data);
    this.data = next;
  }

  /** A view of the filled part (no copy). */
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }

  /** Removes the rows `from + i` whose bit i is set in `marked` (byte i >> 3, LSB first), keeping the order of the rest. */
  removeMarked(marked: Uint8Array, from = 0): void {
    this.length = compactMarked(this.data, this.length, marked, from);
  }
}

/** Counts per dense integer id, growing with the id space. */
export class U32Counts {
  data = new Uint32Array(1024);

  increment(id: number, by = 1): void {
    if (id >= this.data.length) {
      let n = this.data.length;
      while (n <= id) n *= 2;
      const next = new Uint32Array(n);
      next.set(this.data);
      this.data = next;
    }
    this.data[id]! += by;
  }

  /** Room for the ids below `size` (bulk increments index `data` directly). */
  reserve(size: number): void {
    if (size > this.data.length) this.increment(size - 1, 0);
  }

  get(id: number): number {
    return id < this.data.length ? this.data[id]! : 0;
  }
}

/** An append-only Float64 column that doubles when full. */
export class F64Column {
  data: Float64Array;
  length = 0;

  constructor(initial = 1024) {
    this.data = new Float64Array(initial);
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  /** Room for `extra` more values without growing (see {@link U32Column.reserve}). */
  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let n = this.data.length;
    while (n < this.length + extra) n *= 2;
    const next = new Float64Array(n);
    next.set(this.data);
    this.data = next;
  }

  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }

  /** Removes the rows `from + i` whose bit i is set in `marked`, keeping the order of the rest. */
  removeMarked(marked: Uint8Array, from = 0): void {
    this.length = compactMarked(this.data, this.length, marked, from);
  }
}

/** Moves the unmarked rows of `data[from, length)` forward in place; returns the new length. */
function compactMarked(data: Uint32Array | Float64Array, length: number, marked: Uint8Array, from: number): number {
  let to = from;
  for (let i = from; i < length; i++) {
    const bit = i - from;
    if ((marked[bit >>> 3]! >>> (bit & 7)) & 1) continue;
    data[to++] = data[i]!;
  }
  return to;
}
