import { Interner } from '../compute/interner.js';
import { NO_USER } from '../compute/event-table.js';
import { FP, fingerprint, type FingerprintKey } from './fingerprint-set.js';
import { MAX_LINE_BYTES, TOO_LONG_PREFIX_BYTES } from './line-splitter.js';
import { canonicalLine, checkRawEvent, type RejectReason } from './raw-event.js';

/**
 * The parallel ingest engine's unit of work: a block of whole raw lines,
 * parsed, validated, normalised, fingerprinted and interned by a pure
 * function that can run on any thread. Results come back as typed arrays
 * (ids, fingerprints, instants) plus the canonical lines as UTF-8 bytes, so
 * the merging thread does no per-event string work.
 */

/** What a chunk is parsed for. @since 0.1.0 */
export interface ChunkContext {
  /** Identifies one ingest stream (one day); dictionaries reset when it changes. */
  readonly stream: string;
  readonly tenant: string;
  readonly surface: string;
  readonly day: string;
  /** Key of the keyed fingerprint part, the same for every chunk of the stream (see FingerprintSet). */
  readonly fpKey: FingerprintKey;
}

/** A rejected line of a chunk (`line` is 1-based within the chunk). @since 0.1.0 */
export interface ChunkReject {
  readonly line: number;
  readonly reason: RejectReason;
  readonly detail: string;
  readonly raw: string;
  readonly truncated?: boolean;
}

/** The parsed form of one chunk. @since 0.1.0 */
export interface ChunkResult {
  /** The dictionary that local ids refer to. */
  readonly dictId: number;
  /** Line slots in the chunk (blank lines included), to number the next chunk's lines. */
  readonly lines: number;
  readonly read: number;
  readonly otherScope: number;
  readonly outOfWindow: number;
  readonly rejects: ChunkReject[];
  /** Events kept for this tenant/surface/day (before duplicate removal). */
  readonly events: number;
  /** Their canonical lines, UTF-8, each ending in `\n`. */
  readonly canonical: Uint8Array;
  /** Byte offset just past each event's line in `canonical`. */
  readonly ends: Uint32Array;
  /** Each event's 128-bit fingerprint: unkeyed part (hi, lo), keyed part (khi, klo). */
  readonly fpHi: Uint32Array;
  readonly fpLo: Uint32Array;
  readonly fpKhi: Uint32Array;
  readonly fpKlo: Uint32Array;
  /** Local ids (into this dictionary's delta-ordered values). */
  readonly session: Uint32Array;
  readonly item: Uint32Array;
  readonly user: Uint32Array;
  readonly secondsMs: Float64Array;
  readonly nanos: Uint32Array;
  /** The chunk's sessions in local-id order (session ids are local to one chunk). */
  readonly newSessions: string[];
  readonly newItems: string[];
  readonly newUsers: string[];
}

/**
 * Per-thread interning state. Each value crosses to the merging thread
 * once: a chunk result carries only the values it added.
 * @since 0.1.0
 */
export class LocalDictionary {
  private stream = '';
  private sessions = new Interner();
  private items = new Interner();
  private users = new Interner();
  private sent = { sessions: 0, items: 0, users: 0 };

  constructor(readonly id: number) {}

  /** Starts over for a new stream (day). */
  use(stream: string): void {
    if (stream === this.stream) return;
    this.stream = stream;
    this.sessions = new Interner();
    this.items = new Interner();
    this.users = new Interner();
    this.sent = { sessions: 0, items: 0, users: 0 };
    this.lastSessionId = -1;
    this.lastUserId = -1;
  }

  private lastSession = '';
  private lastSessionId = -1;
  private lastUser = '';
  private lastUserId = -1;

  session(v: string): number {
    // Raw logs usually carry a session's events together: skip the map lookup for repeats.
    if (v === this.lastSession && this.lastSessionId >= 0) return this.lastSessionId;
    this.lastSession = v;
    return (this.lastSessionId = this.sessions.intern(v));
  }
  item(v: string): number {
    return this.items.intern(v);
  }
  user(v: string): number {
    if (v === this.lastUser && this.lastUserId >= 0) return this.lastUserId;
    this.lastUser = v;
    return (this.lastUserId = this.users.intern(v));
  }

  /**
   * Values interned since the last call. Sessions are per chunk: their local
   * ids restart with every chunk (a session rarely spans chunks, and keeping
   * every session of the day in each worker would duplicate the main
   * thread's biggest dictionary), so all of a chunk's sessions are "new".
   */
  takeNew(): { sessions: string[]; items: string[]; users: string[] } {
    const out = {
      sessions: this.sessions.values,
      items: this.items.values.slice(this.sent.items),
      users: this.users.values.slice(this.sent.users),
    };
    this.sent = { sessions: 0, items: this.items.size, users: this.users.size };
    this.sessions = new Interner();
    this.lastSessionId = -1;
    return out;
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 length of a string (only called for the rare non-ASCII line). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Canonical lines of a chunk, encoded to UTF-8 once at the end (one call instead of one per line). */
class CanonicalLines {
  private lines: string[] = [];
  /** Byte length so far. */
  length = 0;
  push(line: string): void {
    this.lines.push(line);
    this.length += (NON_ASCII.test(line) ? utf8Length(line) : line.length) + 1;
  }
  bytes(): Uint8Array {
    return this.lines.length === 0 ? new Uint8Array(0) : encoder.encode(this.lines.join('\n') + '\n');
  }
}

/** Characters `String.prototype.trim` removes, for the ones that can start a line. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

function growU32(a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> {
  const next = new Uint32Array(a.length * 2);
  next.set(a);
  return next;
}

function growF64(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const next = new Float64Array(a.length * 2);
  next.set(a);
  return next;
}

/** Lines of a chunk as strings, or per-line results when the chunk is not all valid UTF-8. */
type ChunkLine = { text: string; bytes: number } | { invalid: string; bytes: number } | { tooLong: string; bytes: number } | null;

function* chunkLines(bytes: Uint8Array): Generator<ChunkLine> {
  let text: string | undefined;
  try {
    text = strict.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    let start = 0;
    const n = text.length;
    while (start < n) {
      let nl = text.indexOf('\n', start);
      if (nl === -1) nl = n;
      let end = nl;
      if (end > start && text.charCodeAt(end - 1) === 13) end--;
      const line = text.slice(start, end);
      start = nl + 1;
      // Only a line this long can exceed the byte limit; measure it exactly.
      const byteLength = line.length * 3 > MAX_LINE_BYTES ? encoder.encode(line).length : line.length;
      if (byteLength > MAX_LINE_BYTES) yield { tooLong: lossy.decode(encoder.encode(line).subarray(0, TOO_LONG_PREFIX_BYTES)), bytes: byteLength };
      else yield line.length === 0 ? null : { text: line, bytes: byteLength };
    }
    return;
  }
  // Slow path, for chunks with invalid UTF-8 somewhere: decode line by line.
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(10, start);
    if (nl === -1) nl = bytes.length;
    let end = nl;
    if (end > start && bytes[end - 1] === 13) end--;
    const view = bytes.subarray(start, end);
    start = nl + 1;
    if (view.length === 0) yield null;
    else if (view.length > MAX_LINE_BYTES) yield { tooLong: lossy.decode(view.subarray(0, TOO_LONG_PREFIX_BYTES)), bytes: view.length };
    else {
      try {
        yield { text: strict.decode(view), bytes: view.length };
      } catch {
        yield { invalid: lossy.decode(view), bytes: view.length };
      }
    }
  }
}

/**
 * Parses a block of whole raw lines (the last one may lack its newline only
 * at the end of a file). Semantics are exactly those of the line-by-line
 * reference path (`ingestDayReference`): same reasons, same canonical lines,
 * same counts; a test runs both on random inputs.
 * @since 0.1.0
 */
export function parseChunk(bytes: Uint8Array, ctx: ChunkContext, dict: LocalDictionary): ChunkResult {
  dict.use(ctx.stream);
  const rejects: ChunkReject[] = [];
  let lines = 0;
  let read = 0;
  let otherScope = 0;
  let outOfWindow = 0;
  let cap = 1024;
  let n = 0;
  let ends = new Uint32Array(cap);
  let fpHi = new Uint32Array(cap);
  let fpLo = new Uint32Array(cap);
  let fpKhi = new Uint32Array(cap);
  let fpKlo = new Uint32Array(cap);
  let session = new Uint32Array(cap);
  let item = new Uint32Array(cap);
  let user = new Uint32Array(cap);
  let secondsMs = new Float64Array(cap);
  let nanos = new Uint32Array(cap);
  const canonical = new CanonicalLines();

  for (const line of chunkLines(bytes)) {
    lines++;
    if (line === null) continue;
    if ('tooLong' in line) {
      read++;
      rejects.push({ line: lines, reason: 'line_too_long', detail: `line is ${line.bytes} bytes; the limit is 1 MiB`, raw: line.tooLong, truncated: true });
      continue;
    }
    if ('invalid' in line) {
      read++;
      rejects.push({ line: lines, reason: 'invalid_utf8', detail: 'line is not valid UTF-8', raw: line.invalid });
      continue;
    }
    const text = line.text;
    // Whitespace-only lines are blank; test the first character before paying for a trimmed copy.
    if (isSpace(text.charCodeAt(0)) && text.trim() === '') continue;
    read++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      rejects.push({ line: lines, reason: 'invalid_json', detail: (error as Error).message, raw: text });
      continue;
    }
    const result = checkRawEvent(parsed);
    if (!result.ok) {
      rejects.push({ line: lines, reason: result.reason, detail: result.detail, raw: text });
      continue;
    }
    const e = result.event;
    if (e.tenant !== ctx.tenant || e.surface !== ctx.surface) {
      otherScope++;
      continue;
    }
    if (!e.ts.startsWith(ctx.day)) {
      outOfWindow++;
      continue;
    }
    if (n === cap) {
      cap *= 2;
      ends = growU32(ends);
      fpHi = growU32(fpHi);
      fpLo = growU32(fpLo);
      fpKhi = growU32(fpKhi);
      fpKlo = growU32(fpKlo);
      session = growU32(session);
      item = growU32(item);
      user = growU32(user);
      secondsMs = growF64(secondsMs);
      nanos = growU32(nanos);
    }
    const canon = canonicalLine(e);
    fingerprint(canon, ctx.fpKey);
    fpHi[n] = FP[0]!;
    fpLo[n] = FP[1]!;
    fpKhi[n] = FP[2]!;
    fpKlo[n] = FP[3]!;
    canonical.push(canon);
    ends[n] = canonical.length;
    session[n] = dict.session(e.session_id);
    item[n] = dict.item(e.item_id);
    user[n] = e.user_id === undefined ? NO_USER : dict.user(e.user_id);
    secondsMs[n] = result.secondsMs;
    nanos[n] = result.nanos;
    n++;
  }
  const fresh = dict.takeNew();
  return {
    dictId: dict.id,
    lines,
    read,
    otherScope,
    outOfWindow,
    rejects,
    events: n,
    canonical: canonical.bytes(),
    ends: ends.slice(0, n),
    fpHi: fpHi.slice(0, n),
    fpLo: fpLo.slice(0, n),
    fpKhi: fpKhi.slice(0, n),
    fpKlo: fpKlo.slice(0, n),
    session: session.slice(0, n),
    item: item.slice(0, n),
    user: user.slice(0, n),
    secondsMs: secondsMs.slice(0, n),
    nanos: nanos.slice(0, n),
    newSessions: fresh.sessions,
    newItems: fresh.items,
    newUsers: fresh.users,
  };
}

/** The buffers of a result that can be transferred between threads without copying. @since 0.1.0 */
export function transferables(result: ChunkResult): ArrayBuffer[] {
  return [result.canonical, result.ends, result.fpHi, result.fpLo, result.fpKhi, result.fpKlo, result.session, result.item, result.user, result.secondsMs, result.nanos].map((a) => a.buffer as ArrayBuffer);
}
