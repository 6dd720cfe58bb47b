import { concatBytes } from '../bytes.js';
import { fnv1a32Bytes } from '../shard.js';

/*
 * The session-hash buckets of ingest parts (pipeline/ingest-parts.ts), format
 * `recsys-bucket/3`. Format 1 was the bucket's canonical JSON Lines alone:
 * every compute task parsed them back and interned every id again, about 40 %
 * of its CPU (docs/how-to/scale-out.md, "What dividing the work costs").
 * Format 2 carries the ids already interned, so compute maps each distinct
 * id once per bucket instead of parsing each event, and still carries the
 * canonical lines, which compute copies into the shard's canonical partition
 * (the partition stays byte for byte what it was). Format 3 adds the session
 * footer: the 32-bit FNV-1a of every session id of the bucket, at a place
 * the part report's sizes give, so that compute reads the footers of all
 * parts first (a ranged read each) and fingerprints for duplicates across
 * parts only the events of sessions that more than one part holds.
 *
 *   line 1     header (BucketHeader) as JSON + "\n": format, scope, day,
 *              ingest part i/n and the bucket j it is;
 *   blocks     each: six little-endian u32: events (≥ 1), new sessions, new
 *              items, dictionary bytes, column bytes, line bytes; then
 *     dictionary  varint UTF-8 byte lengths of the new session ids, then of
 *                 the new item ids, then their bytes, in that order (ids are
 *                 numbered 0, 1, … in first-seen order per bucket, so a
 *                 block names only the ids first used in it);
 *     columns     per event: session (0 = the previous event's, else id + 1;
 *                 the first event of a block never 0), item id: varints;
 *     lines       the events' canonical lines, each ending in "\n", in the
 *                 order of the columns — none (line bytes 0) in the bucket
 *                 of a one-part day, whose part writes them straight into
 *                 the shard's canonical partition (ingest-parts.ts);
 *   footer     u32 0 (no more blocks), then per session of the bucket, in
 *              id order, the u32 FNV-1a 32 of its UTF-8 bytes (shard.ts: the
 *              hash the shard is taken from);
 *   trailer    u32 events, sessions and items of the whole bucket. Nothing
 *              follows it, so footer and trailer are the last
 *              16 + 4 × sessions bytes ({@link bucketTailBytes}).
 *
 * Users and instants are not carried: no shardable artifact reads them; a
 * table that needs them parses the lines instead (ingest-parts.ts).
 * The part report names every bucket's SHA-256, event and session count; the header
 * and trailer make a bucket that is truncated, misplaced or of another
 * format fail by name even before its hash is checked.
 */

/** Format tag of ingest-part buckets. @since 0.6.0 */
export const BUCKET_FORMAT = 'recsys-bucket/3';

/** Line 1 of a bucket. @since 0.6.0 */
export interface BucketHeader {
  readonly format: typeof BUCKET_FORMAT;
  readonly tenant: string;
  readonly surface: string;
  readonly day: string;
  readonly part: { readonly index: number; readonly count: number };
  readonly bucket: number;
}

/** A bucket that cannot be read: what is wrong with it (the caller names the bucket). @since 0.6.0 */
export class BucketFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BucketFormatError';
  }
}

const BLOCK_HEAD = 24;
/** The trailer's three u32 (after the footer's 4 + 4 × sessions bytes). */
const TRAILER = 12;
const MAX_HEADER = 64 * 1024;
const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The header line of a bucket (the same bytes for the same fields). */
export function bucketHeaderBytes(h: Omit<BucketHeader, 'format'>): Uint8Array {
  const header: BucketHeader = { format: BUCKET_FORMAT, tenant: h.tenant, surface: h.surface, day: h.day, part: { index: h.part.index, count: h.part.count }, bucket: h.bucket };
  return encoder.encode(JSON.stringify(header) + '\n');
}

/** A growable byte buffer (a block's columns, its new sessions' lengths and bytes). */
class Bytes {
  buf = new Uint8Array(1 << 12);
  at = 0;
  varint(v: number): void {
    if (this.at + 5 > this.buf.length) this.grow(5);
    this.at = putVarint(this.buf, this.at, v);
  }
  /** Appends `b[s..e)`. */
  append(b: Uint8Array, s: number, e: number): void {
    const len = e - s;
    if (this.at + len > this.buf.length) this.grow(len);
    const buf = this.buf;
    let at = this.at;
    for (let k = s; k < e; k++) buf[at++] = b[k]!;
    this.at = at;
  }
  private grow(more: number): void {
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.at + more));
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }
}

/** Bytes of `v` as a varint. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** Writes `v` as a varint at `at`; returns the position after it. */
function putVarint(buf: Uint8Array, at: number, v: number): number {
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/**
 * Encodes one bucket block by block (the writer side of the format): ids are
 * numbered per bucket, each block names the ids first used in it. Sessions
 * arrive as UTF-8 bytes, each once ({@link newSession}: the caller keeps the
 * bucket's session dictionary, ingest one keyed by the parse workers'
 * hashes), so no session becomes a string on the way.
 * @since 0.6.0
 */
export class BucketEncoder {
  /** Sessions of the whole bucket. */
  private sessionCount = 0;
  /** Each session's FNV-1a 32, in id order (the footer). */
  private sessionHashes = new Uint32Array(1024);
  /** The open block's new sessions: how many, their byte lengths as varints, their bytes one after another. */
  private newSessionCount = 0;
  private readonly sessionLengths = new Bytes();
  private readonly sessionBytes = new Bytes();
  /** Part-wide item id → this bucket's item id + 1 (0: not yet used here). */
  private itemIds = new Int32Array(1024);
  private itemCount = 0;
  private newItems: string[] = [];
  private readonly cols = new Bytes();
  private prevSession = -1;
  /** Events of the open block. */
  rows = 0;
  /** Events of the whole bucket. */
  total = 0;

  /**
   * Names a session new to this bucket, whose UTF-8 bytes are `b[s..e)`, in
   * the open block; returns its id (0, 1, … in the order they are named).
   * The caller names each session once.
   * @since 0.7.0
   */
  newSession(b: Uint8Array, s: number, e: number): number {
    if (this.sessionCount === this.sessionHashes.length) {
      const bigger = new Uint32Array(this.sessionHashes.length * 2);
      bigger.set(this.sessionHashes);
      this.sessionHashes = bigger;
    }
    this.sessionHashes[this.sessionCount] = fnv1a32Bytes(b, s, e);
    this.sessionLengths.varint(e - s);
    this.sessionBytes.append(b, s, e);
    this.newSessionCount++;
    return this.sessionCount++;
  }

  /** Appends one event's ids: its session (from {@link newSession}) and its part-wide item id and name. */
  row(session: number, partItem: number, itemNames: readonly string[]): void {
    if (partItem >= this.itemIds.length) {
      const bigger = new Int32Array(Math.max(this.itemIds.length * 2, partItem + 1));
      bigger.set(this.itemIds);
      this.itemIds = bigger;
    }
    let item = this.itemIds[partItem]! - 1;
    if (item < 0) {
      item = this.itemCount++;
      this.itemIds[partItem] = item + 1;
      this.newItems.push(itemNames[partItem]!);
    }
    const cols = this.cols;
    cols.varint(session === this.prevSession ? 0 : session + 1);
    cols.varint(item);
    this.prevSession = session;
    this.rows++;
  }

  /**
   * The open block with its events' canonical lines (in order: `lines`, then
   * `more`), as the pieces to write one after the other; none when it has no
   * events. The first piece is the block's head, dictionary and columns; the
   * lines follow as they are, not copied: the caller keeps them unchanged
   * until they are written (an ingest part's lines are 750 MB at 5 M events;
   * copying a bucket's buffered lines into its block once more, with the
   * zeroed megabyte that took, was about 0.15 CPU s per task at n = 4).
   */
  block(lines: Uint8Array, more?: Uint8Array): Uint8Array[] {
    const lineBytes = lines.length + (more?.length ?? 0);
    if (this.rows === 0) {
      if (lineBytes > 0) throw new Error('bucket block: lines without events');
      return [];
    }
    const items = this.newItems;
    const colBytes = this.cols.at;
    const sLengths = this.sessionLengths.buf.subarray(0, this.sessionLengths.at);
    const sBytes = this.sessionBytes.buf.subarray(0, this.sessionBytes.at);
    // The items' bytes: one encode of all of them when they are ASCII (the usual case, where a name's
    // byte length is its string length), else name by name (a lone surrogate is then replaced within
    // its own name, as the decoder's lengths require).
    const text = items.join('');
    let lengthBytes = 0;
    for (const s of items) lengthBytes += varintSize(s.length);
    let out = this.layout(sLengths.length + lengthBytes + sBytes.length + text.length, colBytes, lineBytes);
    let at = BLOCK_HEAD;
    out.set(sLengths, at);
    at += sLengths.length;
    for (const s of items) at = putVarint(out, at, s.length);
    out.set(sBytes, at);
    at += sBytes.length;
    const { read, written } = encoder.encodeInto(text, out.subarray(at, at + text.length));
    if (read === text.length && written === text.length) {
      at += written;
    } else {
      const names = items.map((s) => encoder.encode(s));
      lengthBytes = 0;
      let textBytes = 0;
      for (const b of names) {
        lengthBytes += varintSize(b.length);
        textBytes += b.length;
      }
      out = this.layout(sLengths.length + lengthBytes + sBytes.length + textBytes, colBytes, lineBytes);
      at = BLOCK_HEAD;
      out.set(sLengths, at);
      at += sLengths.length;
      for (const b of names) at = putVarint(out, at, b.length);
      out.set(sBytes, at);
      at += sBytes.length;
      for (const b of names) {
        out.set(b, at);
        at += b.length;
      }
    }
    out.set(this.cols.buf.subarray(0, colBytes), at);
    this.cols.at = 0;
    this.sessionLengths.at = 0;
    this.sessionBytes.at = 0;
    this.newSessionCount = 0;
    this.total += this.rows;
    this.rows = 0;
    this.newItems = [];
    this.prevSession = -1;
    const pieces = [out];
    if (lines.length > 0) pieces.push(lines);
    if (more && more.length > 0) pieces.push(more);
    return pieces;
  }

  /** The first piece of a block of these sizes (head, dictionary, columns; its lines follow it), its head filled in. */
  private layout(dictBytes: number, colBytes: number, lineBytes: number): Uint8Array {
    const out = new Uint8Array(BLOCK_HEAD + dictBytes + colBytes);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.rows, true);
    view.setUint32(4, this.newSessionCount, true);
    view.setUint32(8, this.newItems.length, true);
    view.setUint32(12, dictBytes, true);
    view.setUint32(16, colBytes, true);
    view.setUint32(20, lineBytes, true);
    return out;
  }

  /** Sessions named so far. @since 0.9.0 */
  get sessions(): number {
    return this.sessionCount;
  }

  /** The session footer and the trailer (after the last block). */
  trailer(): Uint8Array {
    const sessions = this.sessionCount;
    const out = new Uint8Array(bucketTailBytes(sessions));
    const view = new DataView(out.buffer);
    for (let k = 0; k < sessions; k++) view.setUint32(4 + 4 * k, this.sessionHashes[k]!, true);
    const at = 4 + 4 * sessions;
    view.setUint32(at, this.total, true);
    view.setUint32(at + 4, sessions, true);
    view.setUint32(at + 8, this.itemCount, true);
    return out;
  }
}

/**
 * Bytes of a bucket's session footer and trailer, its last bytes: a bucket of
 * `size` bytes and `sessions` sessions has them from `size - bucketTailBytes(sessions)`.
 * @since 0.9.0
 */
export function bucketTailBytes(sessions: number): number {
  return 4 + 4 * sessions + TRAILER;
}

/**
 * The session hashes of a bucket's footer from its last
 * {@link bucketTailBytes} bytes (`tail`, read on their own: a ranged read),
 * checked against the event and session counts the part report names; a
 * {@link BucketFormatError} when they do not hold a footer and trailer of
 * those counts. The hashes are the footer's claim only: the bucket read as
 * a whole checks them against its sessions' ids ({@link BucketDecoder}).
 * @since 0.9.0
 */
export function readBucketFooter(tail: Uint8Array, expected: { readonly events: number; readonly sessions: number }): Uint32Array {
  const sessions = expected.sessions;
  if (tail.length !== bucketTailBytes(sessions)) throw new BucketFormatError(`its footer and trailer are ${tail.length} bytes, not ${bucketTailBytes(sessions)}`);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.length);
  const at = 4 + 4 * sessions;
  if (view.getUint32(0, true) !== 0 || view.getUint32(at, true) !== expected.events || view.getUint32(at + 4, true) !== sessions) {
    throw new BucketFormatError(`its trailer does not say ${expected.events} events and ${sessions} sessions`);
  }
  const out = new Uint32Array(sessions);
  for (let k = 0; k < sessions; k++) out[k] = view.getUint32(4 + 4 * k, true);
  return out;
}

/** One decoded block. @since 0.6.0 */
export interface BucketBlock {
  readonly events: number;
  /** Session ids first used in this block (their ids follow those of earlier blocks). */
  readonly newSessions: readonly string[];
  /** The FNV-1a 32 of each of {@link newSessions} (shard.ts), hashed from their bytes. @since 0.9.0 */
  readonly newSessionHashes: Uint32Array;
  /**
   * The UTF-8 bytes of {@link newSessions}, one after the other (a view of the
   * block's dictionary: copy what must outlive the next {@link BucketDecoder.push}).
   * @since 0.14.0
   */
  readonly newSessionBytes: Uint8Array;
  /** Where each of {@link newSessions} ends in {@link newSessionBytes} (session k starts where k − 1 ends, the first at 0). @since 0.14.0 */
  readonly newSessionEnds: Uint32Array;
  /** Item ids first used in this block. */
  readonly newItems: readonly string[];
  /** Each event's bucket session id. */
  readonly session: Uint32Array;
  /** Each event's bucket item id. */
  readonly item: Uint32Array;
  /**
   * The events' canonical lines, each ending in "\n", in one piece or more
   * (their concatenation): views of the chunks pushed, not copies — a block
   * that spans chunks is not joined. A line may span two pieces. @since 0.9.0 (pieces)
   */
  readonly lines: readonly Uint8Array[];
}

/** The weight of a varint's fifth byte (2^28): only its low 4 bits fit in 32. */
const WEIGHT_28 = 268_435_456;

/**
 * Reads a bucket from a stream of chunks: {@link push} returns the blocks a
 * chunk completes, {@link end} checks that the bucket ended where its trailer
 * says. Throws {@link BucketFormatError} on anything that is not a complete
 * bucket of the expected header: another format (an older `recsys-bucket`,
 * or format 1's JSON Lines), another part or bucket, a truncation anywhere,
 * ids out of range, trailing bytes.
 *
 * The decoder keeps views of the chunks pushed (a block's lines, the bytes
 * of a unit not complete yet): the caller must not change a chunk after
 * pushing it (a stream's chunks are never reused, see `ObjectStorage.read`).
 * @since 0.6.0
 */
export class BucketDecoder {
  /** Chunks (views) not consumed yet; `offset` bytes of the first are. */
  private pending: Uint8Array[] = [];
  private offset = 0;
  /** Unconsumed bytes in `pending`. */
  private avail = 0;
  /** Bytes needed before the next unit can be read (at least). */
  private need = 1;
  private header: BucketHeader | undefined;
  private ended = false;
  private sessions = 0;
  private items = 0;
  private events = 0;
  /** Each session's FNV-1a 32, in id order, as hashed from the dictionaries. */
  private hashes = new Uint32Array(1024);

  /**
   * `options.lines` false: the bucket's blocks carry no lines (the only part of a one-part day writes its lines
   * straight into the shard's canonical partition: ingest-parts.ts), and a block with lines is refused; otherwise
   * every block must hold at least a byte of lines per event (each line ends in "\n").
   */
  constructor(
    private readonly expected: Omit<BucketHeader, 'format'>,
    private readonly options: { readonly lines?: boolean } = {},
  ) {}

  /** The blocks completed by `chunk`. */
  push(chunk: Uint8Array): BucketBlock[] {
    if (chunk.length === 0) return [];
    // Chunks are gathered until the next unit (header, block, trailer) is complete; a block's lines stay views
    // of them (only its dictionary and columns are joined when they span chunks).
    if (this.ended) throw new BucketFormatError(`${chunk.length} bytes after the end of the bucket`);
    this.pending.push(chunk);
    this.avail += chunk.length;
    const out: BucketBlock[] = [];
    if (this.avail < this.need) return out;
    this.need = 1;
    if (!this.header) {
      // The header line is the first bytes: offset 0 in the first chunk.
      let nl = -1;
      for (let i = 0, before = 0; nl < 0 && i < this.pending.length; before += this.pending[i++]!.length) {
        const at = this.pending[i]!.indexOf(10);
        if (at >= 0) nl = before + at;
      }
      if (nl < 0) {
        if (this.avail > MAX_HEADER) this.headerError(concatBytes(this.pending, this.avail));
        return out;
      }
      this.header = this.readHeader(this.takeContiguous(nl + 1).subarray(0, nl));
    }
    while (!this.ended) {
      if (this.avail < 4) {
        this.need = 4;
        break;
      }
      const events = this.u32(0);
      if (events === 0) {
        const tail = bucketTailBytes(this.sessions);
        if (this.avail < tail) {
          this.need = tail;
          break;
        }
        this.skip(4);
        this.readFooter(this.takeContiguous(tail - 4 - TRAILER));
        this.readTrailer(this.u32(0), this.u32(4), this.u32(8));
        this.skip(TRAILER);
        this.ended = true;
        break;
      }
      if (this.avail < BLOCK_HEAD) {
        this.need = BLOCK_HEAD;
        break;
      }
      const nSessions = this.u32(4);
      const nItems = this.u32(8);
      const dictLen = this.u32(12);
      const colLen = this.u32(16);
      const lineLen = this.u32(20);
      if (this.options.lines === false ? lineLen !== 0 : lineLen < events) {
        throw new BucketFormatError(this.options.lines === false ? `a block holds ${lineLen} bytes of lines where its part report says its lines are in the shard's partition` : `a block of ${events} events holds ${lineLen} bytes of lines`);
      }
      const size = BLOCK_HEAD + dictLen + colLen + lineLen;
      if (this.avail < size) {
        this.need = size;
        break;
      }
      this.skip(BLOCK_HEAD);
      const meta = this.takeContiguous(dictLen + colLen);
      const lines = this.take(lineLen);
      out.push(this.readBlock(events, nSessions, nItems, dictLen, colLen, meta, lines, lineLen));
    }
    if (this.ended && this.avail > 0) throw new BucketFormatError(`${this.avail} bytes after the end of the bucket`);
    return out;
  }

  /** The little-endian u32 `at` bytes into the unconsumed bytes (at + 4 <= avail). */
  private u32(at: number): number {
    const first = this.pending[0]!;
    const o = this.offset + at;
    if (o + 4 <= first.length) return (first[o]! | (first[o + 1]! << 8) | (first[o + 2]! << 16) | (first[o + 3]! << 24)) >>> 0;
    let v = 0;
    for (let k = 0; k < 4; k++) v += this.byteAt(at + k) * 2 ** (8 * k);
    return v;
  }

  private byteAt(at: number): number {
    let o = this.offset + at;
    let i = 0;
    while (o >= this.pending[i]!.length) o -= this.pending[i++]!.length;
    return this.pending[i]![o]!;
  }

  /** Consumes `n` bytes (n <= avail): views of the chunks that hold them. */
  private take(n: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.avail -= n;
    while (n > 0) {
      const p = this.pending[0]!;
      const rest = p.length - this.offset;
      if (n < rest) {
        out.push(p.subarray(this.offset, this.offset + n));
        this.offset += n;
        return out;
      }
      out.push(this.offset === 0 ? p : p.subarray(this.offset));
      n -= rest;
      this.pending.shift();
      this.offset = 0;
    }
    return out;
  }

  private skip(n: number): void {
    this.take(n);
  }

  /** Consumes `n` bytes as one array: a view when one chunk holds them, else joined. */
  private takeContiguous(n: number): Uint8Array {
    const first = this.pending[0];
    if (first && this.offset + n <= first.length) {
      const v = first.subarray(this.offset, this.offset + n);
      this.take(n);
      return v;
    }
    return concatBytes(this.take(n), n);
  }

  /** Each session's FNV-1a 32 in id order, as hashed from the session ids read so far (a view: copy it to keep it). @since 0.9.0 */
  sessionHashes(): Uint32Array {
    return this.hashes.subarray(0, this.sessions);
  }

  /** Checks that the bucket was complete. Returns its event count. */
  end(): number {
    const rest = concatBytes(this.take(this.avail));
    if (!this.header) {
      if (rest.length === 0) throw new BucketFormatError('empty (not even a header)');
      this.headerError(rest);
    }
    if (!this.ended) throw new BucketFormatError(`truncated (${this.events} events read, no trailer)`);
    return this.events;
  }

  private headerError(data: Uint8Array): never {
    // Format 1 buckets were canonical JSON Lines: their first line is an event.
    const start = new TextDecoder().decode(data.subarray(0, 200));
    if (start.startsWith('{"v":1,')) throw new BucketFormatError(`is in format recsys-bucket/1 (canonical JSON Lines) of an earlier version, not ${BUCKET_FORMAT}`);
    throw new BucketFormatError(`has no ${BUCKET_FORMAT} header`);
  }

  private readHeader(line: Uint8Array): BucketHeader {
    let h: Partial<BucketHeader> & { v?: unknown };
    try {
      h = JSON.parse(utf8.decode(line)) as typeof h;
    } catch {
      return this.headerError(line);
    }
    if (typeof h !== 'object' || h === null) return this.headerError(line);
    if (h.format !== BUCKET_FORMAT) {
      if (h.v === 1) return this.headerError(line);
      if (h.format === 'recsys-bucket/2') throw new BucketFormatError(`is in format recsys-bucket/2 (no session footer) of an earlier version, not ${BUCKET_FORMAT}`);
      throw new BucketFormatError(`is in format ${JSON.stringify(h.format ?? null)}, not ${BUCKET_FORMAT}`);
    }
    const e = this.expected;
    if (h.tenant !== e.tenant || h.surface !== e.surface || h.day !== e.day) throw new BucketFormatError(`holds ${String(h.tenant)}/${String(h.surface)} ${String(h.day)}, not ${e.tenant}/${e.surface} ${e.day}`);
    if (h.part?.index !== e.part.index || h.part.count !== e.part.count || h.bucket !== e.bucket) {
      throw new BucketFormatError(`holds bucket ${String(h.bucket)} of ingest part ${String(h.part?.index)}/${String(h.part?.count)}, not bucket ${e.bucket} of part ${e.part.index}/${e.part.count} as its name says (a copy of another bucket)`);
    }
    return h as BucketHeader;
  }

  /** Checks the footer (4 bytes per session) against the hashes of the sessions read. */
  private readFooter(footer: Uint8Array): void {
    const view = new DataView(footer.buffer, footer.byteOffset, footer.length);
    for (let k = 0; k < this.sessions; k++) {
      const claimed = view.getUint32(4 * k, true);
      if (claimed !== this.hashes[k]) throw new BucketFormatError(`session footer: session ${k} hashes to ${this.hashes[k]}, the footer says ${claimed}`);
    }
  }

  private readTrailer(events: number, sessions: number, items: number): void {
    if (events !== this.events || sessions !== this.sessions || items !== this.items) {
      throw new BucketFormatError(`trailer says ${events} events, ${sessions} sessions, ${items} items; the blocks hold ${this.events}, ${this.sessions}, ${this.items}`);
    }
  }

  /** A block from its head's fields, its dictionary and columns (`data`, contiguous) and its lines (pieces). */
  private readBlock(events: number, nSessions: number, nItems: number, dictLen: number, colLen: number, data: Uint8Array, lines: Uint8Array[], lineLen: number): BucketBlock {
    let p = 0;
    const dictEnd = dictLen;
    const bad = (what: string): never => {
      throw new BucketFormatError(`block at event ${this.events}: ${what}`);
    };
    // Varint reader bounded by `end` (ids and lengths are below 2^32). Each byte's weight is a running product, not
    // `2 ** shift`: V8 calls its C++ `pow` for a variable exponent (~4 % of a compute task's CPU, one call per
    // continuation byte of every id).
    let end = dictEnd;
    const varint = (): number => {
      let v = 0;
      for (let weight = 1; ; weight *= 128) {
        if (p >= end) return bad('truncated varint');
        const b = data[p++]!;
        if (weight === WEIGHT_28 && b > 0x0f) return bad('varint too large');
        v += (b & 0x7f) * weight;
        if (b < 0x80) return v;
      }
    };
    const names = nSessions + nItems;
    if (names > dictLen) bad('more dictionary entries than bytes');
    const lengths = new Array<number>(names);
    let textBytes = 0;
    for (let k = 0; k < names; k++) textBytes += lengths[k] = varint();
    if (p + textBytes !== dictEnd) bad('dictionary lengths do not add up');
    // The new sessions' hashes, from their bytes (the footer must list the same).
    const newHashes = new Uint32Array(nSessions);
    const newEnds = new Uint32Array(nSessions);
    let sessionBytes = 0;
    for (let k = 0, s = p; k < nSessions; k++) {
      newHashes[k] = fnv1a32Bytes(data, s, (s += lengths[k]!));
      newEnds[k] = sessionBytes += lengths[k]!;
    }
    const newSessionBytes = data.subarray(p, p + sessionBytes);
    const strings = new Array<string>(names);
    if (names > 0) {
      let text: string;
      try {
        text = utf8.decode(data.subarray(p, dictEnd));
      } catch {
        return bad('dictionary is not UTF-8');
      }
      if (text.length === textBytes) {
        // ASCII only (the usual case): one decode, byte lengths are string lengths.
        let s = 0;
        for (let k = 0; k < names; k++) strings[k] = text.slice(s, (s += lengths[k]!));
      } else {
        let s = p;
        for (let k = 0; k < names; k++) {
          try {
            strings[k] = utf8.decode(data.subarray(s, (s += lengths[k]!)));
          } catch {
            return bad('dictionary is not UTF-8');
          }
        }
      }
    }
    p = dictEnd;
    end = dictEnd + colLen;
    const sessionsKnown = this.sessions + nSessions;
    const itemsKnown = this.items + nItems;
    const session = new Uint32Array(events);
    const item = new Uint32Array(events);
    let prev = -1;
    for (let k = 0; k < events; k++) {
      let s: number;
      let it: number;
      if (p + 10 <= end) {
        // Both varints' bytes (at most 5 each) are surely here: decoded inline, without bounds checks per byte.
        let x = data[p++]!;
        s = x & 0x7f;
        for (let weight = 128; x >= 0x80; weight *= 128) {
          x = data[p++]!;
          if (weight === WEIGHT_28 && x > 0x0f) bad('varint too large');
          s += (x & 0x7f) * weight;
        }
        x = data[p++]!;
        it = x & 0x7f;
        for (let weight = 128; x >= 0x80; weight *= 128) {
          x = data[p++]!;
          if (weight === WEIGHT_28 && x > 0x0f) bad('varint too large');
          it += (x & 0x7f) * weight;
        }
      } else {
        s = varint();
        it = varint();
      }
      if (s === 0) {
        if (prev < 0) bad('first event of the block repeats a session');
      } else prev = s - 1;
      if (prev >= sessionsKnown) bad(`session id ${prev} out of range`);
      if (it >= itemsKnown) bad(`item id ${it} out of range`);
      session[k] = prev;
      item[k] = it;
    }
    if (p !== end) bad('column bytes do not match the event count');
    const last = lines[lines.length - 1];
    if (this.options.lines !== false && (lineLen === 0 || last![last!.length - 1] !== 10)) bad('lines do not end with a newline');
    if (sessionsKnown > this.hashes.length) {
      const bigger = new Uint32Array(Math.max(this.hashes.length * 2, sessionsKnown));
      bigger.set(this.hashes.subarray(0, this.sessions));
      this.hashes = bigger;
    }
    this.hashes.set(newHashes, this.sessions);
    this.sessions = sessionsKnown;
    this.items = itemsKnown;
    this.events += events;
    return { events, newSessions: strings.slice(0, nSessions), newSessionHashes: newHashes, newSessionBytes, newSessionEnds: newEnds, newItems: strings.slice(nSessions), session, item, lines };
  }
}
