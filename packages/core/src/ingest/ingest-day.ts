import type { PipelineEnv } from '../pipeline-env.js';
import { concatBytes } from '../bytes.js';
import type { Scope } from '../keys.js';
import { NO_USER, type EventTable } from '../compute/event-table.js';
import { shardOfSession, type ShardSpec } from '../shard.js';
import { FingerprintSet, randomFingerprintKey } from './fingerprint-set.js';
import { MAX_LINE_BYTES, TOO_LONG_PREFIX_BYTES, splitLines } from './line-splitter.js';
import { canonicalLine, checkRawEvent } from './raw-event.js';
import { RAW_CHUNK_BYTES, isRecordReject, noRawInputError, rawInputsForDay, type RawInputChunk, type RawRecordReject } from './raw-source.js';
import { DayOutputs, type IngestCounts, type IngestReport } from './day-outputs.js';
import { LocalDictionary, chunkSessionShards, parseChunk, type ChunkContext, type ChunkResult } from './chunk-parser.js';
import type { ObjectStorage, ParsePool, ReadBuffers } from '../ports.js';
import { openRawPiece, planRawParts, type RawPartPlan, type RawPiece } from './raw-parts.js';
import { BucketOutputs, type BucketInfo, type PartLinesTarget, type PartPartition } from './bucket-outputs.js';
import { SpilledDedupe, dedupePlan } from './spilled-dedupe.js';

export type { IngestCounts, IngestReport } from './day-outputs.js';

/** A pool that parses on the calling thread (small inputs, tests, browsers). @since 0.1.0 */
export function inProcessParsePool(): ParsePool {
  const dict = new LocalDictionary(0);
  // A chunk is parsed as it is posted: a second one waiting would only hold its result's memory longer.
  return { parse: async (chunk, ctx) => parseChunk(chunk, ctx, dict), depth: 1 };
}

/** Options of {@link ingestDay}. @since 0.1.0 */
export interface IngestOptions {
  /** Keep only the sessions of this shard. */
  readonly shard?: ShardSpec | undefined;
  /** Where the partition goes (sharded ingest writes one per shard); default: the day's partition. */
  readonly partitionKey?: string | undefined;
  /** Parser pool (worker threads); default: parse on this thread. */
  readonly pool?: ParsePool | undefined;
  /** Raw bytes per parse chunk (default 4 MiB, {@link RAW_CHUNK_BYTES}); a read chunk of whole lines at least this big is a chunk as it came. */
  readonly chunkBytes?: number | undefined;
  /**
   * Sharded ingest (DESIGN §7): read only part `part.index` of `part.count`
   * of the day's raw input ({@link planRawParts}) and write its events into
   * `part.count` session-hash buckets instead of a canonical partition.
   */
  readonly part?: IngestPartTarget | undefined;
}

/** Where one ingest part writes its buckets and quarantine. @since 0.4.0 */
export interface IngestPartTarget {
  readonly index: number;
  readonly count: number;
  readonly storage: ObjectStorage;
  readonly bucketKey: (bucket: number) => string;
  readonly quarantineKey: string;
  /** Only with `count` 1: the part writes its lines straight into this shard partition, its bucket only the ids (BucketOutputs). @since 0.15.0 */
  readonly lines?: PartLinesTarget | undefined;
}

/** What one ingest part read and wrote. @since 0.4.0 */
export interface IngestPartOutcome {
  readonly mode: RawPartPlan['mode'];
  /** Every raw input of the day (every part lists the same ones). */
  readonly inputs: { readonly uri: string; readonly size?: number }[];
  /** The pieces this part read, with the physical lines of each (to number quarantined lines of later parts). */
  readonly pieces: { readonly uri: string; readonly start?: number; readonly end?: number; readonly lines: number; readonly bytes: number }[];
  readonly buckets: BucketInfo[];
  /** With {@link IngestPartTarget.lines}: the shard partition it wrote. @since 0.15.0 */
  readonly partition?: PartPartition;
}

/** Report of an ingested day, and with {@link IngestOptions.part} what the part read and wrote. @since 0.4.0 */
export type IngestDayOutcome = IngestReport & { readonly part?: IngestPartOutcome };

/** What ingest's queue holds, in input order: a parse in flight, an over-long line, a rejected record. */
type Queued = { result: Promise<ChunkResult>; big: boolean; ready: boolean } | { tooLong: { prefix: Uint8Array; bytes: number } } | { record: RawRecordReject };

/**
 * Bytes of the duplicate table the main thread has the system map at a time
 * while it waits for a parse ({@link FingerprintSet.prefault}); between two
 * such steps it lets the event loop take the answer, should it have come.
 */
const PREFAULT_BYTES = 4 << 20;

/** A turn of the event loop (a worker's answer is taken there). */
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A block of whole lines, or an over-long line found while cutting blocks. */
type Block = { kind: 'block'; bytes: Uint8Array } | { kind: 'too_long'; prefix: Uint8Array; bytes: number } | { kind: 'record'; reject: RawRecordReject };

/**
 * Cuts a byte stream into blocks of whole lines of about `target` bytes. A
 * block's buffer is its own, so the parse pool can transfer it to a worker:
 * a fresh copy of the stream's bytes, or — for a stream chunk of at least
 * `target` bytes that owns its buffer (a file read into a buffer of its own)
 * — a view of the chunk from its first whole line to its last newline, not
 * copied; the bytes around it are copied out first (the line the chunk
 * finishes goes out as a block of its own with what came before it). A line
 * longer than the 1 MiB limit is never buffered whole: it is reported with
 * its first bytes and skipped. A chunk read into the parse pool's buffers
 * (`into`) is such a view whatever its size (the pool chose the read's size
 * with the buffer, and keeps the buffer it parses), unless it holds no whole
 * line; otherwise its bytes are copied before the next chunk is asked for,
 * which hands its buffer back for the next read.
 */
async function* lineBlocks(stream: AsyncIterable<RawInputChunk>, target: number, into?: ReadBuffers): AsyncGenerator<Block> {
  let parts: Uint8Array[] = [];
  let size = 0;
  // `last`: the line's last byte so far; a final \r is not part of the line (as in splitLines).
  let skipping: { prefix: Uint8Array; bytes: number; last: number } | undefined;
  for await (const item of stream) {
    if (isRecordReject(item)) {
      // Sources yield rejected records between whole lines: flush what came before, keeping input order.
      if (skipping) yield { kind: 'too_long', prefix: skipping.prefix, bytes: skipping.bytes - (skipping.last === 13 ? 1 : 0) };
      else if (size > 0) yield { kind: 'block', bytes: concatBytes(parts, size) };
      skipping = undefined;
      parts = [];
      size = 0;
      yield { kind: 'record', reject: item };
      continue;
    }
    let chunk = item;
    if (skipping) {
      const nl = chunk.indexOf(10);
      if (nl === -1) {
        skipping.bytes += chunk.length;
        if (chunk.length > 0) skipping.last = chunk[chunk.length - 1]!;
        continue;
      }
      const cr = (nl > 0 ? chunk[nl - 1] : skipping.last) === 13 ? 1 : 0;
      yield { kind: 'too_long', prefix: skipping.prefix, bytes: skipping.bytes + nl - cr };
      skipping = undefined;
      chunk = chunk.subarray(nl + 1);
    }
    const pooled = into?.owns(chunk) === true;
    if (pooled || (chunk.length >= target && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength)) {
      const first = chunk.indexOf(10);
      if (first !== -1) {
        const last = chunk.lastIndexOf(10);
        let from = 0;
        if (size > 0) {
          // The line that this chunk finishes, with whatever came before it.
          parts.push(chunk.subarray(0, first + 1));
          yield { kind: 'block', bytes: concatBytes(parts, size + first + 1) };
          from = first + 1;
        }
        // Copied before the chunk's buffer goes to the parser with the block (a copy: on a Node Buffer,
        // `slice` would be a view).
        const rest = new Uint8Array(chunk.subarray(last + 1));
        // A plain Uint8Array over the chunk's bytes, not a Node Buffer's subarray: the parser then sees one kind
        // of array whatever the source (V8 compiled it again for a second kind).
        if (last + 1 > from) yield { kind: 'block', bytes: new Uint8Array(chunk.buffer, chunk.byteOffset + from, last + 1 - from) };
        parts = rest.length > 0 ? [rest] : [];
        size = rest.length;
        continue;
      }
    }
    // Kept past this chunk: a copy of a pooled one (its buffer serves the next read).
    parts.push(pooled ? new Uint8Array(chunk) : chunk);
    size += chunk.length;
    if (size < target) continue;
    // Cut after the last newline of what we have.
    let cut = -1;
    let offset = size;
    for (let p = parts.length - 1; p >= 0 && cut === -1; p--) {
      offset -= parts[p]!.length;
      const nl = parts[p]!.lastIndexOf(10);
      if (nl !== -1) cut = offset + nl + 1;
    }
    if (cut === -1) {
      if (size > MAX_LINE_BYTES + 1) {
        const all = concatBytes(parts, size);
        skipping = { prefix: all.slice(0, TOO_LONG_PREFIX_BYTES), bytes: size, last: all[size - 1]! };
        parts = [];
        size = 0;
      }
      continue;
    }
    // The block gets a buffer of its own, exactly its size (a worker takes it over without a copy); the rest stays a view.
    const block = new Uint8Array(cut);
    const rest: Uint8Array[] = [];
    let at = 0;
    for (const p of parts) {
      if (at >= cut) rest.push(p);
      else if (at + p.length <= cut) block.set(p, at);
      else {
        block.set(p.subarray(0, cut - at), at);
        rest.push(p.subarray(cut - at));
      }
      at += p.length;
    }
    yield { kind: 'block', bytes: block };
    parts = rest;
    size -= cut;
  }
  if (skipping) yield { kind: 'too_long', prefix: skipping.prefix, bytes: skipping.bytes - (skipping.last === 13 ? 1 : 0) };
  else if (size > 0) yield { kind: 'block', bytes: concatBytes(parts, size) };
}


/** Where {@link keepEvents} puts kept events: the event table, with the chunk dictionary's ids translated. */
interface TableSink {
  /** The table's id of each of the parser dictionary's items / users, and of each of the chunk's sessions. */
  readonly items: readonly number[];
  readonly users: readonly number[];
  readonly sessions: Uint32Array;
  /** Room for the chunk's events reserved. */
  readonly table: EventTable;
}

/**
 * The per-event loop of a chunk's merge (locals and typed arrays only):
 * drops events of other shards and duplicates (counted in
 * `counts.duplicates`; the index of every dropped event goes to `dropped`),
 * writes the kept ones into the table's columns after its current rows and
 * counts their items; returns how many were kept. The caller sets the
 * columns' lengths and writes the kept lines.
 *
 * A function of its own that returns right after its loop: V8 compiles the
 * loop while a big chunk runs it (on-stack replacement), and code after the
 * loop that had not run yet when that compile started throws the compiled
 * code away on its first use. With the loop inside the merge, that happened
 * three to five times per 1M-event day (each one a compile of the whole
 * merge, and the loop interpreted until the next one).
 */
function keepEvents(r: ChunkResult, seen: FingerprintSet | SpilledDedupe, shardOk: Uint16Array | undefined, counts: IngestCounts, dropped: number[], sink: TableSink | undefined): number {
  const { session, item, user, secondsMs, nanos, fp } = r;
  const n = r.events;
  // Duplicates first, for the whole chunk at once (FingerprintSet.addBlock overlaps the table's cache misses);
  // events of other shards never enter the set.
  const keep = keepFlags(n);
  if (shardOk) for (let k = 0; k < n; k++) keep[k] = shardOk[session[k]!]!;
  else keep.fill(1, 0, n);
  counts.duplicates += seen.addBlock(fp, n, keep);
  const table = sink?.table;
  const items = sink?.items;
  const users = sink?.users;
  const sessions = sink?.sessions;
  const tItem = table?.item.data;
  const tSession = table?.session.data;
  const tUser = table?.hasUsers ? table.user.data : undefined;
  const tSeconds = table?.hasInstants ? table.secondsMs.data : undefined;
  const tNanos = table?.hasInstants ? table.nanos.data : undefined;
  const itemCounts = table?.itemCounts.data;
  let rows = table ? table.item.length : 0;
  let kept = 0;
  for (let k = 0; k < n; k++) {
    if (keep[k] === 0) {
      dropped.push(k);
    } else {
      kept++;
      if (tItem) {
        const it = items![item[k]!]!;
        tItem[rows] = it;
        itemCounts![it]!++;
        tSession![rows] = sessions![session[k]!]!;
        if (tUser) {
          const u = user[k]!;
          tUser[rows] = u === NO_USER ? NO_USER : users![u]!;
        }
        if (tSeconds) {
          tSeconds[rows] = secondsMs[k]!;
          tNanos![rows] = nanos[k]!;
        }
        rows++;
      }
    }
  }
  return kept;
}

let keepScratch = new Uint8Array(1 << 15);

/** A chunk's keep flags, one byte per event: scratch reused by every {@link keepEvents} (which does not await). */
function keepFlags(n: number): Uint8Array {
  if (keepScratch.length < n) keepScratch = new Uint8Array(n);
  return keepScratch;
}

const lossy = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
let streamCounter = 0;

/**
 * Ingests one UTC day (DESIGN §5.2): streams every raw source, validates and
 * normalises each line, keeps this tenant/surface/day, drops exact
 * duplicates, and atomically replaces the day's canonical partition (empty
 * when nothing was accepted) and quarantine file. Accepted events are also
 * fed to `table`, so `run` computes artifacts without re-reading the
 * partition.
 *
 * Lines are parsed in blocks by `options.pool` (worker threads in the CLI)
 * and merged here in input order: the output is byte-identical to the
 * line-by-line {@link ingestDayReference}.
 * @since 0.1.0
 */
export async function ingestDay(env: PipelineEnv, scope: Scope, day: string, table?: EventTable, options: IngestOptions = {}): Promise<IngestDayOutcome> {
  return (await readDay(env, scope, day, table, options)).committed;
}

/** A day read whose outputs are still being committed ({@link ingestDayCommitting}). @since 0.9.0 */
export interface IngestCommitting {
  /** The day's counts, final. */
  readonly counts: IngestCounts;
  /** The report once the partition and quarantine are committed; rejects where {@link ingestDay} would have. */
  readonly committed: Promise<IngestDayOutcome>;
}

/**
 * {@link ingestDay} that returns once every line is read and merged into
 * `table`, with the counts: the canonical partition's commit (its fsync and
 * its write check, which reads every byte back) goes on in `committed`, so
 * the caller can compute from `table` meanwhile. Whatever depends on the
 * partition (its report, the version records that name it) must wait for
 * `committed`; so must the caller before it fails, since a failed commit is
 * the day's first error. Sharded ingest and a spilled duplicate table commit
 * before this returns.
 * @since 0.9.0
 */
export async function ingestDayCommitting(env: PipelineEnv, scope: Scope, day: string, table?: EventTable, options: IngestOptions = {}): Promise<IngestCommitting> {
  return readDay(env, scope, day, table, options);
}

async function readDay(env: PipelineEnv, scope: Scope, day: string, table: EventTable | undefined, options: IngestOptions): Promise<IngestCommitting> {
  const { areas, logger } = env;
  const pool = options.pool ?? inProcessParsePool();
  const inputs = await rawInputsForDay(areas.raw, env.rawSource, scope, day);
  // No input at all is a wrong path or a missing delivery (exit 2, nothing written), not an empty day.
  if (!env.rawSource && inputs.length === 0) throw noRawInputError(areas.raw, scope, [day], env.rawSourceKey);
  const part = options.part;
  const plan = part ? planRawParts(inputs, part.count) : undefined;
  const pieces: RawPiece[] = plan ? plan.parts[part!.index]! : inputs.map((input) => ({ input }));
  const out = part ? DayOutputs.openPart(env, scope, day, { storage: part.storage, key: part.quarantineKey }) : await DayOutputs.open(env, scope, day, options.partitionKey);
  // Sessions are hashed where they are parsed, under the key of the dictionary that interns them by that hash: the
  // table's, or an ingest part's (its buckets' sessions).
  const sessionKey = table?.sessions.key ?? randomFingerprintKey();
  const buckets = part ? new BucketOutputs(part.storage, part.bucketKey, part.count, env.crc32, { tenant: scope.tenant, surface: scope.surface, day, part: { index: part.index, count: part.count } }, sessionKey, part.lines) : undefined;
  const pieceStats: { uri: string; start?: number; end?: number; lines: number; bytes: number }[] = [];
  const counts = out.counts;
  const fpKey = randomFingerprintKey();
  // Sized for the raw bytes so the table seldom grows while it is largest. Raw events are ~100–200 bytes; guessing
  // low (160) costs at most one doubling, guessing high would hold up to twice the memory all day. Unknown sizes start small.
  const rawBytes = pieces.reduce((sum, p) => sum + (p.range ? p.range.end - p.range.start : (p.input.size ?? 0)), 0);
  const expectedEvents = Math.floor(rawBytes / 160);
  // More than one chunk to parse: the pool's threads start now, while the duplicate table is made and the first chunks read.
  if (rawBytes > (options.chunkBytes ?? RAW_CHUNK_BYTES)) pool.warm?.();
  // Past the memory budget the duplicate table goes to local scratch and duplicates are removed after the day is read.
  const dedupe = buckets ? ({ spill: false } as const) : dedupePlan(expectedEvents, env.spill?.memoryBudget);
  // The random key makes the prefix unique to this ingest (two runs may share a scratch folder).
  const spillPrefix = `ingest-${day}-${fpKey[0].toString(16)}${fpKey[1].toString(16)}`;
  const seen = dedupe.spill ? new SpilledDedupe(env.spill!.scratch, spillPrefix, dedupe.partitions) : new FingerprintSet(Math.max(1 << 16, expectedEvents), fpKey);
  if (dedupe.spill) {
    await out.spoolTo(env.spill!.scratch, `${spillPrefix}/partition.jsonl`);
    logger.info({ day, expected_events: expectedEvents, memory_budget: env.spill!.memoryBudget, partitions: dedupe.partitions, scratch: env.spill!.scratch.location }, 'duplicate table spilled to scratch (past a quarter of the memory budget)');
  }
  const rowBase = table?.length ?? 0;
  // The table's columns sized for the day before its first merge. Grown from 1024 rows by doubling, each column was
  // copied ~13 times (1M events) to ~16 (5M), every copy into fresh memory: at 5M ~25k of the run's ~120k page faults
  // (each ~16 µs of CPU on a host with costly faults), against ~10k for the rows themselves. A low guess costs one
  // doubling at most, as before; a high one only address space (pages never written are not mapped).
  table?.reserve(expectedEvents);
  // Users are interned only for a table with the user column (an artifact that reads them): an ingest part's buckets,
  // a table without the column and a plain ingest keep none, and the parse skips their dictionary.
  const ctx: ChunkContext = { stream: `${day}#${++streamCounter}#${Math.random()}`, tenant: scope.tenant, surface: scope.surface, day, fpKey, sessionKey, ...(table?.hasUsers === true ? {} : { users: false }) };
  // Per parser dictionary: local ids → ids of `table`, and whether each local session is in our shard.
  // Sessions are numbered per chunk (see LocalDictionary.takeNew); items and users per dictionary.
  const translate = new Map<number, { items: number[]; users: number[] }>();
  const shard = options.shard;

  const merge = async (source: string, lineBase: number, r: ChunkResult) => {
    counts.read += r.read;
    counts.other_scope += r.otherScope;
    counts.out_of_window += r.outOfWindow;
    for (const j of r.rejects) await out.reject(source, lineBase + j.line, j.reason, j.detail, j.raw, j.truncated === true);
    const fp = r.fp;
    let t = translate.get(r.dictId);
    if (!t) translate.set(r.dictId, (t = { items: [], users: [] }));
    let sessions: Uint32Array | undefined;
    if (table) {
      // The chunk's sessions by their bytes and the worker's hash: no string per session.
      const { sessionBytes, sessionEnds, sessionHashes } = r;
      const dict = table.sessions;
      sessions = new Uint32Array(sessionEnds.length);
      let from = 0;
      for (let k = 0; k < sessionEnds.length; k++) {
        const to = sessionEnds[k]!;
        sessions[k] = dict.internHashed(sessionBytes, from, to, sessionHashes[k]!);
        from = to;
      }
      for (const v of r.newItems) t.items.push(table.items.intern(v));
      // A table without the user column (no requested artifact reads users) keeps no user dictionary either.
      if (table.hasUsers) for (const v of r.newUsers) t.users.push(table.users.intern(v));
    }
    if (buckets) {
      // Sessions are numbered per chunk, so the bucket of each local session (and its id there) is found once per
      // chunk, from the bytes and hashes the parse worker sent: no string per session.
      const bucketOf = chunkSessionShards(r, buckets.count);
      const sessionIds = buckets.sessions(r.sessionBytes, r.sessionEnds, r.sessionHashes, bucketOf);
      // Items are numbered per parser dictionary: map each to the part's id once.
      const partItems = buckets.items(r.dictId, r.newItems);
      const { session, item, ends } = r;
      const n = r.events;
      // Duplicates first, in a pass of their own: each probe of the duplicate table is a cache miss, and the
      // misses overlap only when little else runs between them (with the bucket work in the same loop the
      // probes took about 60 % longer on the 5M scale-out day; addBlock overlaps them further). Flags of
      // this chunk's own: the loop below awaits writes.
      const keep = new Uint8Array(n).fill(1);
      const duplicates = seen.addBlock(fp, n, keep);
      counts.duplicates += duplicates;
      out.acceptedMany(n - duplicates);
      let runStart = 0;
      let runBucket = -1;
      let runEvents = 0;
      let prevEnd = 0;
      for (let k = 0; k < n; k++) {
        const lineEnd = ends[k]!;
        const b = bucketOf[session[k]!]!;
        if (keep[k] === 0) {
          buckets.duplicates[b]!++;
          if (runEvents > 0) {
            const written = buckets.write(runBucket, r.canonical.subarray(runStart, prevEnd), runEvents);
            if (written) await written;
          }
          runEvents = 0;
          runStart = lineEnd;
        } else {
          // Consecutive events of one bucket are written as one run of bytes.
          if (runEvents > 0 && b !== runBucket) {
            // Awaited only when it writes a block: an await per run (often one line) costs more than the copy.
            const written = buckets.write(runBucket, r.canonical.subarray(runStart, prevEnd), runEvents);
            if (written) await written;
            runEvents = 0;
            runStart = prevEnd;
          }
          buckets.row(b, sessionIds[session[k]!]!, partItems[item[k]!]!);
          runBucket = b;
          runEvents++;
        }
        prevEnd = lineEnd;
      }
      if (runEvents > 0) await buckets.write(runBucket, r.canonical.subarray(runStart, prevEnd), runEvents);
      return;
    }
    const shardOk = shard ? chunkSessionShards(r, shard.count).map((b) => (b === shard.index ? 1 : 0)) : undefined;
    const n = r.events;
    if (table) table.reserve(n);
    const rowsBefore = table ? table.item.length : 0;
    const duplicatesBefore = counts.duplicates;
    const dropped: number[] = [];
    const kept = keepEvents(r, seen, shardOk, counts, dropped, table && { items: t.items, users: t.users, sessions: sessions!, table });
    if (table) {
      const rows = rowsBefore + kept;
      table.item.length = rows;
      table.session.length = rows;
      if (table.hasUsers) table.user.length = rows;
      if (table.hasInstants) {
        table.secondsMs.length = rows;
        table.nanos.length = rows;
      }
    }
    const otherShard = dropped.length - (counts.duplicates - duplicatesBefore);
    if (otherShard > 0) counts.other_shard = (counts.other_shard ?? 0) + otherShard;
    out.acceptedMany(kept);
    // The kept lines, written as the runs of them between dropped ones (most chunks: one run, the whole chunk).
    const { ends, canonical } = r;
    let runStart = 0;
    for (const k of dropped) {
      const runEnd = k > 0 ? ends[k - 1]! : 0;
      if (runEnd > runStart) await out.write(canonical.subarray(runStart, runEnd));
      runStart = ends[k]!;
    }
    const last = n > 0 ? ends[n - 1]! : 0;
    if (last > runStart) await out.write(canonical.subarray(runStart, last));
    if (seen instanceof SpilledDedupe) await seen.flush();
  };

  // Parses in flight, to release their results should the day fail (a pool that reuses its memory waits for them).
  let inFlight: Queued[] = [];
  // The raw blocks of the piece being read, and the read of the next block if one was started.
  let reader: AsyncIterator<Block> | undefined;
  let ahead: Promise<IteratorResult<Block>> | undefined;
  try {
    const chunkBytes = options.chunkBytes ?? RAW_CHUNK_BYTES;
    // Blocks read into the pool's buffers and blocks of at least half a chunk count against the pool's depth (the
    // former whatever their size: each holds one of the pool's buffers); the one-line blocks that join two reads do
    // not (parsed at once, they would halve the depth: each read yields one). `maxQueued` bounds the rest (rejected records).
    const depth = Math.max(1, pool.depth ?? 2);
    const bigBlock = chunkBytes >>> 1;
    const maxQueued = 8 * depth + 8;
    for (const piece of pieces) {
      const input = piece.input;
      const source = input.uri;
      logger.debug({ source, day, ...(piece.range ? { range: piece.range } : {}) }, 'reading raw source');
      const queue: Queued[] = [];
      inFlight = queue;
      let lineBase = 0;
      // Full blocks in `queue` (the ones that count against the pool's depth), kept as they are queued and drained.
      let bigQueued = 0;
      const drainOne = async () => {
        const head = queue.shift()!;
        if ('big' in head && head.big) bigQueued--;
        if ('record' in head) {
          counts.read++;
          await out.rejectRecord(source, head.record);
          return;
        }
        if ('tooLong' in head) {
          lineBase++;
          counts.read++;
          await out.reject(source, lineBase, 'line_too_long', `line is ${head.tooLong.bytes} bytes; the limit is 1 MiB`, lossy.decode(head.tooLong.prefix), true);
          return;
        }
        if (!head.ready && seen instanceof FingerprintSet) {
          // A parse on this thread is back after a microtask; a worker's may take a while, and meanwhile the duplicate
          // table's pages are mapped here (rather than by the first merges, while the workers wait for this thread).
          await Promise.resolve();
          while (!head.ready && seen.prefault(PREFAULT_BYTES)) await nextTurn();
        }
        const r = await head.result;
        try {
          await merge(source, lineBase, r);
        } finally {
          // Merged and its bytes written (writers keep no chunk, ObjectWriter.write): the pool may reuse its memory.
          pool.release?.(r);
        }
        lineBase += r.lines;
      };
      let bytesRead = 0;
      // Read into the pool's buffers when it has them: a chunk of whole lines is then parsed where it was read.
      reader = lineBlocks(await openRawPiece(piece, pool.readBuffers), chunkBytes, pool.readBuffers);
      ahead = reader.next();
      for (;;) {
        const step = await ahead;
        ahead = undefined;
        if (step.done) break;
        const block = step.value;
        // Counted before the parse: the pool takes the block's buffer over (a worker's transfer empties it here).
        bytesRead += block.kind === 'too_long' ? block.bytes : block.kind === 'record' ? 0 : block.bytes.length;
        if (block.kind === 'too_long') queue.push({ tooLong: block });
        else if (block.kind === 'record') queue.push({ record: block.reject });
        else {
          const big = block.bytes.length >= bigBlock || pool.readBuffers?.owns(block.bytes) === true;
          const parse: Queued = { result: pool.parse(block.bytes, ctx), big, ready: false };
          parse.result.then(() => (parse.ready = true), () => {});
          queue.push(parse);
          if (big) bigQueued++;
        }
        // The next block's read starts now, once the pool has taken this block (and the buffer it was read into), and
        // goes on while earlier chunks are merged: a read started only after a merge left the main thread waiting for
        // it and, with every posted chunk parsed, the workers too. Its failure is awaited above, in order.
        ahead = reader.next();
        ahead.catch(() => {});
        // Waits for the oldest parse only once the pool has `depth` chunks: each worker finds its next chunk queued
        // when it answers one (with fewer, a worker idled from its answer until this thread had merged, read and posted).
        while (queue.length >= maxQueued || bigQueued >= depth) await drainOne();
        // A signal stops the day here; the catch below removes the partial outputs.
        env.signal?.throwIfAborted();
        await env.progress?.ingest?.({ day, source, bytes: bytesRead, lines: counts.read });
        env.signal?.throwIfAborted();
      }
      reader = undefined;
      while (queue.length > 0) await drainOne();
      pieceStats.push({ uri: source, ...(piece.range ? { start: piece.range.start, end: piece.range.end } : {}), lines: lineBase, bytes: bytesRead });
      await env.progress?.ingest?.({ day, source, bytes: bytesRead, lines: counts.read, done: true });
    }
  } catch (error) {
    for (const q of inFlight) if ('result' in q) q.result.then((r) => pool.release?.(r), () => {});
    // Closes the raw input (after the read under way, if any: a generator runs one step at a time).
    if (reader) {
      await ahead?.catch(() => {});
      await reader.return?.(undefined).catch(() => {});
    }
    await out.abort();
    await buckets?.abort();
    if (seen instanceof SpilledDedupe) await seen.abort();
    throw error;
  }
  if (seen instanceof SpilledDedupe) {
    try {
      const duplicates = await seen.resolve();
      if (table && duplicates.count > 0) table.removeMarked(duplicates.dropped, rowBase);
      if (seen.collisions > 0) logger.warn({ day, collisions: seen.collisions }, 'distinct events shared an unkeyed fingerprint; the keyed part kept them apart');
      const report = await out.finish(inputs.map((s) => s.uri), duplicates);
      return { counts: report.counts, committed: Promise.resolve(report) };
    } catch (error) {
      await out.abort();
      throw error;
    }
  }
  if (seen.collisions > 0) logger.warn({ day, collisions: seen.collisions }, 'distinct events shared an unkeyed fingerprint; the keyed part kept them apart');
  if (!buckets) {
    // Not awaited: the partition's fsync and read-back run while the caller goes on (see ingestDayCommitting).
    const committed = out.finish(inputs.map((s) => s.uri));
    // Handled here as well, so a failure is not reported as unhandled before the caller awaits it.
    committed.catch(() => {});
    return { counts, committed };
  }
  // Buckets first, then the quarantine: the part report written after both is what makes the part visible.
  const written = await buckets.finish();
  const report = await out.finish(inputs.map((s) => s.uri));
  const partOutcome: IngestPartOutcome = { mode: plan!.mode, inputs: inputs.map((x) => ({ uri: x.uri, ...(x.size !== undefined ? { size: x.size } : {}) })), pieces: pieceStats, buckets: written.buckets, ...(written.partition ? { partition: written.partition } : {}) };
  return { counts, committed: Promise.resolve({ ...report, part: partOutcome }) };
}

/**
 * The straightforward line-by-line ingest: one thread, one line at a time,
 * no typed-array tricks. Kept as the reference that the fast engine must
 * match byte for byte (tests compare them on random inputs).
 * @since 0.1.0
 */
export async function ingestDayReference(env: PipelineEnv, scope: Scope, day: string, table?: EventTable, options: Pick<IngestOptions, 'shard' | 'partitionKey'> = {}): Promise<IngestReport> {
  const { areas, logger } = env;
  const inputs = await rawInputsForDay(areas.raw, env.rawSource, scope, day);
  // No input at all is a wrong path or a missing delivery (exit 2, nothing written), not an empty day.
  if (!env.rawSource && inputs.length === 0) throw noRawInputError(areas.raw, scope, [day], env.rawSourceKey);
  const out = await DayOutputs.open(env, scope, day, options.partitionKey);
  const counts = out.counts;
  const seen = new FingerprintSet();
  try {
    for (const input of inputs) {
      const source = input.uri;
      logger.debug({ source, day }, 'reading raw source');
      for await (const line of splitLines(linesOnly(await input.open(), async (record) => {
        counts.read++;
        await out.rejectRecord(source, record);
      }))) {
        counts.read++;
        if (line.kind === 'too_long') {
          await out.reject(source, line.lineNo, 'line_too_long', `line is ${line.bytes} bytes; the limit is 1 MiB`, line.prefix, true);
          continue;
        }
        if (line.kind === 'invalid_utf8') {
          await out.reject(source, line.lineNo, 'invalid_utf8', 'line is not valid UTF-8', line.text);
          continue;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(line.text);
        } catch (error) {
          await out.reject(source, line.lineNo, 'invalid_json', (error as Error).message, line.text);
          continue;
        }
        const result = checkRawEvent(parsed);
        if (!result.ok) {
          await out.reject(source, line.lineNo, result.reason, result.detail, line.text);
          continue;
        }
        const event = result.event;
        if (event.tenant !== scope.tenant || event.surface !== scope.surface) {
          counts.other_scope++;
          continue;
        }
        if (!event.ts.startsWith(day)) {
          counts.out_of_window++;
          continue;
        }
        if (options.shard && shardOfSession(event.session_id, options.shard.count) !== options.shard.index) {
          counts.other_shard = (counts.other_shard ?? 0) + 1;
          continue;
        }
        const text = canonicalLine(event);
        if (!seen.addText(text)) {
          counts.duplicates++;
          continue;
        }
        out.accepted();
        await out.write(text + '\n');
        table?.add(event);
      }
    }
  } catch (error) {
    await out.abort();
    throw error;
  }
  if (seen.collisions > 0) logger.warn({ day, collisions: seen.collisions }, 'distinct events shared an unkeyed fingerprint; the keyed part kept them apart');
  return out.finish(inputs.map((s) => s.uri));
}

/**
 * The bytes of a raw input, handing its rejected records to `onRecord` as
 * they come. Records arrive between whole lines and the line splitter
 * pulls lazily, so quarantine keeps input order as in the fast engine.
 */
async function* linesOnly(stream: AsyncIterable<RawInputChunk>, onRecord: (record: RawRecordReject) => Promise<void>): AsyncGenerator<Uint8Array> {
  for await (const item of stream) {
    if (isRecordReject(item)) await onRecord(item);
    else yield item;
  }
}
