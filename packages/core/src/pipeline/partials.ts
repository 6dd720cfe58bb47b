import { z } from 'zod';
import { InputPartitionSchema, type ArtifactType, type InputPartition } from '@recsys/contracts';
import { IntegrityError } from '../errors.js';
import { checkLimit } from '../check-limit.js';
import type { Limits } from '../limits.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import type { EventTable } from '../compute/event-table.js';
import { Interner } from '../compute/interner.js';
import { U32Counts } from '../compute/growable.js';
import { PairCounter } from '../compute/pair-counter.js';
import { SortedPairMerge, type SortedPairs } from '../compute/sorted-pairs.js';
import { invertRanks } from '../compute/order-keys.js';
import { itemsBySession } from '../compute/cooc.js';
import { concatBytes } from '../bytes.js';
import { kindOf } from '../compute/kinds.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { ShardSpec } from '../shard.js';
import { CountsSchema } from './staging.js';

/*
 * Partial aggregates of sharded runs (docs/how-to/scale-out.md, "Partials").
 *
 * Object key (objects area):
 *   <tenant>/<surface>/_partials/<segment>/<type>/<start>_<end>/<i>-of-<n>.json
 *
 * Format (`recsys-partial/2`), written atomically in one object:
 *   line 1        header (PartialHeader) as JSON + "\n": scope, window, shard
 *                 i/n, the shard function, the hash of the limits that shape
 *                 the result, the shard's event/session totals and ingest
 *                 counts, the canonical partition it was computed from, and
 *                 how many item and pair entries follow;
 *   then binary   unsigned LEB128 varints (at most 32 bits each):
 *     `items` ×   len, len bytes of UTF-8 item id, exposures (≥ 1); item ids
 *                 in UTF-8 byte order, an item's position is its index below;
 *     (cooc) per item a with pairs, a ascending:
 *                 a − previous a (the first from −1), m (≥ 1), then m ×
 *                 (b − previous b (the first from a), c ≥ 1): pairs (a, b),
 *                 a < b, that share c sessions, b ascending.
 *   The object ends right after the last pair.
 * The text format of /1 cost as much CPU to write and parse as counting the
 * pairs (docs/how-to/scale-out.md, "What dividing the work costs").
 * Counts are untruncated: `min_cooc_support`, `max_neighbors_per_item` and
 * `max_items_per_artifact` are applied only when merging, by the same
 * functions as the single-process path.
 */

/** Name of the session → shard function, recorded in every partial (see `shard.ts`). @since 0.1.0 */
export const SHARD_HASH = 'fnv1a32-utf8-mod-n';

/** Format tag of partial files. @since 0.1.0 */
export const PARTIAL_FORMAT = 'recsys-partial/2';

const FLUSH_BYTES = 1 << 20;

/** Appends varints and bytes to 1 MiB chunks, handing full ones to `sink`. */
class VarintWriter {
  private buf = new Uint8Array(FLUSH_BYTES + 16);
  private at = 0;
  constructor(private readonly sink: (chunk: Uint8Array) => Promise<void>) {}
  /** True when a chunk is full (the caller awaits `flush`: one await per entry would dominate the cost). */
  varint(v: number): boolean {
    // Callers flush only when told to, after some writes: keep room for the next varint whatever they skipped.
    if (this.at + 5 > this.buf.length) this.grow(5);
    const buf = this.buf;
    let at = this.at;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[at++] = v;
    this.at = at;
    return at >= FLUSH_BYTES;
  }
  private grow(more: number): void {
    const bigger = new Uint8Array(this.at + more + FLUSH_BYTES);
    bigger.set(this.buf.subarray(0, this.at));
    this.buf = bigger;
  }
  bytes(b: Uint8Array): boolean {
    if (this.at + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
    return this.at >= FLUSH_BYTES;
  }
  async flush(): Promise<void> {
    if (this.at === 0) return;
    const out = this.buf.slice(0, this.at);
    this.at = 0;
    await this.sink(out);
  }
}

/** The result-shaping limits of a type, as recorded in partials (`unlimited` for ∞). @since 0.1.0 */
export function partialLimits(type: ArtifactType, limits: Limits): Record<string, number | 'unlimited'> {
  const out: Record<string, number | 'unlimited'> = {};
  for (const key of kindOf(type)?.sharded?.resultLimits ?? []) out[key] = Number.isFinite(limits[key]) ? limits[key] : 'unlimited';
  return out;
}

/**
 * SHA-256 of what makes partials of one type combinable: the format, the
 * shard function and the result-shaping limits. Shards and the merge must
 * agree on it.
 * @since 0.1.0
 */
export function partialConfigHash(type: ArtifactType, limits: Limits, sha256: Sha256Factory): string {
  const hash = sha256();
  hash.update(JSON.stringify({ format: PARTIAL_FORMAT, shard_hash: SHARD_HASH, artifact_type: type, limits: partialLimits(type, limits) }));
  return hash.digest();
}

const count = z.int().min(0);

/** Line 1 of a partial. @since 0.1.0 */
export const PartialHeaderSchema = z.strictObject({
  format: z.literal(PARTIAL_FORMAT),
  artifact_type: z.string(),
  tenant: z.string(),
  surface: z.string(),
  segment: z.string(),
  day: z.string(),
  window: z.strictObject({ start: z.string(), end: z.string() }),
  shard: z.strictObject({ index: count, count: z.int().min(1) }),
  shard_hash: z.string(),
  config_hash: z.string(),
  limits: z.record(z.string(), z.union([count, z.literal('unlimited')])),
  /** Events and sessions of this shard (sessions never span shards). */
  events: count,
  sessions: count,
  /** The shard's ingest counts (lines read and rejected are the whole day's, seen by every shard). */
  counts: CountsSchema,
  inputs: z.array(InputPartitionSchema),
  items: count,
  pairs: count,
});

/** A partial's header. @since 0.1.0 */
export type PartialHeader = Omit<z.infer<typeof PartialHeaderSchema>, 'counts'> & { readonly counts: IngestCounts };

/** Header fields the writer fills in from the data. */
export type PartialHeaderInput = Omit<PartialHeader, 'items' | 'pairs' | 'events' | 'sessions'>;

/**
 * Writes a shard's partial aggregate: item exposures of `table` and, for
 * cooc, the session pair counts: from `pairs` when it is a pair table, or,
 * given the limits, counted here row by row from the sessions (no pair
 * table: see {@link sessionPairRows}; the same bytes, several times less
 * CPU and memory). Deterministic bytes for the same partition. Returns the
 * header written.
 * @since 0.1.0
 */
export async function writePartial(storage: ObjectStorage, key: string, input: PartialHeaderInput, table: EventTable, pairs?: PairCounter | Limits): Promise<PartialHeader> {
  const names = table.items.values;
  const n = names.length;
  const ranks = table.items.utf8Ranks();
  const idOfRank = invertRanks(ranks);
  // The pair section, as chunks: counted before anything is written (a limit may trip), and the header says how many.
  const body: Uint8Array[] = [];
  const sink = new VarintWriter(async (chunk) => {
    body.push(chunk);
  });
  const p = pairs === undefined ? 0 : pairs instanceof PairCounter ? await pairSectionOfTable(pairs, ranks, sink) : await sessionPairRows(table, ranks, pairs, sink);
  await sink.flush();
  const header: PartialHeader = { ...input, events: table.length, sessions: table.sessions.size, items: n, pairs: p };

  const writer = await storage.writer(key);
  const out = new VarintWriter((chunk) => writer.write(chunk));
  const utf8 = new TextEncoder();
  try {
    out.bytes(utf8.encode(JSON.stringify(header) + '\n'));
    const counts = table.itemCounts;
    for (let r = 0; r < n; r++) {
      const id = idOfRank[r]!;
      const name = utf8.encode(names[id]!);
      out.varint(name.length);
      out.bytes(name);
      if (out.varint(counts.get(id))) await out.flush();
    }
    await out.flush();
    for (const chunk of body) await writer.write(chunk);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
  return header;
}

/** The pair section from a pair table (see the format above); returns the number of pairs. */
async function pairSectionOfTable(pairs: PairCounter, ranks: Uint32Array, out: VarintWriter): Promise<number> {
  const n = ranks.length;
  const p = pairs.size;
  // Pairs grouped by the rank of their lower item (a counting sort in two passes over the table: counts per group,
  // then each pair's higher rank and count into its group's slots); each group is then sorted by the higher rank.
  const start = new Uint32Array(n + 1);
  pairs.forEach((x, y) => {
    const rx = ranks[x]!;
    const ry = ranks[y]!;
    start[(rx < ry ? rx : ry) + 1]!++;
  });
  for (let r = 0; r < n; r++) start[r + 1]! += start[r]!;
  const fill = start.slice(0, n);
  const his = new Uint32Array(p);
  const cnts = new Uint32Array(p);
  pairs.forEach((x, y, c) => {
    const rx = ranks[x]!;
    const ry = ranks[y]!;
    const at = fill[rx < ry ? rx : ry]!++;
    his[at] = rx < ry ? ry : rx;
    cnts[at] = c;
  });
  // A group's counts by higher rank while its ranks are sorted (within a group every higher rank is distinct).
  const countOf = new Uint32Array(n);
  let prevA = -1;
  for (let a = 0; a < n; a++) {
    const from = start[a]!;
    const to = start[a + 1]!;
    if (from === to) continue;
    for (let i = from; i < to; i++) countOf[his[i]!] = cnts[i]!;
    his.subarray(from, to).sort();
    out.varint(a - prevA);
    out.varint(to - from);
    prevA = a;
    let prevB = a;
    for (let i = from; i < to; i++) {
      const b = his[i]!;
      out.varint(b - prevB);
      prevB = b;
      if (out.varint(countOf[b]!)) await out.flush();
    }
  }
  return p;
}

/**
 * The pair section counted row by row, in rank space (item ids replaced by
 * their UTF-8 rank): each session's distinct items once, ascending; for
 * each item a, the sessions it is in give, through a dense counter, the
 * sessions it shares with every item b > a after it in those sessions.
 * Every pair occurrence is counted once, as by the pair table, but into an
 * array instead of a hash table, and the groups come out in the order the
 * format wants (a ascending), so nothing is sorted but each group's b.
 * Trips `max_items_per_session` on the first session (in session id order)
 * with too many distinct items, as `countSessionPairs` does.
 * Returns the number of pairs.
 */
async function sessionPairRows(table: EventTable, ranks: Uint32Array, limits: Limits, out: VarintWriter): Promise<number> {
  const n = ranks.length;
  const sessions = table.sessions.size;
  // Items grouped by session, then turned into their ranks in place.
  const { items: runs, start } = itemsBySession(table);
  for (let i = 0; i < runs.length; i++) runs[i] = ranks[runs[i]!]!;
  // Each session's distinct ranks, ascending, compacted in place (sessions of fewer than two distinct items dropped).
  const runStart = new Uint32Array(sessions + 1);
  let w = 0;
  let kept = 0;
  for (let s = 0; s < sessions; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    if (to - from < 2) continue;
    const items = runs.subarray(from, to).sort();
    let m = 0;
    for (let k = 0; k < items.length; k++) if (k === 0 || items[k] !== items[k - 1]) items[m++] = items[k]!;
    checkLimit(limits, 'max_items_per_session', m, `session ${JSON.stringify(table.sessions.values[s])}`);
    if (m < 2) continue;
    runStart[kept] = w;
    runs.copyWithin(w, from, from + m);
    w += m;
    kept++;
  }
  runStart[kept] = w;
  // For each rank a: the stretches [after a, end of its session) of every session holding a with something after it.
  const invStart = new Uint32Array(n + 1);
  for (let s = 0; s < kept; s++) for (let k = runStart[s]!; k < runStart[s + 1]! - 1; k++) invStart[runs[k]! + 1]!++;
  for (let a = 0; a < n; a++) invStart[a + 1]! += invStart[a]!;
  const at = invStart.slice(0, n);
  const invFrom = new Uint32Array(invStart[n]!);
  const invTo = new Uint32Array(invStart[n]!);
  for (let s = 0; s < kept; s++) {
    const end = runStart[s + 1]!;
    for (let k = runStart[s]!; k < end - 1; k++) {
      const slot = at[runs[k]!]!++;
      invFrom[slot] = k + 1;
      invTo[slot] = end;
    }
  }
  const counts = new Uint32Array(n);
  let touched = new Uint32Array(1024);
  let pairs = 0;
  let prevA = -1;
  for (let a = 0; a < n; a++) {
    const from = invStart[a]!;
    const to = invStart[a + 1]!;
    if (from === to) continue;
    let t = 0;
    for (let k = from; k < to; k++) {
      const stop = invTo[k]!;
      for (let j = invFrom[k]!; j < stop; j++) {
        const b = runs[j]!;
        if (counts[b]!++ === 0) {
          if (t === touched.length) {
            const bigger = new Uint32Array(t * 2);
            bigger.set(touched);
            touched = bigger;
          }
          touched[t++] = b;
        }
      }
    }
    const group = touched.subarray(0, t).sort();
    out.varint(a - prevA);
    out.varint(t);
    prevA = a;
    let prevB = a;
    for (let k = 0; k < t; k++) {
      const b = group[k]!;
      out.varint(b - prevB);
      prevB = b;
      const c = counts[b]!;
      counts[b] = 0;
      if (out.varint(c)) await out.flush();
    }
    pairs += t;
  }
  return pairs;
}

function parseHeaderLine(storage: ObjectStorage, key: string, text: string | undefined): PartialHeader {
  const uri = storage.uri(key);
  if (text === undefined) throw new IntegrityError(`partial ${uri} is empty`, { uri });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`partial ${uri}: the header is not JSON: ${(error as Error).message}`, { uri }, { cause: error });
  }
  const result = PartialHeaderSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new IntegrityError(`partial ${uri} has no valid header (${issue.path.join('.') || '(root)'}: ${issue.message}); is it a recsys-pipelines partial of this version?`, { uri });
  }
  // JSON has no `undefined`, so the parsed optional count is absent rather than undefined.
  return result.data as PartialHeader;
}

/**
 * Reads only the header line of a partial (for the merge's consistency
 * checks before any heavy reading). `undefined` when the object is missing.
 * @since 0.1.0
 */
export async function readPartialHeader(storage: ObjectStorage, key: string): Promise<PartialHeader | undefined> {
  const stream = await storage.read(key);
  if (!stream) return undefined;
  const head: Uint8Array[] = [];
  for await (const chunk of stream) {
    const nl = chunk.indexOf(10);
    head.push(nl < 0 ? chunk : chunk.subarray(0, nl));
    // Returning from the loop closes the stream: only the first line is read.
    if (nl >= 0) return parseHeaderLine(storage, key, new TextDecoder().decode(concatBytes(head)));
  }
  return parseHeaderLine(storage, key, head.length > 0 ? new TextDecoder().decode(concatBytes(head)) : undefined);
}

/** Receives the entries of a partial. @since 0.1.0 */
export interface PartialVisitor {
  item(index: number, itemId: string, exposures: number): void;
  pair(a: number, b: number, sessions: number): void;
}

/**
 * Streams a whole partial into `visitor`, checking every entry (indices in
 * range and ascending, counts ≥ 1, varints of at most 32 bits) and the entry
 * totals announced by the header. With `itemsOnly`, stops reading once the
 * items are in (the pair section is neither read nor checked).
 * @since 0.1.0
 */
export async function readPartial(storage: ObjectStorage, key: string, visitor: PartialVisitor, options: { readonly itemsOnly?: boolean } = {}): Promise<PartialHeader> {
  const uri = storage.uri(key);
  const stream = await storage.read(key);
  if (!stream) throw new IntegrityError(`partial ${uri} disappeared while merging`, { uri });
  let header: PartialHeader | undefined;
  let headerBytes: Uint8Array[] = [];
  let body: BodyDecoder | undefined;
  // Unconsumed bytes of the last chunk: an entry is decoded only when all its bytes are here.
  let rest: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    let data: Uint8Array = chunk;
    if (!header) {
      const nl = data.indexOf(10);
      if (nl < 0) {
        headerBytes.push(data);
        continue;
      }
      headerBytes.push(data.subarray(0, nl));
      const line = concatBytes(headerBytes);
      header = parseHeaderLine(storage, key, new TextDecoder().decode(line));
      headerBytes = [];
      body = new BodyDecoder(header, visitor, uri, line.length + 1);
      data = data.subarray(nl + 1);
    }
    const buf = rest.length === 0 ? data : concatBytes([rest, data]);
    rest = buf.subarray(body!.decode(buf, options.itemsOnly === true));
    // Returning from the loop closes the stream.
    if (options.itemsOnly && body!.itemsDone) return header;
  }
  if (!header) throw new IntegrityError(`partial ${uri} ${headerBytes.length > 0 ? 'has no valid header (no end of line)' : 'is empty'}`, { uri });
  if (options.itemsOnly && body!.itemsDone) return header;
  body!.finish(rest.length);
  return header;
}

/**
 * Decodes the binary body of a partial (see the format above) chunk by
 * chunk. State lives in fields between chunks and in locals inside
 * {@link BodyDecoder.decode}: the pair loop is the merge's hottest code.
 */
class BodyDecoder {
  private items = 0;
  private pairs = 0;
  /** The current pair group: its item, pairs left, the previous b. */
  private a = -1;
  private left = 0;
  private prevB = 0;
  /** Bytes of the object before the current buffer (for messages). */
  private offset: number;
  /** Where the varint read by {@link varint} ends. */
  private next = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly header: PartialHeader,
    private readonly visitor: PartialVisitor,
    private readonly uri: string,
    offset: number,
  ) {
    this.offset = offset;
  }

  private bad(at: number, detail: string): never {
    throw new IntegrityError(`partial ${this.uri} at byte ${this.offset + at}: ${detail}`, { uri: this.uri, byte: this.offset + at });
  }

  /** The varint at `p` (its end in `this.next`), or -1 when its bytes are not all in `buf`. */
  private varint(buf: Uint8Array, p: number): number {
    let v = 0;
    let scale = 1;
    for (; p < buf.length; p++) {
      const x = buf[p]!;
      v += (x & 0x7f) * scale;
      if (x < 0x80) {
        if (v > 0xffffffff) this.bad(p, 'a number over 32 bits');
        this.next = p + 1;
        return v;
      }
      scale *= 128;
      if (scale > 2 ** 35) this.bad(p, 'a number over 32 bits');
    }
    return -1;
  }

  /** True once every item of the header has been decoded. */
  get itemsDone(): boolean {
    return this.items === this.header.items;
  }

  /** Decodes every whole entry of `buf` (with `itemsOnly`, no pair); returns where the first incomplete one starts. */
  decode(buf: Uint8Array, itemsOnly = false): number {
    const h = this.header;
    const visitor = this.visitor;
    const end = buf.length;
    let p = 0;
    while (this.items < h.items) {
      const len = this.varint(buf, p);
      if (len < 0 || this.next + len > end) return this.consumed(buf, p);
      const at = this.next;
      const exposures = this.varint(buf, at + len);
      if (exposures < 0) return this.consumed(buf, p);
      if (exposures === 0) this.bad(at + len, 'an item with 0 exposures');
      let id: string;
      try {
        id = this.utf8.decode(buf.subarray(at, at + len));
      } catch {
        return this.bad(at, 'an item id that is not UTF-8');
      }
      visitor.item(this.items++, id, exposures);
      p = this.next;
    }
    if (itemsOnly) return this.consumed(buf, p);
    const items = h.items;
    let a = this.a;
    let left = this.left;
    let prevB = this.prevB;
    let pairs = this.pairs;
    while (p < end) {
      if (left === 0) {
        const da = this.varint(buf, p);
        if (da < 0) break;
        const m = this.varint(buf, this.next);
        if (m < 0) break;
        if (da === 0 || m === 0) this.bad(p, 'malformed pair group');
        if (pairs + m > h.pairs) this.bad(p, `more pairs than the header's ${h.pairs}`);
        a += da;
        if (a >= items - 1) this.bad(p, `item index ${a} out of range`);
        left = m;
        prevB = a;
        p = this.next;
        continue;
      }
      // Fast path: two whole varints (at most 5 bytes each) are surely here.
      if (end - p >= 10) {
        let x = buf[p++]!;
        let db = x & 0x7f;
        for (let scale = 128; x >= 0x80; scale *= 128) {
          x = buf[p++]!;
          db += (x & 0x7f) * scale;
          if (scale > 2 ** 28) this.bad(p, 'a number over 32 bits');
        }
        x = buf[p++]!;
        let c = x & 0x7f;
        for (let scale = 128; x >= 0x80; scale *= 128) {
          x = buf[p++]!;
          c += (x & 0x7f) * scale;
          if (scale > 2 ** 28) this.bad(p, 'a number over 32 bits');
        }
        if (db > 0xffffffff || c > 0xffffffff) this.bad(p, 'a number over 32 bits');
        const b = prevB + db;
        if (db === 0 || b >= items || c === 0) this.bad(p, 'malformed pair entry');
        visitor.pair(a, b, c);
        prevB = b;
        left--;
        pairs++;
        continue;
      }
      const db = this.varint(buf, p);
      if (db < 0) break;
      const c = this.varint(buf, this.next);
      if (c < 0) break;
      const b = prevB + db;
      if (db === 0 || b >= items || c === 0) this.bad(p, 'malformed pair entry');
      visitor.pair(a, b, c);
      prevB = b;
      left--;
      pairs++;
      p = this.next;
    }
    this.a = a;
    this.left = left;
    this.prevB = prevB;
    this.pairs = pairs;
    return this.consumed(buf, p);
  }

  private consumed(_buf: Uint8Array, p: number): number {
    this.offset += p;
    return p;
  }

  /** Checks the totals once the object has ended, `unread` bytes after the last whole entry. */
  finish(unread: number): void {
    const h = this.header;
    if (this.items !== h.items || this.pairs !== h.pairs || this.left !== 0) {
      throw new IntegrityError(`partial ${this.uri} is truncated: ${this.items} of ${h.items} items and ${this.pairs} of ${h.pairs} pairs`, { uri: this.uri });
    }
    if (unread > 0) this.bad(0, 'bytes after the last pair');
  }
}

/** The combined counts of a complete set of partials. @since 0.1.0 */
export interface MergedPartials {
  /** The day's item ids, interned in UTF-8 byte order: an item's id is its rank. */
  readonly items: Interner;
  /** `ranks[id]` of {@link items} (the identity, since ids are ranks). @since 0.7.0 */
  readonly ranks: Uint32Array;
  readonly exposures: U32Counts;
  /** Session pair counts by merged item id (cooc), sorted by (a, b). */
  readonly pairs: SortedPairs;
  readonly events: number;
  readonly sessions: number;
  /** The day's ingest counts: lines/rejects as seen by every shard, accepted and duplicates summed. */
  readonly counts: IngestCounts;
  /** Every shard's canonical partitions, by shard index. */
  readonly inputs: InputPartition[];
}

/**
 * Sums the partials of one window, in shard order (the headers must have
 * been checked to form a complete, consistent set). First the item sections
 * of every partial (not their pairs) give the day's items in UTF-8 order;
 * then each partial's pairs, mapped to those ranks, are already sorted
 * (every shard lists its items in the same order), so they are summed by a
 * streaming merge ({@link SortedPairMerge}) instead of a hash table. A
 * partial whose items are not in strictly ascending UTF-8 order (or whose
 * items changed between the two reads) is refused as an integrity error:
 * its pairs could not be merged in order.
 * @since 0.1.0
 */
export async function mergePartials(storage: ObjectStorage, partialKeys: readonly string[], headers: readonly PartialHeader[]): Promise<MergedPartials> {
  const seen = new Interner();
  const seenExposures = new U32Counts();
  const hasPairs = headers.map((h) => h.pairs > 0);
  for (let k = 0; k < partialKeys.length; k++) {
    // A partial without pairs is whole once its items are in: read (and checked) completely here.
    await readPartial(
      storage,
      partialKeys[k]!,
      {
        item(_index, itemId, n) {
          seenExposures.increment(seen.intern(itemId), n);
        },
        pair() {},
      },
      { itemsOnly: hasPairs[k]! },
    );
  }
  // Ids in rank order, so that ids compare as the UTF-8 order of the item ids do.
  const idOfRank = invertRanks(seen.utf8Ranks());
  const n = idOfRank.length;
  const items = new Interner();
  const exposures = new U32Counts();
  exposures.reserve(n);
  const ranks = new Uint32Array(n);
  for (let r = 0; r < n; r++) {
    const id = idOfRank[r]!;
    items.intern(seen.values[id]!);
    exposures.data[r] = seenExposures.get(id);
    ranks[r] = r;
  }
  const merge = new SortedPairMerge();
  let events = 0;
  let sessions = 0;
  const inputs: InputPartition[] = [];
  for (let k = 0; k < partialKeys.length; k++) {
    const key = partialKeys[k]!;
    const header = headers[k]!;
    events += header.events;
    sessions += header.sessions;
    inputs.push(...header.inputs);
    if (!hasPairs[k]) continue;
    const uri = storage.uri(key);
    const local = new Uint32Array(header.items);
    let prev = -1;
    merge.begin(header.pairs);
    await readPartial(storage, key, {
      item(index, itemId) {
        const rank = items.lookup(itemId);
        if (rank === undefined) throw new IntegrityError(`partial ${uri} changed while merging: item ${JSON.stringify(itemId)} was not in it at first`, { uri });
        if (rank <= prev) throw new IntegrityError(`partial ${uri}: item ${JSON.stringify(itemId)} (entry ${index}) is not after the previous one in UTF-8 order`, { uri });
        if (index >= local.length) throw new IntegrityError(`partial ${uri} changed while merging: more items than its header said`, { uri });
        local[index] = rank;
        prev = rank;
      },
      pair(a, b, c) {
        if (!merge.add(local[a]!, local[b]!, c)) throw new IntegrityError(`partial ${uri}: pair (${a}, ${b}) is out of order`, { uri });
      },
    });
    merge.end();
  }
  const first = headers[0]!.counts;
  const counts: IngestCounts = {
    read: first.read,
    accepted: headers.reduce((s, h) => s + h.counts.accepted, 0),
    duplicates: headers.reduce((s, h) => s + h.counts.duplicates, 0),
    out_of_window: first.out_of_window,
    other_scope: first.other_scope,
    rejected: first.rejected,
    rejected_by_reason: { ...first.rejected_by_reason },
  };
  return { items, ranks, exposures, pairs: merge.result(), events, sessions, counts, inputs };
}

/** Parses `<i>-of-<n>.json` (the last part of a partial key). @since 0.1.0 */
export function shardOfPartialKey(key: string): ShardSpec | undefined {
  const m = /(?:^|\/)(\d+)-of-(\d+)\.json$/.exec(key);
  return m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
}
