/**
 * A byte-level scanner for the common shape of a raw exposure line: one flat
 * JSON object of the known keys, each at most once, plain printable-ASCII
 * strings without escapes or surrounding spaces, `"v":1`, a non-negative
 * integer `rank` written plainly, and a UTC timestamp `YYYY-MM-DDTHH:MM:SS[.f]Z`.
 * Such a line needs no `JSON.parse`, no object walk, no string per field and
 * no re-encoding: its canonical line is copied byte for byte.
 *
 * The scanner only ever says "this line is valid and here are its fields" or
 * "not sure". Everything it does not recognise (escapes, non-ASCII, unknown
 * or repeated keys, other number spellings, offsets, empty or padded ids,
 * bad syntax) goes to the `JSON.parse` + `checkRawEvent` path unchanged, so
 * reject reasons and details stay those of that path; a property test holds
 * the two paths to the same results on generated and mutated lines.
 */

import { parseRfc3339 } from '@recsys/contracts/codec';
import { asciiString } from './byte-interner.js';
import { LastView } from './last-view.js';

/** Field slots of {@link RawScan}. */
export const F_V = 0;
export const F_TS = 1;
export const F_TENANT = 2;
export const F_SURFACE = 3;
export const F_SESSION = 4;
export const F_ITEM = 5;
export const F_USER = 6;
export const F_REQUEST = 7;
export const F_RANK = 8;

/** v, ts, tenant, surface, session_id, item_id. */
const REQUIRED = 0b111111;

/**
 * Where the fields of the last accepted line are (byte offsets into the
 * scanned buffer, end exclusive; `start[f] === -1` when the field is absent
 * or an empty optional string, which the canonical form omits).
 */
export class RawScan {
  readonly start = new Int32Array(9);
  readonly end = new Int32Array(9);
  /** Keys were already in canonical order, with no whitespace and no omitted empty field: the line is its own canonical form. */
  canonical = false;
  /** Epoch ms of the timestamp's whole second, and nanoseconds within it. */
  secondsMs = 0;
  nanos = 0;
  /**
   * What a canonical line of the expected scope holds between its timestamp
   * and its session id (see {@link RawScan.expect}); undefined: no scope.
   */
  private scopeLit: Lit | undefined = undefined;
  /** The tenant and surface {@link scopeLit} was made for. */
  private scopeText = '';
  private tenantBytes = 0;
  private surfaceBytes = 0;
  /** The last line read as canonical matched the expected scope's tenant and surface in one compare. */
  inScope = false;
  /** A view of the last scanned buffer, to compare literals four bytes at a time. */
  private readonly views = new LastView();

  /** The view of `b` (made once per buffer: a block's lines share it). */
  viewFor(b: Uint8Array): DataView {
    return this.views.for(b);
  }

  /**
   * The scope most lines are expected to be of: a canonical line then has
   * `","tenant":"<tenant>","surface":"<surface>","session_id":"` after its
   * timestamp, compared in one literal, four bytes at a time, instead of two
   * values read byte by byte and compared again by the caller
   * ({@link RawScan.inScope}). Only for a tenant and surface the canonical
   * scanner would read as plain values (else the line takes the usual way
   * and answers the same). The same fields and answers either way.
   */
  expect(tenant: string, surface: string): void {
    if (!isPlainValue(tenant) || !isPlainValue(surface)) {
      this.scopeLit = undefined;
      return;
    }
    if (this.scopeLit !== undefined && this.scopeText === tenant + '\u0000' + surface) return;
    this.scopeText = tenant + '\u0000' + surface;
    this.scopeLit = lit(`","tenant":"${tenant}","surface":"${surface}","session_id":"`);
    this.tenantBytes = tenant.length;
    this.surfaceBytes = surface.length;
  }

  /** @internal {@link canonicalEnd}'s fast step: the scope literal at `te` (the timestamp's closing quote), or -1. */
  scopeAt(b: Uint8Array, view: DataView, te: number, e: number): number {
    const want = this.scopeLit;
    if (want === undefined || !lits(b, view, te, e, want)) return -1;
    const start = this.start;
    const end = this.end;
    start[F_TENANT] = te + C_TENANT.length;
    end[F_TENANT] = start[F_TENANT]! + this.tenantBytes;
    start[F_SURFACE] = end[F_TENANT]! + C_SURFACE.length;
    end[F_SURFACE] = start[F_SURFACE]! + this.surfaceBytes;
    return te + want.length;
  }
}

const Q = 0x22; // "
const BS = 0x5c; // \

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/**
 * Which known key the bytes `b[s..e)` spell, or -1. Keys are told apart by
 * length and first byte, then compared in full.
 */
function keyOf(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  const c = b[s];
  switch (n) {
    case 1:
      return c === 0x76 ? F_V : -1; // v
    case 2:
      return c === 0x74 && b[s + 1] === 0x73 ? F_TS : -1; // ts
    case 4:
      return c === 0x72 && b[s + 1] === 0x61 && b[s + 2] === 0x6e && b[s + 3] === 0x6b ? F_RANK : -1; // rank
    case 6:
      return c === 0x74 && same(b, s, 'tenant') ? F_TENANT : -1;
    case 7:
      if (c === 0x73) return same(b, s, 'surface') ? F_SURFACE : -1;
      if (c === 0x69) return same(b, s, 'item_id') ? F_ITEM : -1;
      if (c === 0x75) return same(b, s, 'user_id') ? F_USER : -1;
      return -1;
    case 10:
      if (c === 0x73) return same(b, s, 'session_id') ? F_SESSION : -1;
      if (c === 0x72) return same(b, s, 'request_id') ? F_REQUEST : -1;
      return -1;
    default:
      return -1;
  }
}

function same(b: Uint8Array, s: number, key: string): boolean {
  for (let i = 1; i < key.length; i++) if (b[s + i] !== key.charCodeAt(i)) return false;
  return true;
}

/**
 * Scans the line `b[s..e)` (no newline). Returns true when the line is a
 * valid raw event of the plain shape, with its fields in `out`; false means
 * "take the general path", never "invalid".
 */
export function scanRawLine(b: Uint8Array, s: number, e: number, out: RawScan): boolean {
  // Most producers write the canonical form itself: match it literal by literal first. A line of that form whose
  // timestamp is not of the plain form is left to the general scanner, which finds the same fields and says "not sure".
  if (canonicalEnd(b, s, e, out) === e) return true;
  out.inScope = false;
  const start = out.start;
  const end = out.end;
  let i = s;
  while (i < e && isWs(b[i]!)) i++;
  let plain = i === s;
  if (i >= e || b[i] !== 0x7b) return false; // {
  i++;
  let seen = 0;
  let last = -1;
  for (;;) {
    while (i < e && isWs(b[i]!)) {
      i++;
      plain = false;
    }
    if (i >= e || b[i] !== Q) return false;
    const ks = ++i;
    while (i < e && b[i] !== Q) {
      if (b[i] === BS) return false;
      i++;
    }
    if (i >= e) return false;
    const f = keyOf(b, ks, i);
    if (f < 0 || (seen & (1 << f)) !== 0) return false;
    seen |= 1 << f;
    if (f < last) plain = false;
    last = f;
    i++;
    while (i < e && isWs(b[i]!)) {
      i++;
      plain = false;
    }
    if (i >= e || b[i] !== 0x3a) return false; // :
    i++;
    while (i < e && isWs(b[i]!)) {
      i++;
      plain = false;
    }
    if (i >= e) return false;
    if (f === F_V) {
      if (b[i] !== 0x31) return false; // exactly `1`
      start[F_V] = i;
      end[F_V] = ++i;
    } else if (f === F_RANK) {
      const ds = i;
      const c = b[i]!;
      if (c === 0x30) i++;
      else if (c >= 0x31 && c <= 0x39) {
        i++;
        while (i < e && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
        // Up to 15 digits is always a safe integer; longer ones take the general path.
        if (i - ds > 15) return false;
      } else return false;
      start[F_RANK] = ds;
      end[F_RANK] = i;
    } else {
      if (b[i] !== Q) return false;
      const vs = ++i;
      // Printable ASCII only: no escapes, no control bytes (invalid JSON), no UTF-8 (validated and trimmed by the general path).
      for (;;) {
        if (i >= e) return false;
        const c = b[i]!;
        if (c === Q) break;
        if (c < 0x20 || c > 0x7e || c === BS) return false;
        i++;
      }
      const ve = i++;
      if (ve === vs) {
        // Empty: an error for the required ids and ts, an omitted field for user_id / request_id.
        if (f !== F_USER && f !== F_REQUEST) return false;
        start[f] = -1;
        plain = false;
      } else {
        // Surrounding spaces are trimmed by the general path.
        if (b[vs] === 0x20 || b[ve - 1] === 0x20) return false;
        start[f] = vs;
        end[f] = ve;
      }
    }
    while (i < e && isWs(b[i]!)) {
      i++;
      plain = false;
    }
    if (i >= e) return false;
    const c = b[i++];
    if (c === 0x2c) continue; // ,
    if (c !== 0x7d) return false; // }
    break;
  }
  if (i !== e) {
    while (i < e && isWs(b[i]!)) i++;
    if (i !== e) return false;
    plain = false;
  }
  if ((seen & REQUIRED) !== REQUIRED) return false;
  if ((seen & (1 << F_USER)) === 0) start[F_USER] = -1;
  if ((seen & (1 << F_REQUEST)) === 0) start[F_REQUEST] = -1;
  if ((seen & (1 << F_RANK)) === 0) start[F_RANK] = -1;
  out.canonical = plain;
  return scanTimestamp(b, start[F_TS]!, end[F_TS]!, out);
}

/** A literal of the canonical form: its bytes, and the same as little-endian 32-bit words (what a DataView reads) plus the 0–3 bytes left. */
interface Lit {
  readonly length: number;
  readonly words: Int32Array;
  readonly bytes: Uint8Array;
}
const lit = (text: string): Lit => {
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const words = new Int32Array(bytes.length >> 2);
  for (let w = 0; w < words.length; w++) words[w] = bytes[4 * w]! | (bytes[4 * w + 1]! << 8) | (bytes[4 * w + 2]! << 16) | (bytes[4 * w + 3]! << 24);
  return { length: bytes.length, words, bytes };
};
const C_OPEN = lit('{"v":1,"ts":"');
const C_TENANT = lit('","tenant":"');
const C_SURFACE = lit('","surface":"');
const C_SESSION = lit('","session_id":"');
const C_ITEM = lit('","item_id":"');
const C_USER = lit(',"user_id":"');
const C_REQUEST = lit(',"request_id":"');
const C_RANK = lit(',"rank":');
/** The required string fields in canonical order, and the literal after each but the last. */
const C_FIELDS = [F_TS, F_TENANT, F_SURFACE, F_SESSION, F_ITEM] as const;
const C_NEXT = [C_TENANT, C_SURFACE, C_SESSION, C_ITEM] as const;

/**
 * Whether `b[i..)` starts with `want` (within `e`). Most of a canonical
 * line is these literals (~90 of ~136 bytes): compared a word at a time
 * through the buffer's DataView, a quarter of the byte-by-byte loads.
 */
function lits(b: Uint8Array, view: DataView, i: number, e: number, want: Lit): boolean {
  if (i + want.length > e) return false;
  const words = want.words;
  let at = i;
  for (let w = 0; w < words.length; w++, at += 4) if (view.getInt32(at, true) !== words[w]) return false;
  const bytes = want.bytes;
  for (let k = words.length << 2; k < bytes.length; k++, at++) if (b[at] !== bytes[k]) return false;
  return true;
}

/** Classes of a string value's bytes ({@link BYTE_CLASS}). */
const PLAIN = 0;
const QUOTE = 1;
const OTHER = 2;
/** Per byte: printable ASCII but quote and backslash ({@link PLAIN}), the quote, or anything else: one load per byte. */
const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, c) => (c === Q ? QUOTE : c < 0x20 || c > 0x7e || c === BS ? OTHER : PLAIN));

/** Whether `text` is what {@link plainValue} reads as a value: printable ASCII without quote or backslash, not empty, no space at either end. */
function isPlainValue(text: string): boolean {
  if (text.length === 0 || text.charCodeAt(0) === 0x20 || text.charCodeAt(text.length - 1) === 0x20) return false;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c > 0xff || BYTE_CLASS[c] !== PLAIN) return false;
  }
  return true;
}

/**
 * The end of a plain string value starting at `i` (the index of its closing
 * quote): printable ASCII without quote or backslash, not empty, no space at
 * either end. -1 when the value is anything else.
 */
function plainValue(b: Uint8Array, i: number, e: number): number {
  const vs = i;
  for (;;) {
    if (i >= e) return -1;
    const k = BYTE_CLASS[b[i]!]!;
    if (k !== PLAIN) {
      if (k === QUOTE) break;
      return -1;
    }
    i++;
  }
  if (i === vs || b[vs] === 0x20 || b[i - 1] === 0x20) return -1;
  return i;
}

/**
 * The canonical line starting at `s` that ends in a bare newline before
 * `limit`, with a timestamp of the plain form: the index of that newline,
 * or -1. Fields go to `out` (`out.canonical` set). Lets the line loop find
 * where most lines end while it reads them, instead of searching for the
 * newline first: a canonical line holds no byte below 0x20, so its `}` is
 * followed by the first newline after `s`, and -1 means only "take the
 * usual way" (find the newline, then {@link scanRawLine}).
 */
export function scanCanonicalLine(b: Uint8Array, s: number, limit: number, out: RawScan): number {
  const end = canonicalEnd(b, s, limit, out);
  return end < 0 || end >= limit || b[end] !== 10 ? -1 : end;
}

/**
 * Reads a line in exactly its canonical form (keys in canonical order, no
 * whitespace, optional fields present only when not empty, a timestamp of
 * the plain form) from `s`, within `limit`: the index just past its closing
 * `}`, with the fields and the instant in `out` (`out.canonical` set), or -1
 * for anything else, which the general scanner then reads. Nothing it
 * accepts holds a byte below 0x20, and no byte past the `}` changes its
 * answer.
 */
function canonicalEnd(b: Uint8Array, s: number, limit: number, out: RawScan): number {
  const e = limit;
  const start = out.start;
  const end = out.end;
  const view = out.viewFor(b);
  if (!lits(b, view, s, e, C_OPEN)) return -1;
  let i = s + C_OPEN.length;
  // The timestamp is read where it stands (a plain one is printable ASCII by its form): one pass, not a plain-value
  // pass and then a timestamp pass.
  const te = timestampAt(b, i, e, out);
  if (te < 0) return -1;
  start[F_TS] = i;
  end[F_TS] = te;
  // The expected scope's tenant and surface in one compare (RawScan.expect); else read as any other values.
  let f = 1;
  i = out.scopeAt(b, view, te, e);
  out.inScope = i >= 0;
  if (i >= 0) f = 3;
  else {
    i = te + C_TENANT.length;
    if (!lits(b, view, te, e, C_TENANT)) return -1;
  }
  for (; f < 5; f++) {
    const ve = plainValue(b, i, e);
    if (ve < 0) return -1;
    start[C_FIELDS[f]!] = i;
    end[C_FIELDS[f]!] = ve;
    i = ve;
    if (f < 4) {
      const lit = C_NEXT[f]!;
      if (!lits(b, view, i, e, lit)) return -1;
      i += lit.length;
    }
  }
  // At the item's closing quote.
  i++;
  start[F_USER] = -1;
  start[F_REQUEST] = -1;
  start[F_RANK] = -1;
  if (lits(b, view, i, e, C_USER)) {
    i += C_USER.length;
    const ve = plainValue(b, i, e);
    if (ve < 0) return -1;
    start[F_USER] = i;
    end[F_USER] = ve;
    i = ve + 1;
  }
  if (lits(b, view, i, e, C_REQUEST)) {
    i += C_REQUEST.length;
    const ve = plainValue(b, i, e);
    if (ve < 0) return -1;
    start[F_REQUEST] = i;
    end[F_REQUEST] = ve;
    i = ve + 1;
  }
  if (lits(b, view, i, e, C_RANK)) {
    i += C_RANK.length;
    const ds = i;
    const c = b[i]!;
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      i++;
      while (i < e && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
      if (i - ds > 15) return -1;
    } else return -1;
    start[F_RANK] = ds;
    end[F_RANK] = i;
  }
  if (i >= e || b[i] !== 0x7d) return -1;
  start[F_V] = s + 5;
  end[F_V] = s + 6;
  out.canonical = true;
  return i + 1;
}

/**
 * The plain UTC timestamp (see {@link scanTimestamp}) starting at `s` and
 * closed by a quote within `e`: the index of that quote, with the instant in
 * `out`, or -1.
 */
function timestampAt(b: Uint8Array, s: number, e: number, out: RawScan): number {
  // `YYYY-MM-DDTHH:MM:SS`, then `Z` or `.` with 1–9 digits and `Z`; scanTimestamp checks every byte of it.
  let q = s + 20;
  if (b[s + 19] === 0x2e) {
    let i = s + 20;
    while (i < e && i < s + 29 && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
    q = i + 1;
  }
  if (q >= e || b[q] !== Q) return -1;
  return scanTimestamp(b, s, q, out) ? q : -1;
}

const NANO_SCALE = [0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

function digit(b: Uint8Array, i: number): number {
  const d = b[i]! - 0x30;
  return d >= 0 && d <= 9 ? d : -100_000;
}

// The date part of the previous timestamp (as one number) and its epoch ms: events of a day share it.
let lastDate = -1;
let lastDateMs = 0;

/**
 * The already-canonical UTC timestamp `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` (upper
 * case T and Z, a real calendar date, hours ≤ 23, minutes and seconds ≤ 59),
 * the form `canonicalTimestampParts` returns unchanged. Anything else (offsets,
 * lower case, leap seconds, bad dates) takes the general path.
 */
function scanTimestamp(b: Uint8Array, s: number, e: number, out: RawScan): boolean {
  const n = e - s;
  if (n < 20 || n > 30 || b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || b[s + 10] !== 0x54 || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a || b[e - 1] !== 0x5a) return false;
  const year = digit(b, s) * 1000 + digit(b, s + 1) * 100 + digit(b, s + 2) * 10 + digit(b, s + 3);
  const month = digit(b, s + 5) * 10 + digit(b, s + 6);
  const day = digit(b, s + 8) * 10 + digit(b, s + 9);
  const hour = digit(b, s + 11) * 10 + digit(b, s + 12);
  const minute = digit(b, s + 14) * 10 + digit(b, s + 15);
  const second = digit(b, s + 17) * 10 + digit(b, s + 18);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let nanos = 0;
  if (n > 20) {
    // `.` then 1–9 digits, then the Z checked above.
    if (b[s + 19] !== 0x2e || n < 22) return false;
    for (let i = s + 20; i < e - 1; i++) {
      const d = digit(b, i);
      if (d < 0) return false;
      nanos = nanos * 10 + d;
    }
    nanos *= NANO_SCALE[n - 21]!;
  }
  const date = (year * 100 + month) * 100 + day;
  if (date !== lastDate) {
    // A new date (rare: a day's events share one): the contracts' parser says whether it exists and where it starts.
    const midnight = parseRfc3339(`${asciiString(b, s, s + 10)}T00:00:00Z`);
    if (midnight === undefined) return false;
    lastDate = date;
    lastDateMs = midnight.epochSecondsMs;
  }
  out.secondsMs = lastDateMs + ((hour * 60 + minute) * 60 + second) * 1000;
  out.nanos = nanos;
  return true;
}
