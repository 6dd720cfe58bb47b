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
import { GroupedPairs, mergeGroupedPairs, type SortedPairs } from '../compute/sorted-pairs.js';
import { invertRanks } from '../compute/order-keys.js';
import { itemsBySession } from '../compute/cooc.js';
import type { ItemExposure } from '../compute/popularity.js';
import { concatBytes, grow } from '../bytes.js';
import { kindOf } from '../compute/kinds.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { ShardSpec } from '../shard.js';
import { CountsSchema } from './staging.js';

// One strict decoder for every item id read (a leading U+FEFF is kept as a character, as the ids' bytes hold it);
// the lenient one only for messages.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder();
const EMPTY_U32 = new Uint32Array(0);

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
 * A shard's item section (see the format above: per item in UTF-8 order of
 * the ids, its length, bytes and exposures) and the items' UTF-8 ranks. Every
 * partial of a shard counts the same table, so its partials share one: the
 * ranks and the encoded names are computed once per shard, not per type.
 * @since 0.7.0
 */
export interface PartialItems {
  /** `ranks[id]`: the item's position in UTF-8 order of the ids. */
  readonly ranks: Uint32Array;
  /** The encoded item section. */
  readonly section: Uint8Array;
}

/**
 * The item section of `table`'s partials (see {@link PartialItems}).
 * @since 0.7.0
 */
export function partialItems(table: EventTable): PartialItems {
  const names = table.items.values;
  const n = names.length;
  const ranks = table.items.utf8Ranks();
  const idOfRank = invertRanks(ranks);
  const counts = table.itemCounts;
  let units = 0;
  for (let id = 0; id < n; id++) units += names[id]!.length;
  // At most 3 bytes per UTF-16 unit, and two varints of at most 5 bytes per item.
  const out = new Uint8Array(units * 3 + n * 10);
  const utf8 = new TextEncoder();
  let at = 0;
  const varint = (v: number) => {
    while (v >= 0x80) {
      out[at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[at++] = v;
  };
  for (let r = 0; r < n; r++) {
    const id = idOfRank[r]!;
    const name = names[id]!;
    // The length comes first: when it is known to fit one byte (ids under 43 units), the name is encoded
    // right after it; otherwise it is encoded past the worst-case length varint and moved back.
    if (name.length * 3 < 0x80) {
      const written = utf8.encodeInto(name, out.subarray(at + 1)).written;
      out[at] = written;
      at += 1 + written;
    } else {
      const written = utf8.encodeInto(name, out.subarray(at + 5)).written;
      const from = at + 5;
      varint(written);
      out.copyWithin(at, from, from + written);
      at += written;
    }
    varint(counts.get(id));
  }
  return { ranks, section: out.subarray(0, at) };
}

/**
 * Writes a shard's partial aggregate: item exposures of `table` and, for
 * cooc, the session pair counts: from `pairs` when it is a pair table, or,
 * given the limits, counted here row by row from the sessions (no pair
 * table: see {@link sessionPairRows}; the same bytes, several times less
 * CPU and memory). Deterministic bytes for the same partition. `items` is
 * `table`'s item section, when the caller writes several partials of it.
 * Returns the header written.
 * @since 0.1.0
 */
export async function writePartial(storage: ObjectStorage, key: string, input: PartialHeaderInput, table: EventTable, pairs?: PairCounter | Limits, items: PartialItems = partialItems(table)): Promise<PartialHeader> {
  const n = table.items.size;
  const { ranks, section } = items;
  if (ranks.length !== n) throw new Error(`the item section of ${n} items was made for ${ranks.length}`);
  // The pair section, as chunks: counted before anything is written (a limit may trip), and the header says how many.
  const body: Uint8Array[] = [];
  const sink = new VarintWriter(async (chunk) => {
    body.push(chunk);
  });
  const p = pairs === undefined ? 0 : pairs instanceof PairCounter ? await pairSectionOfTable(pairs, ranks, sink) : await sessionPairRows(table, ranks, pairs, sink);
  await sink.flush();
  const header: PartialHeader = { ...input, events: table.length, sessions: table.sessions.size, items: n, pairs: p };

  const writer = await storage.writer(key);
  try {
    await writer.write(new TextEncoder().encode(JSON.stringify(header) + '\n'));
    for (let at = 0; at < section.length; at += FLUSH_BYTES) await writer.write(section.subarray(at, at + FLUSH_BYTES));
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
    // Sorted in place: by insertion when short (most sessions: a view and a call into the builtin sort per session cost
    // more than sorting a handful of numbers), else by the builtin sort.
    if (to - from <= SHORT_SESSION) {
      for (let i = from + 1; i < to; i++) {
        const v = runs[i]!;
        let k = i - 1;
        for (; k >= from && runs[k]! > v; k--) runs[k + 1] = runs[k]!;
        runs[k + 1] = v;
      }
    } else runs.subarray(from, to).sort();
    let m = 0;
    for (let k = from; k < to; k++) if (k === from || runs[k] !== runs[k - 1]) runs[from + m++] = runs[k]!;
    // The message (the session's name) only when the limit trips: building it for every session cost more than the check.
    if (m > limits.max_items_per_session) checkLimit(limits, 'max_items_per_session', m, `session ${JSON.stringify(table.sessions.values[s])}`);
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
  // The b's first met for the current a, and the same as bits: a group is put in order by whichever is cheaper.
  let touched = new Uint32Array(1024);
  const bits = new Uint32Array((n >>> 5) + 1);
  let pairs = 0;
  let prevA = -1;
  for (let a = 0; a < n; a++) {
    const from = invStart[a]!;
    const to = invStart[a + 1]!;
    if (from === to) continue;
    let t = 0;
    let hi = a;
    for (let batch = from; batch < to; batch += TOUCH_STRETCHES) {
      const last = Math.min(to, batch + TOUCH_STRETCHES);
      // The first item of each stretch, loaded in a loop of its own: the stretches lie all over `runs` (one cache miss
      // each, most of this function's time), and the misses overlap only when nothing else runs between the loads.
      let acc = 0;
      for (let k = batch; k < last; k++) acc ^= runs[invFrom[k]!]!;
      touchSink.words ^= acc;
      for (let k = batch; k < last; k++) {
        const stop = invTo[k]!;
        for (let j = invFrom[k]!; j < stop; j++) {
          const b = runs[j]!;
          if (counts[b]!++ === 0) {
            if (t === touched.length) touched = grow(touched, t * 2);
            touched[t++] = b;
            bits[b >>> 5]! |= 1 << (b & 31);
            if (b > hi) hi = b;
          }
        }
      }
    }
    orderGroup(touched, t, bits, a, hi);
    out.varint(a - prevA);
    out.varint(t);
    prevA = a;
    let prevB = a;
    for (let k = 0; k < t; k++) {
      const b = touched[k]!;
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

/**
 * Stretches of {@link sessionPairRows} whose first items are loaded before
 * they are counted: enough cache misses in flight to overlap, few enough
 * lines to still be in cache when they are counted (as `FingerprintSet.addBlock`).
 */
const TOUCH_STRETCHES = 256;
/** Sessions of at most this many events are sorted by insertion in {@link sessionPairRows}. */
const SHORT_SESSION = 24;
/** What the loads ahead of the counting read, kept so that they are not dead code. */
const touchSink = { words: 0 };

/**
 * Puts `group[0, t)`, the distinct ranks in (`a`, `hi`] also set in `bits`, in
 * ascending order, and clears their bits. A popular item's group holds a good
 * share of all items: reading them off the bit set costs a word per 32 ranks
 * of the span (about 1 ns each, mostly zero), where sorting them cost about
 * 30 ns per rank (a third of the
 * pair rows' CPU at 5 M events); a small group is sorted as before.
 */
function orderGroup(group: Uint32Array, t: number, bits: Uint32Array, a: number, hi: number): void {
  const first = (a + 1) >>> 5;
  const last = hi >>> 5;
  if (last - first + 1 <= t * 32) {
    let k = 0;
    for (let w = first; w <= last; w++) {
      let word = bits[w]!;
      if (word === 0) continue;
      bits[w] = 0;
      const base = w << 5;
      while (word !== 0) {
        const low = word & -word;
        group[k++] = base + 31 - Math.clz32(low);
        word ^= low;
      }
    }
    return;
  }
  for (let k = 0; k < t; k++) bits[group[k]! >>> 5] = 0;
  if (t <= 16) {
    for (let i = 1; i < t; i++) {
      const v = group[i]!;
      let j = i - 1;
      for (; j >= 0 && group[j]! > v; j--) group[j + 1] = group[j]!;
      group[j + 1] = v;
    }
  } else group.subarray(0, t).sort();
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

/** Receives a partial's items as the ids' UTF-8 bytes `buf[at, at + len)` (see {@link readPartial}). @since 0.7.0 */
export type ItemBytesVisitor = (index: number, buf: Uint8Array, at: number, len: number, exposures: number) => void;

/**
 * Where {@link readPartial} writes a partial's pairs instead of calling
 * `visitor.pair` for each: pair (a, b, count) becomes (local[a], local[b],
 * count) in `grouped`, decoded straight into its columns (the merge's
 * hottest loop, no call per pair). The mapped pairs must come out strictly
 * ascending by (x, y) with x < y; a pair that does not is refused through
 * `outOfOrder(a, b)`.
 * @since 0.8.0
 */
export interface PairColumnsSink {
  readonly grouped: GroupedPairs;
  readonly local: Uint32Array;
  outOfOrder(a: number, b: number): never;
  /**
   * When set, flags by mapped item: only the pairs with `touching[x]` or
   * `touching[y]` set are written (every pair is still decoded and checked).
   * @since 0.10.0
   */
  readonly touching?: Uint8Array;
}

/**
 * Streams a whole partial into `visitor`, checking every entry (indices in
 * range and ascending, counts ≥ 1, varints of at most 32 bits) and the entry
 * totals announced by the header. With `itemsOnly`, stops reading once the
 * items are in (the pair section is neither read nor checked). With
 * `itemBytes`, items go there instead of to `visitor.item`, as the id's
 * UTF-8 bytes (`buf[at, at + len)`, valid during the call only), neither
 * decoded nor checked to be UTF-8: the caller does what it needs of that.
 * With `pairsInto`, pairs go there instead of to `visitor.pair`, with the
 * same checks (see {@link PairColumnsSink}).
 * @since 0.1.0
 */
export async function readPartial(storage: ObjectStorage, key: string, visitor: PartialVisitor, options: { readonly itemsOnly?: boolean; readonly itemBytes?: ItemBytesVisitor; readonly pairsInto?: PairColumnsSink } = {}): Promise<PartialHeader> {
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
      body = new BodyDecoder(header, visitor, uri, line.length + 1, options.itemBytes, options.pairsInto);
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
  /** With a {@link PairColumnsSink}: the previous pair's mapped b (or the group's mapped a). */
  private prevY = 0;
  /** With a sink's `touching`: 1 when the current group's mapped a is touched (every pair of it is kept). */
  private keepGroup = 1;
  /** With a sink: its `local`, with bit 31 set for the touched items (see {@link decode}). */
  private flagged: Uint32Array | undefined;
  /** Bytes of the object before the current buffer (for messages). */
  private offset: number;
  /** Where the varint read by {@link varint} ends. */
  private next = 0;

  constructor(
    private readonly header: PartialHeader,
    private readonly visitor: PartialVisitor,
    private readonly uri: string,
    offset: number,
    private readonly itemBytes?: ItemBytesVisitor,
    private readonly sink?: PairColumnsSink,
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
      if (this.itemBytes) {
        this.itemBytes(this.items++, buf, at, len, exposures);
        p = this.next;
        continue;
      }
      let id: string;
      try {
        id = strictUtf8.decode(buf.subarray(at, at + len));
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
    // With a sink: its columns, where the next pair goes, the previous mapped y (above the group's x).
    const sink = this.sink;
    const grouped = sink?.grouped;
    const local = sink ? sink.local : EMPTY_U32;
    let ys = grouped ? grouped.y : EMPTY_U32;
    let cs = grouped ? grouped.counts : EMPTY_U32;
    let i = grouped ? grouped.size : 0;
    let prevY = this.prevY;
    const touching = sink?.touching;
    const filtering = touching !== undefined;
    // Each b's mapped y, with bit 31 set when y is touched: one load a pair tells both (ranks are below 2^31).
    const flagged = (this.flagged ??= touching ? Uint32Array.from(local, (y) => (touching[y] === 1 ? (y | 0x80000000) >>> 0 : y)) : local);
    let keepGroup = this.keepGroup;
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
        if (grouped) {
          grouped.size = i;
          // A group not above the previous one is refused at its first pair, which names the pair: nothing is above 2^32.
          prevY = grouped.openGroup(local[a]!, m) ? local[a]! : 2 ** 32;
          keepGroup = !filtering || touching[local[a]!] === 1 ? 1 : 0;
          ys = grouped.y;
          cs = grouped.counts;
        }
        continue;
      }
      // The pair's two varints; `at` is where a malformed entry is reported.
      let db: number;
      let c: number;
      let at: number;
      if (end - p >= 10) {
        // Fast path: two whole varints (at most 5 bytes each) are surely here.
        let x = buf[p++]!;
        db = x & 0x7f;
        for (let scale = 128; x >= 0x80; scale *= 128) {
          x = buf[p++]!;
          db += (x & 0x7f) * scale;
          if (scale > 2 ** 28) this.bad(p, 'a number over 32 bits');
        }
        x = buf[p++]!;
        c = x & 0x7f;
        for (let scale = 128; x >= 0x80; scale *= 128) {
          x = buf[p++]!;
          c += (x & 0x7f) * scale;
          if (scale > 2 ** 28) this.bad(p, 'a number over 32 bits');
        }
        if (db > 0xffffffff || c > 0xffffffff) this.bad(p, 'a number over 32 bits');
        at = p;
      } else {
        db = this.varint(buf, p);
        if (db < 0) break;
        c = this.varint(buf, this.next);
        if (c < 0) break;
        at = p;
        p = this.next;
      }
      const b = prevB + db;
      if (db === 0 || b >= items || c === 0) this.bad(at, 'malformed pair entry');
      if (grouped) {
        const v = flagged[b]!;
        const y = v & 0x7fffffff;
        if (y <= prevY) sink!.outOfOrder(a, b);
        // Written always, kept by moving on (no branch to mispredict: about half the pairs of a filtered day go).
        ys[i] = y;
        cs[i] = c;
        i += keepGroup | (v >>> 31);
        prevY = y;
        // A filtered group ends where its last kept pair does (and is dropped when it kept none).
        if (filtering && left === 1) grouped.endGroup(i);
      } else visitor.pair(a, b, c);
      prevB = b;
      left--;
      pairs++;
    }
    if (grouped) grouped.size = i;
    this.prevY = prevY;
    this.keepGroup = keepGroup;
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

/** One partial's items as read: the ids' UTF-8 bytes end to end, where each starts and ends, their exposures. */
class ItemSection {
  bytes = new Uint8Array(1 << 12);
  /** Bytes used. */
  size = 0;
  /** Items read. */
  count = 0;
  /** `starts[i]`..`starts[i + 1]`: item i's bytes. */
  starts: Uint32Array;
  exposures: Uint32Array;

  constructor(
    readonly uri: string,
    expected: number,
  ) {
    this.starts = new Uint32Array(expected + 1);
    this.exposures = new Uint32Array(expected);
  }

  /** Appends item `index` (they come in order), refusing it unless its id is after the previous one in UTF-8 order. */
  add(index: number, buf: Uint8Array, at: number, len: number, exposures: number): void {
    const i = this.count;
    if (index !== i) throw new Error(`items out of sequence: ${index} after ${i}`);
    if (i === this.exposures.length) {
      const starts = new Uint32Array(2 * i + 2);
      starts.set(this.starts);
      this.starts = starts;
      const more = new Uint32Array(2 * i + 1);
      more.set(this.exposures);
      this.exposures = more;
    }
    if (this.size + len > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(2 * this.bytes.length, this.size + len));
      bigger.set(this.bytes.subarray(0, this.size));
      this.bytes = bigger;
    }
    const bytes = this.bytes;
    const from = this.size;
    bytes.set(buf.subarray(at, at + len), from);
    if (i > 0 && compareBytes(bytes, this.starts[i - 1]!, from, bytes, from, from + len) >= 0) {
      throw new IntegrityError(`partial ${this.uri}: item ${JSON.stringify(lenientUtf8.decode(buf.subarray(at, at + len)))} (entry ${index}) is not after the previous one in UTF-8 order`, { uri: this.uri });
    }
    this.size = from + len;
    this.starts[i + 1] = this.size;
    this.exposures[i] = exposures;
    this.count = i + 1;
  }
}

/** `a[aFrom, aTo)` against `b[bFrom, bTo)` in byte order (= UTF-8 order of the ids they hold). */
function compareBytes(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array, bFrom: number, bTo: number): number {
  const n = Math.min(aTo - aFrom, bTo - bFrom);
  for (let k = 0; k < n; k++) {
    const d = a[aFrom + k]! - b[bFrom + k]!;
    if (d !== 0) return d;
  }
  return aTo - aFrom - (bTo - bFrom);
}

/**
 * The day's items from the partials' item sections, each already in UTF-8
 * order: a k-way merge of their ids' bytes (byte order is UTF-8 order), with
 * no string per entry and no hashing. Gives each partial's items' ranks among
 * the day's items, the summed exposures and the day's ids, each decoded once.
 */
function mergeItemSections(sections: readonly ItemSection[]): { names: string[]; exposures: U32Counts; local: Uint32Array[]; bytes: Uint8Array; starts: Uint32Array } {
  const k = sections.length;
  let most = 0;
  let room = 0;
  for (const s of sections) {
    most += s.count;
    room += s.size;
  }
  const out = new Uint8Array(room);
  const starts = new Uint32Array(most + 1);
  const sums = new Uint32Array(most);
  const local = sections.map((s) => new Uint32Array(s.count));
  const pos = new Uint32Array(k);
  // A binary heap of the sections with items left, by their next id.
  const heap: number[] = [];
  const before = (p: number, q: number): boolean => {
    const a = sections[p]!;
    const b = sections[q]!;
    const c = compareBytes(a.bytes, a.starts[pos[p]!]!, a.starts[pos[p]! + 1]!, b.bytes, b.starts[pos[q]!]!, b.starts[pos[q]! + 1]!);
    return c < 0 || (c === 0 && p < q);
  };
  const down = (at: number): void => {
    for (;;) {
      const l = 2 * at + 1;
      if (l >= heap.length) return;
      const m = l + 1 < heap.length && before(heap[l + 1]!, heap[l]!) ? l + 1 : l;
      if (!before(heap[m]!, heap[at]!)) return;
      [heap[m], heap[at]] = [heap[at]!, heap[m]!];
      at = m;
    }
  };
  for (let p = 0; p < k; p++) if (sections[p]!.count > 0) heap.push(p);
  for (let at = (heap.length >> 1) - 1; at >= 0; at--) down(at);
  let r = 0;
  let size = 0;
  while (heap.length > 0) {
    const p = heap[0]!;
    const s = sections[p]!;
    const i = pos[p]!;
    const from = s.starts[i]!;
    const to = s.starts[i + 1]!;
    // Equal ids come one after another: the same id as the last one out is the same item.
    if (r === 0 || compareBytes(s.bytes, from, to, out, starts[r - 1]!, size) !== 0) {
      out.set(s.bytes.subarray(from, to), size);
      size += to - from;
      starts[++r] = size;
    }
    local[p]![i] = r - 1;
    sums[r - 1]! += s.exposures[i]!;
    pos[p] = i + 1;
    if (i + 1 === s.count) {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    down(0);
  }
  const bytes = out.subarray(0, size);
  const exposures = new U32Counts();
  exposures.reserve(r);
  exposures.data.set(sums.subarray(0, r));
  const names = new Array<string>(r);
  const notUtf8 = (rank: number): never => {
    const p = local.findIndex((ranks) => ranks.includes(rank));
    const uri = sections[p]!.uri;
    throw new IntegrityError(`partial ${uri}: item (entry ${local[p]!.indexOf(rank)}) is not UTF-8`, { uri });
  };
  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && text.length === size) {
    // ASCII only (the usual case): one decode, byte offsets are string offsets.
    for (let q = 0; q < r; q++) names[q] = text.slice(starts[q]!, starts[q + 1]!);
  } else {
    for (let q = 0; q < r; q++) {
      try {
        names[q] = strictUtf8.decode(bytes.subarray(starts[q]!, starts[q + 1]!));
      } catch {
        notUtf8(q);
      }
    }
  }
  return { names, exposures, local, bytes, starts: starts.subarray(0, r + 1) };
}

/** Whether two partials' item sections hold the same ids and exposures. */
function sameSection(a: ItemSection, b: ItemSection): boolean {
  if (a.count !== b.count || a.size !== b.size) return false;
  const bytesA = a.bytes.subarray(0, a.size);
  const bytesB = b.bytes.subarray(0, b.size);
  for (let i = 0; i < a.size; i++) if (bytesA[i] !== bytesB[i]) return false;
  for (let i = 0; i <= a.count; i++) if (a.starts[i] !== b.starts[i]) return false;
  for (let i = 0; i < a.count; i++) if (a.exposures[i] !== b.exposures[i]) return false;
  return true;
}

/**
 * The day's items as merged for one artifact type, for the next type of the
 * same day: a shard's partials of every type list the same items (one
 * table), so when the next type's item sections are the very same bytes the
 * day's items are taken as they are instead of being merged, decoded and
 * interned again. Pass one to every {@link mergePartials} of a day.
 * @since 0.8.0
 */
export class DayItems {}

/** What a {@link DayItems} holds: the last merged type's item sections and the day's items made of them. */
const dayItemsOf = new WeakMap<DayItems, { readonly sections: readonly ItemSection[]; readonly day: ReturnType<typeof mergeItemSections>; readonly items: Interner; readonly ranks: Uint32Array }>();

/**
 * Sums the partials of one window, in shard order (the headers must have
 * been checked to form a complete, consistent set). First the item sections
 * of every partial (not their pairs) give the day's items in UTF-8 order
 * (a k-way merge of their ids' bytes, see {@link mergeItemSections}); then
 * each partial's pairs, mapped to those ranks, are already sorted (every
 * shard lists its items in the same order), so they are summed by a
 * k-way merge ({@link mergeGroupedPairs}) instead of a hash table. A
 * partial whose items are not in strictly ascending UTF-8 order (or whose
 * items changed between the two reads) is refused as an integrity error:
 * its pairs could not be merged in order. With `pairItems`, only the pairs
 * that touch the items it flags (given the day's exposures) are kept
 * (`pairs.touching`).
 * @since 0.1.0
 */
export async function mergePartials(storage: ObjectStorage, partialKeys: readonly string[], headers: readonly PartialHeader[], shared?: DayItems, pairItems?: (exposure: ItemExposure) => Uint8Array | undefined): Promise<MergedPartials> {
  const hasPairs = headers.map((h) => h.pairs > 0);
  const sections: ItemSection[] = [];
  for (let k = 0; k < partialKeys.length; k++) {
    const key = partialKeys[k]!;
    const section = new ItemSection(storage.uri(key), headers[k]!.items);
    // A partial without pairs is whole once its items are in: read (and checked) completely here.
    await readPartial(storage, key, { item() {}, pair() {} }, { itemsOnly: hasPairs[k]!, itemBytes: (index, buf, at, len, n) => section.add(index, buf, at, len, n) });
    sections.push(section);
  }
  const last = shared ? dayItemsOf.get(shared) : undefined;
  let day: ReturnType<typeof mergeItemSections>;
  let items: Interner;
  let ranks: Uint32Array;
  if (last && last.sections.length === sections.length && sections.every((section, k) => sameSection(section, last.sections[k]!))) ({ day, items, ranks } = last);
  else {
    day = mergeItemSections(sections);
    const n = day.names.length;
    items = new Interner();
    for (const name of day.names) items.intern(name);
    ranks = new Uint32Array(n);
    for (let r = 0; r < n; r++) ranks[r] = r;
    if (shared) dayItemsOf.set(shared, { sections, day, items, ranks });
  }
  // The pairs the caller needs, when not all (the others are decoded and checked, not kept).
  const touching = pairItems?.({ names: items.values, counts: day.exposures.data, ranks });
  const pairs: GroupedPairs[] = [];
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
    const local = day.local[k]!;
    const { bytes, starts } = day;
    const changed = (): never => {
      throw new IntegrityError(`partial ${uri} changed while merging: its items are not those it held at first`, { uri });
    };
    const grouped = new GroupedPairs(header.pairs);
    const again = await readPartial(
      storage,
      key,
      { item() {}, pair() {} },
      {
        pairsInto: {
          grouped,
          local,
          ...(touching ? { touching } : {}),
          outOfOrder(a, b) {
            throw new IntegrityError(`partial ${uri}: pair (${a}, ${b}) is out of order`, { uri });
          },
        },
        // The items were merged from the first read: each must be the one read then.
        itemBytes(index, buf, at, len) {
          if (index >= local.length) changed();
          const r = local[index]!;
          if (compareBytes(buf, at, at + len, bytes, starts[r]!, starts[r + 1]!) !== 0) changed();
        },
      },
    );
    if (again.items !== local.length) changed();
    pairs.push(grouped);
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
  return { items, ranks, exposures: day.exposures, pairs: mergeGroupedPairs(pairs, touching), events, sessions, counts, inputs };
}

/** Parses `<i>-of-<n>.json` (the last part of a partial key). @since 0.1.0 */
export function shardOfPartialKey(key: string): ShardSpec | undefined {
  const m = /(?:^|\/)(\d+)-of-(\d+)\.json$/.exec(key);
  return m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
}
