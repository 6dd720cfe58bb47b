import { shardOfSessionBytes } from '../shard.js';
import { grow } from '../bytes.js';
import { NO_USER } from '../compute/event-table.js';
import { FP, fingerprintBytes, fingerprintPieces, fingerprintWordsOf, type FingerprintKey } from './fingerprint-set.js';
import { ByteInterner, hashWordsOf } from './byte-interner.js';
import { F_ITEM, F_RANK, F_REQUEST, F_SESSION, F_SURFACE, F_TENANT, F_TS, F_USER, RawScan, scanCanonicalLine, scanRawLine } from './raw-scanner.js';
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
  /**
   * Key of the sessions' hashes ({@link ChunkResult.sessionHashes}): the
   * merging thread's session dictionary's, so it interns each session by
   * the hash computed here (default [0, 0]).
   */
  readonly sessionKey?: readonly [number, number];
  /**
   * Whether the merging thread reads the events' users (default true). When
   * false, no user id is interned: {@link ChunkResult.user} is all
   * `NO_USER` and {@link ChunkResult.newUsers} empty; the lines, their
   * checks and everything else are the same. Ingest sets it false unless its
   * event table has the user column: an ingest part's buckets carry no users
   * (pipeline/bucket-format.ts; interning them cost each part 0.1–0.27 CPU s
   * on the 5M scale-out day), nor does a `run` for popularity and cooc.
   * @since 0.13.0
   */
  readonly users?: boolean;
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
  /** Each event's 128-bit fingerprint, four words per event: unkeyed part (hi, lo), keyed part (hi, lo). */
  readonly fp: Uint32Array;
  /** Local ids (into this dictionary's delta-ordered values). */
  readonly session: Uint32Array;
  readonly item: Uint32Array;
  readonly user: Uint32Array;
  readonly secondsMs: Float64Array;
  readonly nanos: Uint32Array;
  /**
   * The chunk's sessions in local-id order (session ids are local to one
   * chunk), as UTF-8 bytes: session k is `sessionBytes[sessionEnds[k-1] ..
   * sessionEnds[k])` (from 0 for k = 0), its hash under
   * {@link ChunkContext.sessionKey} `sessionHashes[k]` (ingest interns
   * them by these bytes and hashes: no string per session).
   */
  readonly sessionBytes: Uint8Array;
  readonly sessionEnds: Uint32Array;
  readonly sessionHashes: Uint32Array;
  readonly newItems: string[];
  readonly newUsers: string[];
}

/**
 * Per-thread interning state. Each value crosses to the merging thread
 * once: a chunk result carries only the values it added. Values are interned
 * by their bytes ({@link ByteInterner}), straight from the raw line.
 * @since 0.1.0
 */
export class LocalDictionary {
  private stream = '';
  private sessionKey: readonly [number, number] = [0, 0];
  private sessions = new ByteInterner({ key: this.sessionKey, strings: false });
  private items = new ByteInterner();
  private users = new ByteInterner();
  private sentItems = 0;
  private sentUsers = 0;
  /** The last session / user seen in raw bytes (start, end in the current chunk) and its id. */
  private lastSessionAt = -1;
  private lastSessionEnd = -1;
  private lastSessionId = -1;
  private lastUserAt = -1;
  private lastUserEnd = -1;
  private lastUserId = -1;

  constructor(readonly id: number) {}

  /** Starts over for a new stream (day); sessions are hashed under `sessionKey`. */
  use(stream: string, sessionKey: readonly [number, number] = [0, 0]): void {
    if (stream === this.stream) return;
    this.stream = stream;
    this.sessionKey = sessionKey;
    this.sessions = new ByteInterner({ key: sessionKey, strings: false });
    this.items = new ByteInterner();
    this.users = new ByteInterner();
    this.sentItems = 0;
    this.sentUsers = 0;
    this.lastSessionId = -1;
    this.lastUserId = -1;
  }

  /** Begins a chunk (the byte-range shortcuts refer to the previous one). */
  begin(): void {
    this.lastSessionId = -1;
    this.lastUserId = -1;
  }

  session(v: string): number {
    return this.sessions.intern(v);
  }
  item(v: string): number {
    return this.items.intern(v);
  }
  user(v: string): number {
    return this.users.intern(v);
  }

  /** The session of the ASCII bytes `b[s..e)` of the current chunk. */
  sessionAt(b: Uint8Array, s: number, e: number): number {
    // Raw logs usually carry a session's events together: compare with the last one before hashing.
    if (this.lastSessionId >= 0 && sameBytes(b, s, e, this.lastSessionAt, this.lastSessionEnd)) return this.lastSessionId;
    this.lastSessionAt = s;
    this.lastSessionEnd = e;
    return (this.lastSessionId = this.sessions.internAscii(b, s, e));
  }
  itemAt(b: Uint8Array, s: number, e: number): number {
    return this.items.internAscii(b, s, e);
  }
  userAt(b: Uint8Array, s: number, e: number): number {
    if (this.lastUserId >= 0 && sameBytes(b, s, e, this.lastUserAt, this.lastUserEnd)) return this.lastUserId;
    this.lastUserAt = s;
    this.lastUserEnd = e;
    return (this.lastUserId = this.users.internAscii(b, s, e));
  }

  /**
   * Values interned since the last call. Sessions are per chunk: their local
   * ids restart with every chunk (a session rarely spans chunks, and keeping
   * every session of the day in each worker would duplicate the main
   * thread's biggest dictionary), so all of a chunk's sessions are "new",
   * and go as bytes, not strings.
   */
  takeNew(): { sessions: { bytes: Uint8Array; ends: Uint32Array; hashes: Uint32Array }; items: string[]; users: string[] } {
    const out = {
      sessions: this.sessions.bytesSince(0),
      items: this.items.values.slice(this.sentItems),
      users: this.users.values.slice(this.sentUsers),
    };
    this.sentItems = this.items.size;
    this.sentUsers = this.users.size;
    // The arrays behind `out.sessions` belong to the result now (they may be transferred).
    this.sessions = new ByteInterner({ key: this.sessionKey, strings: false });
    this.lastSessionId = -1;
    this.lastUserId = -1;
    return out;
  }
}

/** Whether `b[s..e)` equals `b[t..u)`. */
function sameBytes(b: Uint8Array, s: number, e: number, t: number, u: number): boolean {
  if (e - s !== u - t) return false;
  for (let k = 0; k < e - s; k++) if (b[s + k] !== b[t + k]) return false;
  return true;
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encoder = new TextEncoder();

/** Characters `String.prototype.trim` removes, for the ones that can start a line. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * Memory a chunk's result columns are written into instead of fresh arrays
 * ({@link ParseChunkOptions.arena}): a worker thread's parse writes into
 * shared memory the merging thread reads, and the same memory serves the
 * next chunk once the merge is done with it, so no buffer changes hands (a
 * transferred buffer is detached, and an isolate that ever detached one runs
 * typed-array code with detach checks). Make one with {@link chunkArena}.
 * Columns that outgrow it continue in fresh arrays.
 * @since 0.11.0
 */
export type ChunkArena = Pick<ChunkResult, 'ends' | 'fp' | 'session' | 'item' | 'user' | 'secondsMs' | 'nanos'> & {
  /** Canonical bytes (used only for blocks that are not their own canonical form). */
  readonly out: Uint8Array;
};

/** Bytes per row of a {@link ChunkArena}: `secondsMs` (8) and nine 32-bit words (ends, fp ×4, session, item, user, nanos). */
const ARENA_ROW_BYTES = 8 + 9 * 4;

/** The rows a block of `inputBytes` raw bytes starts with (raw events are ~100+ bytes; columns grow past it). */
function rowsFor(inputBytes: number): number {
  return Math.max(64, Math.ceil(inputBytes / 96));
}

/** Bytes of a {@link chunkArena} for blocks of up to `inputBytes` raw bytes. @since 0.11.0 */
export function chunkArenaBytes(inputBytes: number): number {
  return rowsFor(inputBytes) * ARENA_ROW_BYTES + inputBytes + 1024;
}

/**
 * The columns of a {@link ChunkArena} laid out over `buffer` (at least
 * {@link chunkArenaBytes}`(inputBytes)` bytes, e.g. a SharedArrayBuffer):
 * the same layout for the same `inputBytes` on every thread.
 * @since 0.11.0
 */
export function chunkArena(buffer: ArrayBufferLike, inputBytes: number): ChunkArena {
  const rows = rowsFor(inputBytes);
  let at = 0;
  const words = (n: number) => {
    const a = new Uint32Array(buffer, at, n);
    at += n * 4;
    return a;
  };
  const secondsMs = new Float64Array(buffer, 0, rows);
  at = rows * 8;
  const ends = words(rows);
  const fp = words(rows * 4);
  const session = words(rows);
  const item = words(rows);
  const user = words(rows);
  const nanos = words(rows);
  return { ends, fp, session, item, user, secondsMs, nanos, out: new Uint8Array(buffer, at, inputBytes + 1024) };
}

/** Growable columns of a chunk's kept events, and their canonical lines as UTF-8 bytes. */
class ChunkColumns {
  n = 0;
  cap: number;
  ends: Uint32Array;
  fp: Uint32Array;
  session: Uint32Array;
  item: Uint32Array;
  user: Uint32Array;
  secondsMs: Float64Array;
  nanos: Uint32Array;
  /** Canonical bytes; allocated when first needed (a block of canonical lines may never need it). */
  out: Uint8Array = new Uint8Array(0);
  /** Bytes of `out` in use (a pending run included). */
  at = 0;
  /**
   * A pending run of raw bytes that are already canonical lines, each ending
   * in `\n`: `bytes[runSrc, runSrc + runLen)` goes to `out[runDst…]`. Copied
   * in one call when the run breaks, or not at all when the run is the whole
   * block (the block is then its own canonical form).
   */
  runSrc = 0;
  runDst = 0;
  runLen = 0;
  private readonly inputBytes: number;
  /** Where `out` comes from when first needed, if big enough (see ChunkArena). */
  private readonly arenaOut: Uint8Array | undefined;

  constructor(inputBytes: number, arena?: ChunkArena) {
    this.inputBytes = inputBytes;
    if (arena && arena.ends.length >= 64) {
      // The arena's rows, however many: past them the columns grow into fresh arrays as usual.
      this.cap = arena.ends.length;
      this.ends = arena.ends;
      this.fp = arena.fp;
      this.session = arena.session;
      this.item = arena.item;
      this.user = arena.user;
      this.secondsMs = arena.secondsMs;
      this.nanos = arena.nanos;
      this.arenaOut = arena.out;
      return;
    }
    // Raw events are ~100+ bytes; a canonical line is never longer than its plain raw line.
    this.cap = rowsFor(inputBytes);
    this.ends = new Uint32Array(this.cap);
    this.fp = new Uint32Array(this.cap * 4);
    this.session = new Uint32Array(this.cap);
    this.item = new Uint32Array(this.cap);
    this.user = new Uint32Array(this.cap);
    this.secondsMs = new Float64Array(this.cap);
    this.nanos = new Uint32Array(this.cap);
    this.arenaOut = undefined;
  }

  /** Room for `size` bytes of `out` (first allocation: the input's size, which canonical lines seldom exceed). */
  private ensureOut(size: number): void {
    if (size <= this.out.length) return;
    const want = Math.max(this.out.length * 2, this.inputBytes + 1024, size);
    this.out = this.out.length === 0 && this.arenaOut && this.arenaOut.length >= want ? this.arenaOut : grow(this.out, want);
  }

  /** Takes the raw line `b[s..e]` (its `\n` at `e` included) as canonical bytes, extending the pending run when it follows it. */
  takeRaw(b: Uint8Array, s: number, e: number): void {
    const len = e + 1 - s;
    // An empty run that ends where this line starts (a block's first line) is extended as well: the same run as a new
    // one, and the block's first line then takes the branch every later line takes (V8 kept no type feedback for that
    // first line, and code compiled without any for the other branch was thrown away on the next block).
    if (this.runSrc + this.runLen === s && this.runDst + this.runLen === this.at) this.runLen += len;
    else {
      this.flush(b);
      this.runSrc = s;
      this.runDst = this.at;
      this.runLen = len;
    }
    this.at += len;
  }

  /** Copies the pending run into `out`. */
  flush(b: Uint8Array): void {
    if (this.runLen === 0) return;
    // The run ends at or before `at` (later lines are written after it).
    this.ensureOut(this.at);
    this.out.set(b.subarray(this.runSrc, this.runSrc + this.runLen), this.runDst);
    this.runLen = 0;
  }

  /** Room for one more event whose canonical line takes at most `bytes` bytes. */
  reserve(bytes: number): void {
    this.reserveRow();
    this.ensureOut(this.at + bytes);
  }

  /** Room for one more event in the columns. */
  reserveRow(): void {
    if (this.n === this.cap) {
      this.cap *= 2;
      this.ends = grow(this.ends, this.cap);
      this.fp = grow(this.fp, this.cap * 4);
      this.session = grow(this.session, this.cap);
      this.item = grow(this.item, this.cap);
      this.user = grow(this.user, this.cap);
      this.secondsMs = grow(this.secondsMs, this.cap);
      this.nanos = grow(this.nanos, this.cap);
    }
  }
}

/** A constant fragment of the canonical line, as bytes. */
const frag = (text: string) => encoder.encode(text);
const OPEN_TS = frag('{"v":1,"ts":"');
const TENANT = frag('","tenant":"');
const SURFACE = frag('","surface":"');
const SESSION = frag('","session_id":"');
const ITEM = frag('","item_id":"');
const USER = frag(',"user_id":"');
const REQUEST = frag(',"request_id":"');
const RANK = frag(',"rank":');

function put(out: Uint8Array, at: number, b: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) out[at++] = b[i]!;
  return at;
}

function putAll(out: Uint8Array, at: number, f: Uint8Array): number {
  for (let i = 0; i < f.length; i++) out[at++] = f[i]!;
  return at;
}

/** Whether `b[s..e)` equals the bytes `want`. */
function equalBytes(b: Uint8Array, s: number, e: number, want: Uint8Array): boolean {
  if (e - s !== want.length) return false;
  for (let k = 0; k < want.length; k++) if (b[s + k] !== want[k]) return false;
  return true;
}

/**
 * Per-context bytes the scanner compares with, and `shared`: what every
 * canonical line of the scope holds between its timestamp and its session
 * id (see {@link scopedFingerprint}).
 */
interface ScopeBytes {
  readonly tenant: Uint8Array;
  readonly surface: Uint8Array;
  readonly day: Uint8Array;
  readonly shared: Uint8Array;
}
const ctxBytes = new WeakMap<ChunkContext, ScopeBytes>();
let lastCtx: { ctx: ChunkContext; bytes: ScopeBytes } | undefined;

function bytesOf(ctx: ChunkContext): ScopeBytes {
  if (lastCtx?.ctx === ctx) return lastCtx.bytes;
  let bytes = ctxBytes.get(ctx);
  if (!bytes) {
    const shared = encoder.encode(`","tenant":"${ctx.tenant}","surface":"${ctx.surface}","session_id":"`);
    ctxBytes.set(ctx, (bytes = { tenant: encoder.encode(ctx.tenant), surface: encoder.encode(ctx.surface), day: encoder.encode(ctx.day), shared }));
  }
  lastCtx = { ctx, bytes };
  return bytes;
}

/** Bytes of a canonical line before its timestamp's time (`{"v":1,"ts":"` and the day). */
const DAY_END = OPEN_TS.length + 10;

/**
 * The fingerprint (to {@link FP}) of the canonical line `b[s..e)` of the
 * scope `want`: when the line is `{"v":1,"ts":"`, the day, a time that
 * starts with `T` and holds no quote and no zero byte, then `want.shared`,
 * then the rest, that of the message "time, padded with zeros, then the
 * rest" ({@link fingerprintPieces}); otherwise that of the whole line. The
 * parts left out are the same in every such line of one ingest (one scope,
 * one day, one {@link FingerprintSet}), about half of a typical line's
 * bytes, so the workers hash half as many words.
 *
 * Distinct lines still give distinct messages, so a false duplicate still
 * needs all 128 bits to agree: a line of the first form is rebuilt from its
 * message (the time ends at the first zero byte, the rest starts at the next
 * multiple of four), any other line is its own message, and the two kinds
 * differ in their first byte (`T` and `{`). The choice depends on the line's
 * bytes alone, so the scanner's lines (which take {@link fingerprintPieces}
 * straight from the fields they found) and the general path's agree.
 */
function scopedFingerprint(b: Uint8Array, s: number, e: number, want: ScopeBytes, key: FingerprintKey): void {
  const hs = s + DAY_END;
  if (hs < e && b[hs] === 0x54 && startsWith(b, s, e, OPEN_TS) && startsWith(b, s + OPEN_TS.length, e, want.day)) {
    let q = hs;
    while (q < e && b[q] !== 0x22 && b[q] !== 0) q++;
    if (q < e && b[q] === 0x22 && startsWith(b, q, e, want.shared)) {
      fingerprintPieces(b, hs, q, q + want.shared.length, e, key);
      return;
    }
  }
  fingerprintBytes(b, s, e, key);
}

/** Whether `b[s..e)` starts with the bytes `want`. */
function startsWith(b: Uint8Array, s: number, e: number, want: Uint8Array): boolean {
  return e - s >= want.length && equalBytes(b, s, s + want.length, want);
}

/** Parsing options (tests turn the byte scanner off to compare it with the general path). @since 0.5.0 */
export interface ParseChunkOptions {
  /** Use the byte scanner for plain lines (default true). */
  readonly scanner?: boolean;
  /**
   * Write the result's columns (and canonical bytes, when the block is not
   * its own) into this memory: the result's arrays are then views of it,
   * valid until the caller reuses it.
   * @since 0.11.0
   */
  readonly arena?: ChunkArena | undefined;
}

const scan = new RawScan();
/** Slots of {@link parseLines}' counts. */
const LINES = 0;
const READ = 1;
const OTHER_SCOPE = 2;
const OUT_OF_WINDOW = 3;

/**
 * Parses a block of whole raw lines (the last one may lack its newline only
 * at the end of a file). Semantics are exactly those of the line-by-line
 * reference path (`ingestDayReference`): same reasons, same canonical lines,
 * same counts; a test runs both on random inputs.
 *
 * Lines of the plain shape are read by the byte scanner ({@link scanRawLine})
 * and their canonical bytes copied; every other line is decoded and goes
 * through `JSON.parse` and `checkRawEvent`.
 * @since 0.1.0
 */
export function parseChunk(bytes: Uint8Array, ctx: ChunkContext, dict: LocalDictionary, options: ParseChunkOptions = {}): ChunkResult {
  dict.use(ctx.stream, ctx.sessionKey);
  dict.begin();
  const rejects: ChunkReject[] = [];
  const c = new ChunkColumns(bytes.length, options.arena);
  const counts = new Int32Array(4);
  // The scanner's view of this chunk, made here: made inside the scanner on its first line, a chunk's first
  // call after V8 compiled the scanner had no type feedback for it and threw the compiled scanner away.
  scan.viewFor(bytes);
  fingerprintWordsOf(bytes);
  hashWordsOf(bytes);
  scan.expect(ctx.tenant, ctx.surface);
  parseLines(bytes, ctx, dict, options.scanner !== false, c, rejects, counts, bytesOf(ctx), ctx.users !== false, scan.start, scan.end, bytes.length);
  const fresh = dict.takeNew();
  const n = c.n;
  const total = bytes.length;
  // A block of nothing but canonical lines (the usual case for a well-behaved producer) is its own output.
  const whole = c.runLen > 0 && c.runSrc === 0 && c.runDst === 0 && c.runLen === total && c.at === total;
  if (!whole) c.flush(bytes);
  return {
    dictId: dict.id,
    lines: counts[LINES]!,
    read: counts[READ]!,
    otherScope: counts[OTHER_SCOPE]!,
    outOfWindow: counts[OUT_OF_WINDOW]!,
    rejects,
    events: n,
    canonical: whole ? bytes : c.out.subarray(0, c.at),
    ends: c.ends.subarray(0, n),
    fp: c.fp.subarray(0, n * 4),
    session: c.session.subarray(0, n),
    item: c.item.subarray(0, n),
    user: c.user.subarray(0, n),
    secondsMs: c.secondsMs.subarray(0, n),
    nanos: c.nanos.subarray(0, n),
    sessionBytes: fresh.sessions.bytes,
    sessionEnds: fresh.sessions.ends,
    sessionHashes: fresh.sessions.hashes,
    newItems: fresh.items,
    newUsers: fresh.users,
  };
}

/**
 * The line loop of {@link parseChunk}, on its own: V8 compiles it on the
 * first chunk while the loop runs (on-stack replacement), before the code
 * after the loop ever ran; with that code in the same function, reaching it
 * threw the compiled loop away (no type feedback yet) and the loop was
 * compiled again. Counts go to `counts` (lines, read, other scope, out of
 * window), counted in place, so nothing after the loop is new to V8.
 *
 * Nor is anything before it: what the loop needs (`want`, whether users are
 * interned, the scanner's field arrays, `bytes.length`) comes in as
 * arguments. V8 keeps type feedback for a function only from its loop on,
 * so code before the loop ran on the first block without any, and the
 * compiled function, entered at a later block, was thrown away at its first
 * call or property read and compiled again.
 */
function parseLines(bytes: Uint8Array, ctx: ChunkContext, dict: LocalDictionary, useScanner: boolean, c: ChunkColumns, rejects: ChunkReject[], counts: Int32Array, want: ScopeBytes, users: boolean, start: Int32Array, end: Int32Array, total: number): void {
  let pos = 0;
  while (pos < total) {
    const s = pos;
    let e: number;
    let scanned: boolean;
    // Most lines are canonical: read as such, a line shows where it ends (the newline right after its `}`), and the
    // newline need not be searched for first (that search was a third of this loop's own time).
    const ce = useScanner ? scanCanonicalLine(bytes, s, total, scan) : -1;
    if (ce >= 0 && ce - s <= MAX_LINE_BYTES) {
      e = ce;
      pos = ce + 1;
      counts[LINES]!++;
      scanned = true;
    } else {
      let nl = bytes.indexOf(10, pos);
      if (nl === -1) nl = total;
      e = nl;
      pos = nl + 1;
      if (e > s && bytes[e - 1] === 13) e--;
      counts[LINES]!++;
      if (e === s) continue;
      if (e - s > MAX_LINE_BYTES) {
        counts[READ]!++;
        rejects.push({ line: counts[LINES]!, reason: 'line_too_long', detail: `line is ${e - s} bytes; the limit is 1 MiB`, raw: lossy.decode(bytes.subarray(s, s + TOO_LONG_PREFIX_BYTES)), truncated: true });
        continue;
      }
      scanned = useScanner && scanRawLine(bytes, s, e, scan);
    }
    if (scanned) {
      counts[READ]!++;
      // A canonical line whose scope the scanner matched as one literal needs no second compare.
      if (!scan.inScope && (!equalBytes(bytes, start[F_TENANT]!, end[F_TENANT]!, want.tenant) || !equalBytes(bytes, start[F_SURFACE]!, end[F_SURFACE]!, want.surface))) {
        counts[OTHER_SCOPE]!++;
        continue;
      }
      // `ts` starts with the day (`YYYY-MM-DD`, ten bytes).
      if (!equalBytes(bytes, start[F_TS]!, start[F_TS]! + 10, want.day)) {
        counts[OUT_OF_WINDOW]!++;
        continue;
      }
      const n = c.n;
      if (scan.canonical && e < total && bytes[e] === 10) {
        // Already canonical and ends in a bare \n: the raw bytes are the output, copied in runs (or not at all).
        c.reserveRow();
        // scopedFingerprint's first form, from the fields the scanner found: the line starts with `{"v":1,"ts":"` and the
        // day (both checked above), its time starts with `T` and ends at the quote before the tenant, and the tenant and
        // surface are this scope's (checked above), so `want.shared` ends where the session id starts.
        fingerprintPieces(bytes, start[F_TS]! + 10, end[F_TS]!, start[F_SESSION]!, e, ctx.fpKey);
        c.takeRaw(bytes, s, e);
      } else {
      c.reserve(e - s + 1);
      const out = c.out;
      const lineStart = c.at;
      let at = lineStart;
      if (scan.canonical) at = put(out, at, bytes, s, e);
      else {
        at = putAll(out, at, OPEN_TS);
        at = put(out, at, bytes, start[F_TS]!, end[F_TS]!);
        at = putAll(out, at, TENANT);
        at = put(out, at, bytes, start[F_TENANT]!, end[F_TENANT]!);
        at = putAll(out, at, SURFACE);
        at = put(out, at, bytes, start[F_SURFACE]!, end[F_SURFACE]!);
        at = putAll(out, at, SESSION);
        at = put(out, at, bytes, start[F_SESSION]!, end[F_SESSION]!);
        at = putAll(out, at, ITEM);
        at = put(out, at, bytes, start[F_ITEM]!, end[F_ITEM]!);
        out[at++] = 0x22;
        if (start[F_USER]! >= 0) {
          at = putAll(out, at, USER);
          at = put(out, at, bytes, start[F_USER]!, end[F_USER]!);
          out[at++] = 0x22;
        }
        if (start[F_REQUEST]! >= 0) {
          at = putAll(out, at, REQUEST);
          at = put(out, at, bytes, start[F_REQUEST]!, end[F_REQUEST]!);
          out[at++] = 0x22;
        }
        if (start[F_RANK]! >= 0) {
          at = putAll(out, at, RANK);
          at = put(out, at, bytes, start[F_RANK]!, end[F_RANK]!);
        }
        out[at++] = 0x7d;
      }
      scopedFingerprint(out, lineStart, at, want, ctx.fpKey);
      out[at++] = 10;
      c.at = at;
      }
      c.ends[n] = c.at;
      c.fp[n * 4] = FP[0]!;
      c.fp[n * 4 + 1] = FP[1]!;
      c.fp[n * 4 + 2] = FP[2]!;
      c.fp[n * 4 + 3] = FP[3]!;
      c.session[n] = dict.sessionAt(bytes, start[F_SESSION]!, end[F_SESSION]!);
      c.item[n] = dict.itemAt(bytes, start[F_ITEM]!, end[F_ITEM]!);
      c.user[n] = start[F_USER]! < 0 || !users ? NO_USER : dict.userAt(bytes, start[F_USER]!, end[F_USER]!);
      c.secondsMs[n] = scan.secondsMs;
      c.nanos[n] = scan.nanos;
      c.n = n + 1;
      continue;
    }
    let text: string;
    try {
      text = strict.decode(bytes.subarray(s, e));
    } catch {
      counts[READ]!++;
      rejects.push({ line: counts[LINES]!, reason: 'invalid_utf8', detail: 'line is not valid UTF-8', raw: lossy.decode(bytes.subarray(s, e)) });
      continue;
    }
    // Whitespace-only lines are blank; test the first character before paying for a trimmed copy.
    if (isSpace(text.charCodeAt(0)) && text.trim() === '') continue;
    counts[READ]!++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      rejects.push({ line: counts[LINES]!, reason: 'invalid_json', detail: (error as Error).message, raw: text });
      continue;
    }
    const result = checkRawEvent(parsed);
    if (!result.ok) {
      rejects.push({ line: counts[LINES]!, reason: result.reason, detail: result.detail, raw: text });
      continue;
    }
    const ev = result.event;
    if (ev.tenant !== ctx.tenant || ev.surface !== ctx.surface) {
      counts[OTHER_SCOPE]!++;
      continue;
    }
    if (!ev.ts.startsWith(ctx.day)) {
      counts[OUT_OF_WINDOW]!++;
      continue;
    }
    const canon = canonicalLine(ev);
    c.reserve(canon.length * 3 + 1);
    const n = c.n;
    const lineStart = c.at;
    const at = lineStart + encoder.encodeInto(canon, c.out.subarray(lineStart)).written;
    scopedFingerprint(c.out, lineStart, at, want, ctx.fpKey);
    c.out[at] = 10;
    c.at = at + 1;
    c.ends[n] = c.at;
    c.fp[n * 4] = FP[0]!;
    c.fp[n * 4 + 1] = FP[1]!;
    c.fp[n * 4 + 2] = FP[2]!;
    c.fp[n * 4 + 3] = FP[3]!;
    c.session[n] = dict.session(ev.session_id);
    c.item[n] = dict.item(ev.item_id);
    c.user[n] = ev.user_id === undefined || !users ? NO_USER : dict.user(ev.user_id);
    c.secondsMs[n] = result.secondsMs;
    c.nanos[n] = result.nanos;
    c.n = n + 1;
  }
}

/**
 * The shard (of `count`, at most 4096) of each of a chunk's sessions, in local-id order: hashed from
 * their bytes as they came from the parser ({@link shardOfSessionBytes}), no string made for it.
 */
export function chunkSessionShards(result: Pick<ChunkResult, 'sessionBytes' | 'sessionEnds'>, count: number): Uint16Array {
  const { sessionBytes: bytes, sessionEnds: ends } = result;
  const out = new Uint16Array(ends.length);
  let from = 0;
  for (let k = 0; k < ends.length; k++) {
    out[k] = shardOfSessionBytes(bytes, from, ends[k]!, count);
    from = ends[k]!;
  }
  return out;
}

