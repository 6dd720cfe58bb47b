import type { RawInput, RawInputChunk, ReadBuffers } from '../ports.js';
import { withoutBom } from './raw-source.js';

/*
 * Dividing a day's raw input among the n ingest tasks of a sharded run
 * (DESIGN §7, docs/how-to/scale-out.md): task i reads only part i.
 *
 * - Whole objects when the day has at least n objects and a size-balanced
 *   assignment keeps every part within 1.25× of an even share: object k
 *   goes to part ⌊n · (its middle byte) / total⌋ over the objects laid end
 *   to end in reading order.
 * - Byte ranges otherwise: the same end-to-end layout cut at ⌊i · total / n⌋,
 *   each cut moved to the next line start; a line crossing a cut belongs to
 *   the range where it starts. Gzip objects and inputs without a size are
 *   never split (they go whole to the part holding their middle byte).
 *
 * Parts are contiguous in reading order, so concatenating the parts' outputs
 * in part order gives the events in the same order as one process reading
 * everything.
 */

/** The part of one raw input that an ingest task reads. @since 0.4.0 */
export interface RawPiece {
  readonly input: RawInput;
  /** Byte range `[start, end)` of the input's raw bytes whose line starts this piece owns; absent: the whole input. */
  readonly range?: { readonly start: number; readonly end: number };
}

/** How a day's raw input was divided. @since 0.4.0 */
export interface RawPartPlan {
  readonly mode: 'objects' | 'ranges';
  /** The pieces of each part, in reading order. */
  readonly parts: RawPiece[][];
}

const sizeOf = (input: RawInput): number => input.size ?? 0;

/**
 * Divides a day's raw inputs (in reading order) into `n` parts, balanced by
 * size. Deterministic: every task computes the same plan from the same listing.
 * @since 0.4.0
 */
export function planRawParts(inputs: readonly RawInput[], n: number): RawPartPlan {
  const total = inputs.reduce((s, x) => s + sizeOf(x), 0);
  const starts: number[] = [];
  let at = 0;
  for (const x of inputs) {
    starts.push(at);
    at += sizeOf(x);
  }
  const partOfMiddle = (k: number): number => (total === 0 ? Math.min(n - 1, Math.floor((k * n) / inputs.length)) : Math.min(n - 1, Math.floor(((starts[k]! + sizeOf(inputs[k]!) / 2) * n) / total)));
  const whole: RawPiece[][] = Array.from({ length: n }, () => []);
  const load = new Array<number>(n).fill(0);
  inputs.forEach((input, k) => {
    const p = partOfMiddle(k);
    whole[p]!.push({ input });
    load[p]! += sizeOf(input);
  });
  const splittable = inputs.some((x) => x.openFrom !== undefined && x.size !== undefined && x.size > 0);
  if (n === 1 || !splittable || total === 0 || (inputs.length >= n && Math.max(...load) <= (1.25 * total) / n)) return { mode: 'objects', parts: whole };
  const cut = (i: number) => Math.floor((i * total) / n);
  const parts: RawPiece[][] = Array.from({ length: n }, () => []);
  inputs.forEach((input, k) => {
    const s = starts[k]!;
    const e = s + sizeOf(input);
    if (input.openFrom === undefined || input.size === undefined) {
      parts[partOfMiddle(k)]!.push({ input });
      return;
    }
    for (let i = 0; i < n; i++) {
      const lo = Math.max(s, cut(i));
      const hi = Math.min(e, cut(i + 1));
      if (lo < hi) parts[i]!.push({ input, range: { start: lo - s, end: hi - s } });
    }
  });
  return { mode: 'ranges', parts };
}

/**
 * Streams a piece: the whole input, or the lines starting inside its byte
 * range — from the first line start at or after `start` (byte `start - 1`
 * is read to tell) through the end of the line holding byte `end - 1`. A
 * byte order mark is dropped at the start of the object only.
 * @since 0.4.0
 */
export async function openRawPiece(piece: RawPiece, into?: ReadBuffers): Promise<AsyncIterable<RawInputChunk>> {
  if (!piece.range) return piece.input.open(into);
  const { start, end } = piece.range;
  const from = start > 0 ? start - 1 : 0;
  const stream = await piece.input.openFrom!(from, into);
  const lines = linesInRange(stream, from, start, end);
  return start === 0 ? withoutBom(lines) : lines;
}

async function* linesInRange(stream: AsyncIterable<Uint8Array>, from: number, start: number, end: number): AsyncGenerator<Uint8Array> {
  // skip: up to and including the first newline (the line started before `start`); body: bytes before `end`;
  // tail: the rest of the line holding byte end-1.
  let mode: 'skip' | 'body' | 'tail' = start > 0 ? 'skip' : 'body';
  let pos = from;
  for await (const chunk of stream) {
    let c = chunk;
    let cpos = pos;
    pos += chunk.length;
    if (mode === 'skip') {
      const nl = c.indexOf(10);
      if (nl === -1) continue;
      c = c.subarray(nl + 1);
      cpos += nl + 1;
      mode = 'body';
      // The first line starting in the range would start at or after its end: this piece owns no line.
      if (cpos >= end) return;
    }
    if (mode === 'body') {
      if (cpos + c.length < end) {
        if (c.length > 0) yield c;
        continue;
      }
      const last = end - 1 - cpos; // index of byte end-1 in c
      if (c[last] === 10) {
        yield c.subarray(0, last + 1);
        return;
      }
      if (last + 1 > 0) yield c.subarray(0, last + 1);
      c = c.subarray(last + 1);
      mode = 'tail';
    }
    const nl = c.indexOf(10);
    if (nl === -1) {
      if (c.length > 0) yield c;
      continue;
    }
    yield c.subarray(0, nl + 1);
    return;
  }
}
