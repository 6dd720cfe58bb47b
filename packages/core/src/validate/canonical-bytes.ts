/*
 * The fastest path of the streamed artifact check, for a batch of payload
 * elements stored in canonical compact form (`blob_format: compact`, what
 * `run` writes by default): when the bytes are exactly the canonical text
 * of elements that the contract accepts, they are their own slice of the
 * content hash's text, and neither `JSON.parse` nor re-serialising is
 * needed. The scanner is deliberately narrow: the exact key order and
 * spacing of the canonical form, ids of printable ASCII without escapes,
 * `<`, `>` or `&` (which the Go escaping would rewrite) and without edge
 * spaces, counts as canonical non-negative integers of at most 15 digits.
 * It only accepts bytes that `fastCanonical` (and so the contract) would
 * accept and rewrite to themselves; anything else returns false and goes
 * through the parsing path, which decides and words any error. A property
 * test holds the two paths together (artifact-stream.test.ts).
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

const enc = new TextEncoder();
const ROW_ITEM_ID = enc.encode('{"item_id":');
const ITEMS_OPEN = enc.encode(',"items":[');
const COUNT = enc.encode(',"count":');

/** Outcomes of the element scanner besides an end index. */
const NOT_CANONICAL = -1;
/** The bytes end before the element does: it may still be canonical (more bytes would tell). */
export const TRUNCATED = -2;

/** `bytes[at..]` starts with `l`: its length; NOT_CANONICAL on a difference; TRUNCATED when the bytes end first. */
function lit(bytes: Uint8Array, at: number, l: Uint8Array): number {
  const n = bytes.length;
  for (let k = 0; k < l.length; k++) {
    if (at + k >= n) return TRUNCATED;
    if (bytes[at + k] !== l[k]) return NOT_CANONICAL;
  }
  return at + l.length;
}

/** End (after the closing quote) of a plain id string starting at `at`; NOT_CANONICAL or TRUNCATED. */
function id(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  if (at >= n) return TRUNCATED;
  if (bytes[at] !== QUOTE) return NOT_CANONICAL;
  const first = at + 1;
  let k = first;
  for (; k < n; k++) {
    const b = bytes[k]!;
    if (b === QUOTE) break;
    // Printable ASCII only; no escapes; none of the characters Go's escaping rewrites.
    if (b < 0x20 || b > 0x7e || b === 0x5c || b === 0x3c || b === 0x3e || b === 0x26) return NOT_CANONICAL;
  }
  if (k >= n) return TRUNCATED;
  if (k === first) return NOT_CANONICAL;
  // No leading or trailing space (the only ASCII whitespace that can stand unescaped in a string).
  if (bytes[first] === 0x20 || bytes[k - 1] === 0x20) return NOT_CANONICAL;
  return k + 1;
}

/**
 * End of a canonical non-negative integer (no sign, no leading zero, ≤ 15
 * digits) at `at` followed by `}`, just past that brace; NOT_CANONICAL or TRUNCATED.
 */
function countThenBrace(bytes: Uint8Array, at: number): number {
  const n = bytes.length;
  let k = at;
  while (k < n && bytes[k]! >= 0x30 && bytes[k]! <= 0x39) k++;
  const digits = k - at;
  if (digits > 15 || (digits > 1 && bytes[at] === 0x30)) return NOT_CANONICAL;
  if (k >= n) return TRUNCATED;
  if (digits === 0 || bytes[k] !== CLOSE_BRACE) return NOT_CANONICAL;
  return k + 1;
}

/**
 * One payload element at `bytes[at..]` in canonical compact form: the index
 * just past it, {@link TRUNCATED} when the bytes end before it can be told
 * canonical or not, or -1 when it is not. `cooc` elements have an `items`
 * list (its length is counted into `stats.maxRow`), `popularity` ones a
 * `count`. The one definition of a canonical element for
 * {@link isCanonicalBatch} and the lexer's payload scan.
 * @since 0.8.0
 */
export function canonicalElementEnd(cooc: boolean, bytes: Uint8Array, at: number, stats: { maxRow: number }): number {
  at = lit(bytes, at, ROW_ITEM_ID);
  if (at < 0) return at;
  at = id(bytes, at);
  if (at < 0) return at;
  if (!cooc) {
    at = lit(bytes, at, COUNT);
    return at < 0 ? at : countThenBrace(bytes, at);
  }
  at = lit(bytes, at, ITEMS_OPEN);
  if (at < 0) return at;
  const n = bytes.length;
  let items = 0;
  if (at >= n) return TRUNCATED;
  if (bytes[at] !== CLOSE_BRACKET) {
    for (;;) {
      at = lit(bytes, at, ROW_ITEM_ID);
      if (at < 0) return at;
      at = id(bytes, at);
      if (at < 0) return at;
      at = lit(bytes, at, COUNT);
      if (at < 0) return at;
      at = countThenBrace(bytes, at);
      if (at < 0) return at;
      items++;
      if (at >= n) return TRUNCATED;
      if (bytes[at] === COMMA) {
        at++;
        continue;
      }
      break;
    }
  }
  if (bytes[at] !== CLOSE_BRACKET) return NOT_CANONICAL;
  if (at + 1 >= n) return TRUNCATED;
  if (bytes[at + 1] !== CLOSE_BRACE) return NOT_CANONICAL;
  if (items > stats.maxRow) stats.maxRow = items;
  return at + 2;
}

/**
 * Whether `bytes` (whole payload elements, comma-separated, as the lexer
 * cuts them) is the canonical compact text of contract-valid `cooc` or
 * `popularity` elements; counts the longest `items` list into `stats`.
 * @since 0.4.0
 */
export function isCanonicalBatch(type: string, bytes: Uint8Array, stats: { maxRow: number }): boolean {
  if (type !== 'cooc' && type !== 'popularity') return false;
  const cooc = type === 'cooc';
  const n = bytes.length;
  if (n === 0) return false;
  const counted = { maxRow: stats.maxRow };
  let at = 0;
  for (;;) {
    at = canonicalElementEnd(cooc, bytes, at, counted);
    if (at < 0) return false;
    if (at === n) break;
    if (bytes[at] !== COMMA) return false;
    at++;
  }
  stats.maxRow = counted.maxRow;
  return true;
}
