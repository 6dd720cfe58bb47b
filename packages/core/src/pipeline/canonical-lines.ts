import type { Scope } from '../keys.js';
import { MAX_LINE_BYTES } from '../ingest/line-splitter.js';
import type { CanonicalEvent } from '../ingest/raw-event.js';
import { concatBytes } from '../bytes.js';

/*
 * Reading canonical lines back fast. Canonical partitions and ingest-part
 * buckets are written by our own ingest (`canonicalLine`: fixed key order,
 * no whitespace), so a line is checked and taken apart by position instead
 * of `JSON.parse` + `checkRawEvent` + re-serialising. The fast path is
 * conservative: it accepts a line only when it can prove the full path
 * would accept it and give the same event (same fields, and the line is
 * that event's canonical form); anything else (an escape in a string, a
 * leap second, another tenant, …) goes to the full path, which decides and
 * words the error. A property test (canonical-lines.test.ts) holds the two
 * paths together.
 */

/** Escapes and control characters: their lines take the full path. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NEEDS_FULL_PATH = /[\u0000-\u001f\\]/;

/** The fields of a canonical line (tenant and surface are the scope's). @since 0.4.0 */
export interface CanonicalFields {
  ts: string;
  session: string;
  item: string;
  user: string | undefined;
  request: string | undefined;
  rank: number | undefined;
}

/** Whether `c` is a character `String.prototype.trim` would remove (controls never reach here). */
function isTrimmed(c: number): boolean {
  if (c > 0x20 && c < 0x7f) return false;
  return c === 0x20 || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** A canonical id: not empty, nothing `trim` removes at either end. */
function idOk(s: string): boolean {
  return s.length > 0 && !isTrimmed(s.charCodeAt(0)) && !isTrimmed(s.charCodeAt(s.length - 1));
}

function two(s: string, at: number): number {
  const a = s.charCodeAt(at) - 48;
  const b = s.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * Takes canonical lines of one tenant/surface/day apart by position.
 * @since 0.4.0
 */
export class CanonicalLineParser {
  private readonly mid: string;
  private readonly dayT: string;
  /** The last accepted line's fields (reused: copy what you keep). */
  readonly fields: CanonicalFields = { ts: '', session: '', item: '', user: undefined, request: undefined, rank: undefined };

  constructor(scope: Scope, day: string) {
    this.mid = `","tenant":${JSON.stringify(scope.tenant)},"surface":${JSON.stringify(scope.surface)},"session_id":"`;
    this.dayT = `${day}T`;
  }

  /**
   * Fills {@link fields} and returns true when `text` is certainly the
   * canonical line of an event of this scope and day; false means "take the
   * full path" (not necessarily that the line is bad).
   */
  parse(text: string): boolean {
    if (!text.startsWith('{"v":1,"ts":"') || NEEDS_FULL_PATH.test(text)) return false;
    const tsEnd = text.indexOf('"', 13);
    if (tsEnd < 0) return false;
    const ts = text.slice(13, tsEnd);
    if (!this.tsOk(ts) || !text.startsWith(this.mid, tsEnd)) return false;
    const s0 = tsEnd + this.mid.length;
    const s1 = text.indexOf('"', s0);
    if (s1 < 0) return false;
    const session = text.slice(s0, s1);
    if (!idOk(session) || !text.startsWith('","item_id":"', s1)) return false;
    const i0 = s1 + 13;
    const i1 = text.indexOf('"', i0);
    if (i1 < 0) return false;
    const item = text.slice(i0, i1);
    if (!idOk(item)) return false;
    let p = i1 + 1;
    let user: string | undefined;
    let request: string | undefined;
    let rank: number | undefined;
    if (text.startsWith(',"user_id":"', p)) {
      const e = text.indexOf('"', p + 12);
      if (e < 0) return false;
      user = text.slice(p + 12, e);
      if (!idOk(user)) return false;
      p = e + 1;
    }
    if (text.startsWith(',"request_id":"', p)) {
      const e = text.indexOf('"', p + 15);
      if (e < 0) return false;
      request = text.slice(p + 15, e);
      if (!idOk(request)) return false;
      p = e + 1;
    }
    if (text.startsWith(',"rank":', p)) {
      let e = p + 8;
      let v = 0;
      for (; e < text.length; e++) {
        const c = text.charCodeAt(e) - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
      }
      const digits = e - p - 8;
      // Canonical ranks have no leading zero and are safe integers (exact below 2^53, so checkable here).
      if (digits < 1 || digits > 16 || (digits > 1 && text.charCodeAt(p + 8) === 48) || !Number.isSafeInteger(v)) return false;
      rank = v;
      p = e;
    }
    if (p !== text.length - 1 || text.charCodeAt(p) !== 125) return false;
    const f = this.fields;
    f.ts = ts;
    f.session = session;
    f.item = item;
    f.user = user;
    f.request = request;
    f.rank = rank;
    return true;
  }

  /** A canonical UTC timestamp of this day: `<day>Thh:mm:ss[.f{1,9}]Z` within range. */
  private tsOk(ts: string): boolean {
    const n = ts.length;
    if (n < 20 || n > 30 || n === 21 || !ts.startsWith(this.dayT) || ts.charCodeAt(n - 1) !== 90) return false;
    if (ts.charCodeAt(13) !== 58 || ts.charCodeAt(16) !== 58) return false;
    const h = two(ts, 11);
    const m = two(ts, 14);
    const s = two(ts, 17);
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) return false;
    if (n === 20) return true;
    if (ts.charCodeAt(19) !== 46) return false;
    for (let k = 20; k < n - 1; k++) {
      const c = ts.charCodeAt(k);
      if (c < 48 || c > 57) return false;
    }
    return true;
  }

  /** The accepted line's event (a fresh object). */
  event(scope: Scope): CanonicalEvent {
    const f = this.fields;
    const e: { -readonly [K in keyof CanonicalEvent]: CanonicalEvent[K] } = { ts: f.ts, tenant: scope.tenant, surface: scope.surface, session_id: f.session, item_id: f.item };
    if (f.user !== undefined) e.user_id = f.user;
    if (f.request !== undefined) e.request_id = f.request;
    if (f.rank !== undefined) e.rank = f.rank;
    return e;
  }
}

/**
 * A copy of `s` that does not keep the string it was sliced from alive: ids
 * sliced out of a decoded block would otherwise pin the whole block in
 * memory for as long as an interner holds them.
 */
export function detached(s: string): string {
  return (s + ' ').slice(0, -1);
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A line that could not be decoded. @since 0.4.0 */
export interface BadLine {
  readonly lineNo: number;
  readonly problem: 'too_long' | 'invalid_utf8';
}

/**
 * Cuts a byte stream into blocks of whole lines, each decoded once (one
 * `TextDecoder` call per block instead of one per line). Lines are split
 * on `\n`; the caller sees every line's text (a trailing `\r` kept).
 * @since 0.4.0
 */
export class LineBlocks {
  private carry: Uint8Array = new Uint8Array(0);
  /** Lines handed out so far (blank ones included): line numbers continue from here. */
  lineNo = 0;

  /**
   * The whole lines completed by `chunk` (bytes and text), or a bad line.
   * `undefined` when the chunk completes no line.
   */
  push(chunk: Uint8Array): { bytes: Uint8Array; text: string } | BadLine | undefined {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      this.carry = concatBytes([this.carry, chunk]);
      if (this.carry.length > MAX_LINE_BYTES + 1) return { lineNo: this.lineNo + 1, problem: 'too_long' };
      return undefined;
    }
    // A fresh copy: callers keep blocks after the producer may have reused its chunk buffer.
    const bytes = concatBytes([this.carry, chunk.subarray(0, last + 1)]);
    this.carry = chunk.slice(last + 1);
    return this.decode(bytes);
  }

  /** What is left after the last newline (a final line without one), or nothing. */
  end(): { bytes: Uint8Array; text: string } | BadLine | undefined {
    if (this.carry.length === 0) return undefined;
    const bytes = this.carry;
    this.carry = new Uint8Array(0);
    return this.decode(bytes);
  }

  private decode(bytes: Uint8Array): { bytes: Uint8Array; text: string } | BadLine {
    try {
      return { bytes, text: strict.decode(bytes) };
    } catch {
      // Find the line for the message.
      let from = 0;
      let line = this.lineNo;
      for (;;) {
        line++;
        const nl = bytes.indexOf(10, from);
        const end = nl < 0 ? bytes.length : nl;
        try {
          strict.decode(bytes.subarray(from, end));
        } catch {
          return { lineNo: line, problem: 'invalid_utf8' };
        }
        if (nl < 0) return { lineNo: line, problem: 'invalid_utf8' };
        from = nl + 1;
      }
    }
  }
}

/**
 * Calls `onLine` for each line of a decoded block (split on `\n`; the block
 * ends with one unless it is the stream's last), numbering from `firstLineNo`.
 * Returns the number of line slots.
 */
export function forEachLine(text: string, firstLineNo: number, onLine: (line: string, lineNo: number) => void): number {
  let start = 0;
  let lineNo = firstLineNo;
  const n = text.length;
  while (start < n) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = n;
    onLine(text.slice(start, nl), lineNo++);
    start = nl + 1;
  }
  return lineNo - firstLineNo;
}
