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

/** `bytes[at..]` starts with `lit`. */
function lit(bytes: Uint8Array, at: number, l: Uint8Array): boolean {
  if (at + l.length > bytes.length) return false;
  for (let k = 0; k < l.length; k++) if (bytes[at + k] !== l[k]) return false;
  return true;
}

/** End (after the closing quote) of a plain id string starting at `at`, or -1. */
function id(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== QUOTE) return -1;
  const first = at + 1;
  let k = first;
  for (; k < bytes.length; k++) {
    const b = bytes[k]!;
    if (b === QUOTE) break;
    // Printable ASCII only; no escapes; none of the characters Go's escaping rewrites.
    if (b < 0x20 || b > 0x7e || b === 0x5c || b === 0x3c || b === 0x3e || b === 0x26) return -1;
  }
  if (k >= bytes.length || k === first) return -1;
  // No leading or trailing space (the only ASCII whitespace that can stand unescaped in a string).
  if (bytes[first] === 0x20 || bytes[k - 1] === 0x20) return -1;
  return k + 1;
}

/** End of a canonical non-negative integer (no sign, no leading zero, ≤ 15 digits) at `at`, or -1. */
function count(bytes: Uint8Array, at: number): number {
  let k = at;
  while (k < bytes.length && bytes[k]! >= 0x30 && bytes[k]! <= 0x39) k++;
  const digits = k - at;
  if (digits === 0 || digits > 15 || (digits > 1 && bytes[at] === 0x30)) return -1;
  return k;
}

/**
 * Whether `bytes` (whole payload elements, comma-separated, as the lexer
 * cuts them) is the canonical compact text of contract-valid `cooc` or
 * `popularity` elements; counts the longest `items` list into `stats`.
 * @since 0.4.0
 */
export function isCanonicalBatch(type: string, bytes: Uint8Array, stats: { maxRow: number }): boolean {
  if (type !== 'cooc' && type !== 'popularity') return false;
  let at = 0;
  let maxRow = stats.maxRow;
  const n = bytes.length;
  if (n === 0) return false;
  for (;;) {
    if (!lit(bytes, at, ROW_ITEM_ID)) return false;
    at = id(bytes, at + ROW_ITEM_ID.length);
    if (at < 0) return false;
    if (type === 'popularity') {
      if (!lit(bytes, at, COUNT)) return false;
      at = count(bytes, at + COUNT.length);
      if (at < 0 || bytes[at] !== CLOSE_BRACE) return false;
      at++;
    } else {
      if (!lit(bytes, at, ITEMS_OPEN)) return false;
      at += ITEMS_OPEN.length;
      let items = 0;
      if (bytes[at] !== CLOSE_BRACKET) {
        for (;;) {
          if (!lit(bytes, at, ROW_ITEM_ID)) return false;
          at = id(bytes, at + ROW_ITEM_ID.length);
          if (at < 0 || !lit(bytes, at, COUNT)) return false;
          at = count(bytes, at + COUNT.length);
          if (at < 0 || bytes[at] !== CLOSE_BRACE) return false;
          at++;
          items++;
          if (bytes[at] === COMMA) {
            at++;
            continue;
          }
          break;
        }
      }
      if (bytes[at] !== CLOSE_BRACKET || bytes[at + 1] !== CLOSE_BRACE) return false;
      at += 2;
      if (items > maxRow) maxRow = items;
    }
    if (at === n) break;
    if (bytes[at] !== COMMA) return false;
    at++;
  }
  stats.maxRow = maxRow;
  return true;
}
