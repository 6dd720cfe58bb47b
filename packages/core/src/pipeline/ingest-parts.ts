import { z } from 'zod';
import { concatBytes } from '../bytes.js';
import { IntegrityError, UsageError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { ShardSpec } from '../shard.js';
import { CountsSchema, json, readIngestReport, readJson, writeIngestReport } from './staging.js';
import type { IngestCounts, IngestDayOutcome, IngestReport } from '../ingest/ingest-day.js';
import { FP, FingerprintSet, fingerprintBytes } from '../ingest/fingerprint-set.js';
import { crossingSessions } from './cross-part-duplicates.js';
import { EventTable } from '../compute/event-table.js';
import { CanonicalLineChecker, type PartitionSummary } from './canonical-reader.js';
import { forEachLine } from './canonical-lines.js';
import { BucketDecoder, BucketFormatError, bucketTailBytes, readBucketFooter, type BucketBlock } from './bucket-format.js';
import type { ObjectStorage } from '../ports.js';
import { skipBytes } from '../ingest/raw-source.js';
import { crc32Hex, portableCrc32 } from '../crc32-portable.js';
import type { RejectReason } from '../ingest/raw-event.js';

/*
 * The divided scale-out of DESIGN §7 (docs/how-to/scale-out.md):
 *
 *   ingest --shard i/n   reads part i of the day's raw input (raw-parts.ts) and
 *                        writes, in the staging area,
 *                          _parts/<day>/<i>-of-<n>/bucket-<j>.bin   (j < n) its
 *                              events of the sessions with fnv1a32 % n == j
 *                              (bucket-format.ts: ids interned per bucket, plus
 *                              the canonical lines and a footer of the bucket's
 *                              session hashes);
 *                          _parts/<day>/<i>-of-<n>/quarantine.jsonl  its rejects;
 *                          _parts/<day>/<i>-of-<n>.json              the part report,
 *                              written last (a part without it does not exist).
 *                        With n = 1 the part's one bucket is the shard's whole
 *                        partition: the part writes the lines straight into
 *                        `exposures/<day>.shard-0-of-1.jsonl` (named with its
 *                        SHA-256 in the part report) and the bucket holds the
 *                        ids and footer only.
 *   validate/compute --shard j   first assemble shard j's canonical partition
 *                        (`exposures/<day>.shard-j-of-n.jsonl`) from bucket j of
 *                        every part, in part order, removing exact duplicates
 *                        across parts (an event and its duplicate share a
 *                        session, so a bucket), plus the shard's ingest report;
 *                        then work as before (n = 1: the partition is the
 *                        part's, checked by size, not copied).
 *   merge                sums the partials, and writes the day's quarantine
 *                        from the parts' (line numbers made absolute).
 *
 * Parts are contiguous in reading order, so shard j's partition holds the
 * same events in the same order as when one process read the whole day and
 * kept shard j's sessions.
 */

/**
 * Version of ingest part reports (4: buckets in format `recsys-bucket/3`, with their session counts and CRC-32s).
 * @since 0.6.0
 */
export const PART_REPORT_VERSION = 4;

const hex8 = z.string().regex(/^[0-9a-f]{8}$/);
const count = z.int().min(0);

/**
 * The report of one ingest part. Version 4: the buckets are in format
 * `recsys-bucket/3` (bucket-format.ts: with a session footer, which compute
 * finds from each bucket's size and session count), each named with its
 * CRC-32; parts of versions 1 (JSON Lines buckets), 2 (no footer) and 3
 * (buckets named with their SHA-256) are refused by name: re-run those
 * ingest parts.
 * @since 0.4.0
 */
export const PartReportSchema = z.strictObject({
  v: z.literal(PART_REPORT_VERSION),
  tenant: z.string(),
  surface: z.string(),
  day: z.string(),
  part: z.strictObject({ index: count, count: z.int().min(1) }),
  mode: z.enum(['objects', 'ranges']),
  /** Every raw input of the day as listed by this part (all parts must agree). */
  inputs: z.array(z.strictObject({ uri: z.string(), size: count.optional() })),
  /** What this part read: whole inputs, or byte ranges `[start, end)` at line starts, with their physical lines. */
  pieces: z.array(z.strictObject({ uri: z.string(), start: count.optional(), end: count.optional(), lines: count, bytes: count })),
  /** This part's counts (accepted: its events in all buckets). */
  counts: CountsSchema,
  buckets: z.array(z.strictObject({ key: z.string(), events: count, duplicates: count, sessions: count, bytes: count, crc32: hex8 })),
  quarantine: z.string().optional(),
  /**
   * Only in the report of a one-part day: the shard partition (canonical area) that the part wrote its lines into
   * itself, with their SHA-256; its bucket then holds the ids only (no lines). @since 0.15.0
   */
  partition: z.strictObject({ key: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: count, events: count }).optional(),
});

/** What the part reports of earlier versions held, for the message that refuses them. */
const OLD_PART_REPORTS: Readonly<Record<number, string>> = {
  1: 'buckets in format recsys-bucket/1, written by an earlier release',
  2: 'buckets in format recsys-bucket/2, written by an earlier release',
  3: 'buckets checked by SHA-256, written by an earlier release',
};

/** A part report of any version: an older one is named, not reported as malformed. */
const VersionedPartReportSchema = z.union([PartReportSchema, z.looseObject({ v: z.int().min(1).max(PART_REPORT_VERSION - 1) })]);

/** A stored part report. @since 0.4.0 */
export type PartReport = Omit<z.infer<typeof PartReportSchema>, 'counts'> & { readonly counts: IngestCounts };

/** Stores the report of an ingest part (after its buckets and quarantine). @since 0.4.0 */
export async function writePartReport(env: PipelineEnv, scope: Scope, outcome: IngestDayOutcome, part: ShardSpec): Promise<string> {
  const p = outcome.part!;
  const report: PartReport = {
    v: PART_REPORT_VERSION,
    tenant: scope.tenant,
    surface: scope.surface,
    day: outcome.day,
    part: { index: part.index, count: part.count },
    mode: p.mode,
    inputs: p.inputs,
    pieces: p.pieces,
    counts: outcome.counts,
    buckets: p.buckets,
    ...(outcome.quarantine ? { quarantine: keys.ingestPartQuarantine(scope, outcome.day, part) } : {}),
    ...(p.partition ? { partition: p.partition } : {}),
  };
  const key = keys.ingestPart(scope, outcome.day, part);
  await env.areas.artifacts.put(key, json(report));
  return key;
}

/**
 * The part reports of a day for `n` parts, checked to be one complete set
 * read from the same raw input; otherwise a usage error (exit 2) naming
 * every problem. `undefined` when no part of that n exists at all.
 */
export async function readPartSet(env: PipelineEnv, scope: Scope, day: string, n: number, step: string): Promise<PartReport[] | undefined> {
  const storage = env.areas.artifacts;
  const problems: string[] = [];
  const reports: (PartReport | undefined)[] = [];
  const stale = new Set<number>();
  for (let i = 0; i < n; i++) {
    const key = keys.ingestPart(scope, day, { index: i, count: n });
    const read = (await readJson(storage, key, VersionedPartReportSchema, 'ingest part report')) as PartReport | { v: number } | undefined;
    if (read && read.v !== PART_REPORT_VERSION) {
      problems.push(`ingest part ${i}-of-${n}.json is of version ${read.v} (${OLD_PART_REPORTS[read.v] ?? 'written by an earlier release'}), not ${PART_REPORT_VERSION}`);
      reports.push(undefined);
      stale.add(i);
      continue;
    }
    const r = read as PartReport | undefined;
    reports.push(r);
    if (!r) continue;
    const name = `${i}-of-${n}.json`;
    if (r.part.index !== i || r.part.count !== n) problems.push(`ingest part ${name} holds part ${r.part.index}/${r.part.count}, not ${i}/${n} as its name says`);
    if (r.tenant !== scope.tenant || r.surface !== scope.surface || r.day !== day) problems.push(`ingest part ${name} is of ${r.tenant}/${r.surface} ${r.day}`);
  }
  if (reports.every((r) => r === undefined) && stale.size === 0) return undefined;
  const seen = new Map<number, number[]>();
  reports.forEach((r, i) => {
    if (r) seen.set(r.part.index, [...(seen.get(r.part.index) ?? []), i]);
  });
  for (const [index, names] of [...seen].sort((a, b) => a[0] - b[0])) {
    if (names.length > 1) problems.push(`duplicate ingest part ${index}: ${names.map((i) => `${i}-of-${n}.json`).join(' and ')} both hold it`);
  }
  const missing = reports.flatMap((r, i) => (r || stale.has(i) ? [] : [i]));
  if (missing.length > 0) problems.push(`missing ingest part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n}`);
  const present = reports.filter((r): r is PartReport => r !== undefined);
  const listing = (r: PartReport) => JSON.stringify(r.inputs);
  if (present.some((r) => listing(r) !== listing(present[0]!))) {
    problems.push(`the ingest parts read different raw input (${present.map((r) => `part ${r.part.index}: ${r.inputs.map((x) => `${x.uri.split('/').at(-1)} ${x.size ?? '?'} bytes`).join(', ')}`).join('; ')}); re-run ingest for every part`);
  }
  if (present.some((r) => r.buckets.length !== n)) problems.push('an ingest part has a bucket count other than its part count');
  if (problems.length > 0) {
    const shardFlag = ` --shard i/${n}`;
    throw new UsageError(`${step} ${scope.tenant}/${scope.surface} ${day}: refusing the ingest parts in ${storage.uri(`${keys.ingestPart(scope, day, { index: 0, count: n }).replace(/\/[^/]+$/, '')}`)}: ${problems.join('; ')}; run \`recsys-pipelines ingest${shardFlag}\` for the named parts`, { day, problems });
  }
  return present;
}

function sumCounts(parts: readonly PartReport[]): IngestCounts {
  const out: IngestCounts = { read: 0, accepted: 0, duplicates: 0, out_of_window: 0, other_scope: 0, rejected: 0, rejected_by_reason: {} };
  for (const p of parts) {
    out.read += p.counts.read;
    out.out_of_window += p.counts.out_of_window;
    out.other_scope += p.counts.other_scope;
    out.rejected += p.counts.rejected;
    for (const [reason, n] of Object.entries(p.counts.rejected_by_reason) as [RejectReason, number][]) out.rejected_by_reason[reason] = (out.rejected_by_reason[reason] ?? 0) + n;
  }
  return out;
}

const FLUSH_BYTES = 1 << 20;
/** Pieces of lines at least this long are written as they are, not gathered. */
const DIRECT_BYTES = 64 << 10;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** What one pass over a shard's buckets saw (see {@link assembleShard}). @since 0.4.0 */
export interface AssembledShard {
  /** The shard's canonical partition as written. */
  readonly summary: PartitionSummary;
  /** The table the events went into (the caller's, or one that only counts). */
  readonly table: EventTable;
}

/**
 * Makes shard `shard.index`'s canonical partition and ingest report from
 * bucket `shard.index` of every ingest part, in one pass: each bucket is
 * checked against the CRC-32, size and event count its part report names
 * (refused by name, before anything is committed, when one differs), exact
 * duplicates across parts are removed (an event and its duplicate share a
 * session, so a bucket; within a part ingest removed them already), every
 * line is checked (scope, day, shard, canonical form: the fast reader of
 * canonical-reader.ts) and goes into `table`, and the kept bytes are
 * written to the partition. So `validate` and `compute --shard` need not
 * read the partition back.
 *
 * Idempotent: nothing is rewritten while the shard report names the same
 * part reports; then (and when the day has no ingest parts for this n) the
 * result is `undefined` and the caller reads the partition.
 * @since 0.4.0
 */
export async function assembleShard(env: PipelineEnv, scope: Scope, day: string, shard: ShardSpec, step: string, table?: EventTable): Promise<AssembledShard | undefined> {
  const parts = await readPartSet(env, scope, day, shard.count, step);
  if (!parts) return undefined;
  const j = shard.index;
  // Each part's whole report (its counts too, not just bucket j: a rerun may change only another bucket and the counts).
  const bucketShas = parts.map((p) => {
    const h = env.sha256();
    h.update(JSON.stringify(p));
    return h.digest();
  });
  const existing = await readIngestReport(env, scope, day, shard).catch(() => undefined);
  const partitionKey = keys.canonicalShardPartition(scope, day, shard);
  if (existing?.parts && existing.parts.join() === bucketShas.join() && (await env.areas.canonical.stat(partitionKey))?.size === existing.canonical.bytes) return undefined;

  const into = table ?? new EventTable({ users: false, instants: false });
  // The buckets carry each event's session and item ids; a table that also keeps users or instants
  // (no shardable artifact needs them today) takes the slower way through the canonical lines.
  const fromLines = into.hasUsers || into.hasInstants;
  // The only part of a one-part day wrote the shard's partition itself (its bucket holds the ids, no lines): nothing
  // to copy. Its report names the partition's size and SHA-256 (written after the partition, and removed before it
  // is replaced: day-steps.ts); a partition of another size is refused by name, and a reader of the partition checks
  // its SHA-256 against the shard report, which cites the part's.
  const written = parts.length === 1 ? parts[0]!.partition : undefined;
  if (written) {
    const uri = env.areas.canonical.uri(partitionKey);
    const bucket = parts[0]!.buckets[j]!;
    if (written.key !== partitionKey || written.events !== bucket.events) {
      throw new IntegrityError(`ingest part 0/1 names the shard partition ${written.key} of ${written.events} events, not ${partitionKey} of its bucket's ${bucket.events}; re-run that ingest part`, { uri });
    }
    const size = (await env.areas.canonical.stat(partitionKey))?.size;
    if (size !== written.bytes) {
      throw new IntegrityError(`shard partition ${uri} is not what ingest part 0/1 wrote (${size === undefined ? 'missing' : `${size} bytes`}; its report says ${written.bytes}); re-run that ingest part`, { uri });
    }
    if (fromLines) {
      // The table is filled from the partition's lines by the caller's reader, which checks them against this SHA-256.
      await writeShardReport(env, scope, day, shard, parts, bucketShas, { key: partitionKey, uri, sha256: written.sha256, bytes: written.bytes }, written.events, 0);
      return undefined;
    }
  }
  const writer = written ? undefined : await env.areas.canonical.writer(partitionKey);
  // A writer that hashes what it writes anyway (fs) reports the hash: every byte is hashed once, not twice.
  const hash = !writer || writer.reportsSha256 ? undefined : env.sha256();
  // Duplicates are only possible across parts: with one part there is nothing to compare with. From the buckets'
  // ids, only events of sessions that more than one part holds are fingerprinted: the buckets' footers, read first,
  // name them (cross-part-duplicates.ts). A footer that cannot be read as its report describes it (the bucket is
  // missing, truncated, changed: the pass below refuses it by name) makes every event a candidate.
  const seen = parts.length > 1 && !fromLines ? new FingerprintSet(1 << 10) : undefined;
  const footers = seen ? await Promise.all(parts.map((p) => readFooter(env.areas.artifacts, p.buckets[j]!))) : undefined;
  const crossing = footers && footers.every((f) => f !== undefined) ? crossingSessions(footers as Uint32Array[]) : undefined;
  const seenLines = parts.length > 1 && fromLines ? new FingerprintSet() : undefined;
  // Every session of a bucket is named once, in the block that first uses it; a session that another part holds too
  // is flagged by the footers (equal ids hash alike). So, with one part or with the footers read, every session not
  // flagged is new to the shard and goes into the table without a lookup (no hash, no probe: ~0.2 CPU s of a 5M
  // compute task at n = 1), and the flagged ones (none to a few per shard) are looked up by name here. A table that
  // already holds sessions, or one filled from the lines, keeps its lookups.
  const appendSessions = !fromLines && into.sessions.size === 0 && (parts.length === 1 || crossing !== undefined);
  const crossingIds = new Map<string, number>();
  if (appendSessions) into.sessions.releaseLookups();
  let crossDuplicates = 0;
  let bytes = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const data = pending.length === 1 ? pending[0]! : concatBytes(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await put(data);
  };
  const put = async (data: Uint8Array) => {
    if (!writer) throw new Error('lines in a bucket whose part wrote the partition itself');
    hash?.update(data);
    bytes += data.length;
    await writer.write(data);
  };
  const encoder = new TextEncoder();
  const crc32 = env.crc32 ?? portableCrc32;
  try {
    for (const p of parts) {
      const bucket = p.buckets[j]!;
      const uri = env.areas.artifacts.uri(bucket.key);
      const stream = await env.areas.artifacts.read(bucket.key);
      if (!stream) throw new IntegrityError(`bucket ${uri} of ingest part ${p.part.index}/${p.part.count} is missing; re-run that ingest part`, { uri });
      const notOurs = (detail: string): never => {
        throw new IntegrityError(`bucket ${uri} of ingest part ${p.part.index}/${p.part.count}: ${detail}; re-run that ingest part`, { uri });
      };
      const decoder = new BucketDecoder({ tenant: scope.tenant, surface: scope.surface, day, part: p.part, bucket: j }, { lines: written === undefined });
      // Per bucket session id: 1 when its events must be fingerprinted (another part holds the session too).
      const cross = crossing?.flags[parts.indexOf(p)];
      let checksum = 0;
      let size = 0;
      let events = 0;
      // This bucket's ids → the table's: one lookup per distinct id, not per event.
      const sessionIds: number[] = [];
      const itemIds: number[] = [];
      const checker = fromLines ? new CanonicalLineChecker({ scope, day, shard, check: 'fast', table: into, fail: (line, _gate, detail) => notOurs(`line ${line}: ${detail}`) }) : undefined;
      let lineNo = 0;
      let kept: string[] | undefined;
      const onLine = (text: string, n: number) => {
        events++;
        if (seenLines && !seenLines.addText(text)) {
          crossDuplicates++;
          kept ??= [];
          return;
        }
        kept?.push(text);
        checker!.line(text, n);
      };
      const emit = async (out: Uint8Array) => {
        if (out.length === 0) return;
        // A block's lines (about FLUSH_BYTES, in a piece per read chunk they span) are written as they are; only small
        // pieces (cut around duplicates, or where a chunk ends just before or after a line) are gathered.
        if (out.length >= DIRECT_BYTES) {
          await flush();
          await put(out);
          return;
        }
        pending.push(out);
        pendingBytes += out.length;
        if (pendingBytes >= FLUSH_BYTES) await flush();
      };
      const takeLines = async (lines: Uint8Array) => {
        let text: string;
        try {
          text = strictUtf8.decode(lines);
        } catch {
          return notOurs('lines are not UTF-8');
        }
        kept = undefined;
        // Lines before the first duplicate of the block are collected once one turns up.
        let before = 0;
        lineNo += forEachLine(text, lineNo + 1, (line, n) => {
          const wasClean = kept === undefined;
          onLine(line, n);
          if (wasClean && kept !== undefined) kept = [...splitBlock(text, before), ...(kept as string[])];
          else if (kept === undefined) before++;
        });
        await emit(kept === undefined ? lines : encoder.encode((kept as string[]).map((l) => l + '\n').join('')));
      };
      // The runs of a block's pieces from (fromPiece, fromAt) to (toPiece, toAt), as views.
      const emitRange = async (pieces: readonly Uint8Array[], fromPiece: number, fromAt: number, toPiece: number, toAt: number) => {
        for (let q = fromPiece; q <= toPiece; q++) {
          const piece = pieces[q]!;
          const s = q === fromPiece ? fromAt : 0;
          const e = q === toPiece ? toAt : piece.length;
          if (e > s) await emit(s === 0 && e === piece.length ? piece : piece.subarray(s, e));
        }
      };
      const take = async (block: BucketBlock) => {
        if (checker) return takeLines(block.lines.length === 1 ? block.lines[0]! : concatBytes(block.lines));
        // One probe per id; every session is checked for its shard (by the hash the decoder took from its bytes).
        const sessions = into.sessions;
        const { newSessions, newSessionHashes, newSessionBytes, newSessionEnds } = block;
        for (let q = 0; q < newSessions.length; q++) {
          const name = newSessions[q]!;
          const of = newSessionHashes[q]! % shard.count;
          if (of !== j) notOurs(`session ${JSON.stringify(name)} belongs to shard ${of} of ${shard.count}, not ${j}`);
          if (!appendSessions) {
            sessionIds.push(sessions.intern(name));
          } else if (cross?.[sessionIds.length] === 1) {
            let id = crossingIds.get(name);
            if (id === undefined) crossingIds.set(name, (id = sessions.append(newSessionBytes, q === 0 ? 0 : newSessionEnds[q - 1]!, newSessionEnds[q]!)));
            sessionIds.push(id);
          } else sessionIds.push(sessions.append(newSessionBytes, q === 0 ? 0 : newSessionEnds[q - 1]!, newSessionEnds[q]!));
        }
        for (const name of block.newItems) itemIds.push(into.items.intern(name));
        into.reserve(block.events);
        const tItem = into.item.data;
        const tSession = into.session.data;
        const itemCounts = into.itemCounts.data;
        const { session, item, lines } = block;
        let rows = into.item.length;
        // A block with no event to fingerprint is taken whole: its lines need not be walked.
        let walk = seen !== undefined;
        if (walk && cross) {
          walk = false;
          for (let k = 0; k < block.events; k++) {
            if (cross[session[k]!] === 1) {
              walk = true;
              break;
            }
          }
        }
        if (!walk) {
          for (let k = 0; k < block.events; k++) {
            const it = itemIds[item[k]!]!;
            tItem[rows] = it;
            itemCounts[it]!++;
            tSession[rows++] = sessionIds[session[k]!]!;
          }
          events += block.events;
          for (const piece of lines) await emit(piece);
        } else {
          // Exact duplicates across parts: the fingerprint (under this task's own key) of each line of a session
          // another part holds too (every line when the footers could not be read). The cursor is (pi, at) in the
          // block's pieces; a line that spans two pieces is joined for its fingerprint only.
          const set = seen!;
          let pi = 0;
          let piece = lines[0]!;
          let at = 0;
          let runPiece = 0;
          let runStart = 0;
          for (let k = 0; k < block.events; k++) {
            const startPiece = pi;
            const startAt = at;
            const candidate = !cross || cross[session[k]!] === 1;
            let end = piece.indexOf(10, at);
            if (end >= 0) {
              if (candidate) fingerprintBytes(piece, at, end, set.key);
            } else {
              const spanned: Uint8Array[] = [piece.subarray(at)];
              for (;;) {
                if (++pi >= lines.length) notOurs(`a block holds fewer lines than its ${block.events} events`);
                piece = lines[pi]!;
                end = piece.indexOf(10);
                if (end >= 0) break;
                spanned.push(piece);
              }
              if (candidate) {
                spanned.push(piece.subarray(0, end + 1));
                const line = concatBytes(spanned);
                fingerprintBytes(line, 0, line.length - 1, set.key);
              }
            }
            const sessionId = sessionIds[session[k]!]!;
            if (candidate && !set.add(FP[0]!, FP[1]!, FP[2]!, FP[3]!)) {
              crossDuplicates++;
              await emitRange(lines, runPiece, runStart, startPiece, startAt);
              runPiece = pi;
              runStart = end + 1;
            } else {
              const it = itemIds[item[k]!]!;
              tItem[rows] = it;
              itemCounts[it]!++;
              tSession[rows++] = sessionId;
            }
            at = end + 1;
            if (at === piece.length && pi + 1 < lines.length) {
              piece = lines[++pi]!;
              at = 0;
            }
          }
          if (pi !== lines.length - 1 || at !== piece.length) notOurs(`a block holds more lines than its ${block.events} events`);
          events += block.events;
          // Runs of kept lines are views of the pieces.
          await emitRange(lines, runPiece, runStart, pi, at);
        }
        into.item.length = rows;
        into.session.length = rows;
      };
      try {
        for await (const chunk of stream) {
          checksum = crc32(chunk, checksum);
          size += chunk.length;
          for (const block of decoder.push(chunk)) await take(block);
        }
        decoder.end();
      } catch (error) {
        if (error instanceof BucketFormatError) notOurs(error.message);
        throw error;
      }
      const crc = crc32Hex(checksum);
      if (crc !== bucket.crc32 || size !== bucket.bytes || events !== bucket.events) {
        const read = `${events} events, ${size} bytes, CRC-32 ${crc}; its report says ${bucket.events}, ${bucket.bytes}, ${bucket.crc32}`;
        throw new IntegrityError(`bucket ${uri} is not what ingest part ${p.part.index}/${p.part.count} wrote (${read}); re-run that ingest part`, { uri });
      }
      // The footer read first is the one just checked (the bucket did not change between the two reads).
      const footer = footers?.[parts.indexOf(p)];
      if (footer && !sameWords(footer, decoder.sessionHashes())) notOurs('its session footer changed while it was read');
    }
    await flush();
  } catch (error) {
    await writer?.abort().catch(() => {});
    throw error;
  }
  const accepted = into.length;
  let canonical: IngestReport['canonical'];
  if (writer) {
    const committed = await writer.commit();
    const sha256 = hash ? hash.digest() : committed.sha256;
    if (sha256 === undefined) throw new Error(`the writer of ${partitionKey} promised the partition's SHA-256 and returned none`);
    canonical = { key: partitionKey, uri: env.areas.canonical.uri(partitionKey), sha256, bytes };
  } else canonical = { key: partitionKey, uri: env.areas.canonical.uri(partitionKey), sha256: written!.sha256, bytes: written!.bytes };
  await writeShardReport(env, scope, day, shard, parts, bucketShas, canonical, accepted, crossDuplicates);
  env.logger.info({ day, shard, events: accepted, duplicates_across_parts: crossDuplicates, ...(crossing ? { sessions_across_parts: crossing.crossing } : {}), ...(written ? { partition_written_by_ingest: true } : {}) }, 'assembled shard partition from ingest parts');
  return { summary: { key: partitionKey, uri: canonical.uri, sha256: canonical.sha256, bytes: canonical.bytes, events: accepted }, table: into };
}

/** The shard's ingest report: its events, the day's counts summed over the parts, its partition, the part reports it was made from. */
async function writeShardReport(env: PipelineEnv, scope: Scope, day: string, shard: ShardSpec, parts: readonly PartReport[], partShas: string[], canonical: IngestReport['canonical'], accepted: number, crossDuplicates: number): Promise<void> {
  const j = shard.index;
  const counts = sumCounts(parts);
  counts.accepted = accepted;
  counts.duplicates = parts.reduce((s, p) => s + p.buckets[j]!.duplicates, 0) + crossDuplicates;
  counts.other_shard = parts.reduce((s, p) => s + p.buckets.reduce((t, b, k) => (k === j ? t : t + b.events + b.duplicates), 0), 0);
  const report: IngestReport = {
    day,
    sources: parts[0]!.inputs.map((x) => x.uri),
    counts,
    canonical,
    ...(counts.rejected > 0 ? { quarantine: env.areas.quarantine.uri(keys.quarantine(scope, day)) } : {}),
  };
  await writeIngestReport(env, scope, report, shard, partShas);
}

/**
 * The session hashes of a bucket's footer (its last bytes, by the size and
 * session count of its part report), read on their own; `undefined` when
 * they cannot be read so (the bucket is then refused by name when read whole).
 */
async function readFooter(storage: ObjectStorage, bucket: PartReport['buckets'][number]): Promise<Uint32Array | undefined> {
  const tail = bucketTailBytes(bucket.sessions);
  const start = bucket.bytes - tail;
  if (start < 0) return undefined;
  const stream = storage.readFrom ? await storage.readFrom(bucket.key, start) : await storage.read(bucket.key).then((s) => (s ? skipBytes(s, start) : undefined));
  if (!stream) return undefined;
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    got += chunk.length;
    // Longer than its report says: not the bucket it describes.
    if (got > tail) return undefined;
  }
  try {
    return readBucketFooter(concatBytes(chunks, got), bucket);
  } catch (error) {
    if (error instanceof BucketFormatError) return undefined;
    throw error;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** The first `count` lines of a block of lines (each without its newline). */
function splitBlock(text: string, count: number): string[] {
  const out: string[] = [];
  let start = 0;
  while (out.length < count) {
    const nl = text.indexOf('\n', start);
    out.push(text.slice(start, nl < 0 ? text.length : nl));
    start = nl + 1;
  }
  return out;
}

/**
 * Writes the day's quarantine file from the ingest parts' quarantine, in
 * part order, with each line number made absolute (a range part numbers
 * lines from its own start): the same bytes one process would write.
 * Removes the day's file when nothing was rejected.
 * @since 0.4.0
 */
export async function assembleQuarantine(env: PipelineEnv, scope: Scope, day: string, parts: readonly PartReport[]): Promise<void> {
  const key = keys.quarantine(scope, day);
  const withRejects = parts.filter((p) => p.quarantine !== undefined);
  if (withRejects.length === 0) {
    await env.areas.quarantine.delete(key);
    return;
  }
  const linesBefore = new Map<string, number>();
  const writer = await env.areas.quarantine.writer(key);
  try {
    for (const p of parts) {
      if (p.quarantine) {
        const stream = await env.areas.artifacts.read(p.quarantine);
        if (!stream) throw new IntegrityError(`quarantine of ingest part ${p.part.index}/${p.part.count} is missing; re-run that ingest part`, { key: p.quarantine });
        let out: string[] = [];
        for await (const text of recordLines(stream)) {
          const record = JSON.parse(text) as { source?: string; line?: number };
          const offset = record.source !== undefined ? (linesBefore.get(record.source) ?? 0) : 0;
          out.push(offset > 0 && typeof record.line === 'number' ? JSON.stringify({ ...record, line: record.line + offset }) : text, '\n');
          if (out.length > 4096) {
            await writer.write(out.join(''));
            out = [];
          }
        }
        if (out.length > 0) await writer.write(out.join(''));
      }
      for (const piece of p.pieces) linesBefore.set(piece.uri, (linesBefore.get(piece.uri) ?? 0) + piece.lines);
    }
  } catch (error) {
    await writer.abort().catch(() => {});
    throw error;
  }
  await writer.commit();
}

const utf8 = new TextDecoder();

/** The lines of a quarantine file, whatever their length (a record may be longer than a raw line may be). */
async function* recordLines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let carry: Uint8Array[] = [];
  for await (const chunk of stream) {
    let from = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, from)) {
      const piece = chunk.subarray(from, nl);
      if (carry.length > 0) {
        carry.push(piece);
        yield utf8.decode(concatBytes(carry));
        carry = [];
      } else if (piece.length > 0) yield utf8.decode(piece);
      from = nl + 1;
    }
    if (from < chunk.length) carry.push(chunk.slice(from));
  }
  if (carry.length > 0) yield utf8.decode(concatBytes(carry));
}
