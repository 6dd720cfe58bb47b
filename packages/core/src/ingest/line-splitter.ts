import { concatBytes } from '../bytes.js';

/** Maximum bytes in one raw line (excluding the newline). @since 0.1.0 */
export const MAX_LINE_BYTES = 1024 * 1024;

/** How much of an over-long line is kept in quarantine. */
export const TOO_LONG_PREFIX_BYTES = 1024;

/** One line of a raw source. @since 0.1.0 */
export type RawLine =
  | { readonly kind: 'line'; readonly lineNo: number; readonly text: string; readonly bytes: number }
  | { readonly kind: 'too_long'; readonly lineNo: number; readonly prefix: string; readonly bytes: number }
  | { readonly kind: 'invalid_utf8'; readonly lineNo: number; readonly text: string; readonly bytes: number };

const NEWLINE = 10;
const CR = 13;
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Splits a byte stream into lines without ever holding more than one line
 * (capped at {@link MAX_LINE_BYTES}) plus one chunk. Each line is decoded as
 * strict UTF-8; a line that is not valid UTF-8 or is too long is reported as
 * such (with a lossy/truncated text for quarantine) instead of failing the
 * stream. Blank lines are skipped; a trailing `\r` is dropped.
 * @since 0.1.0
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<RawLine> {
  let carry: Uint8Array = new Uint8Array(0);
  let lineNo = 0;
  // While inside an over-long line: its prefix, byte count and last byte so far.
  let skipping: { prefix: Uint8Array; bytes: number; last: number } | undefined;

  // Counts bytes of the over-long line and keeps its first TOO_LONG_PREFIX_BYTES,
  // so the report does not depend on where chunk boundaries fall.
  const extend = (s: { prefix: Uint8Array; bytes: number; last: number }, bytes: Uint8Array): void => {
    s.bytes += bytes.length;
    if (bytes.length > 0) s.last = bytes[bytes.length - 1]!;
    if (s.prefix.length < TOO_LONG_PREFIX_BYTES) s.prefix = concatBytes([s.prefix, bytes.subarray(0, TOO_LONG_PREFIX_BYTES - s.prefix.length)]);
  };
  // Like `emit`, a trailing \r is not part of the line.
  const finish = (s: { prefix: Uint8Array; bytes: number; last: number }): RawLine => {
    lineNo++;
    const bytes = s.last === CR ? s.bytes - 1 : s.bytes;
    return { kind: 'too_long', lineNo, prefix: lossy.decode(s.prefix.subarray(0, Math.min(s.prefix.length, bytes))), bytes };
  };

  const emit = (bytes: Uint8Array): RawLine | undefined => {
    lineNo++;
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    if (end === 0) return undefined;
    const view = end === bytes.length ? bytes : bytes.subarray(0, end);
    if (end > maxLineBytes) {
      return { kind: 'too_long', lineNo, prefix: lossy.decode(view.subarray(0, TOO_LONG_PREFIX_BYTES)), bytes: end };
    }
    try {
      const text = strict.decode(view);
      if (text.trim() === '') return undefined;
      return { kind: 'line', lineNo, text, bytes: end };
    } catch {
      return { kind: 'invalid_utf8', lineNo, text: lossy.decode(view), bytes: end };
    }
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (skipping) {
        extend(skipping, piece);
        const out = finish(skipping);
        skipping = undefined;
        yield out;
        continue;
      }
      const line = carry.length > 0 ? concatBytes([carry, piece]) : piece;
      carry = new Uint8Array(0);
      const out = emit(line);
      if (out) yield out;
    }
    const rest = chunk.subarray(start);
    if (skipping) {
      extend(skipping, rest);
    } else if (carry.length + rest.length > maxLineBytes + 1) {
      skipping = { prefix: new Uint8Array(0), bytes: 0, last: 0 };
      extend(skipping, carry);
      extend(skipping, rest);
      carry = new Uint8Array(0);
    } else if (rest.length > 0) {
      // Copy: the producer may reuse its chunk buffer.
      carry = concatBytes([carry, rest]);
    }
  }
  if (skipping) {
    yield finish(skipping);
  } else if (carry.length > 0) {
    const out = emit(carry);
    if (out) yield out;
  }
}
