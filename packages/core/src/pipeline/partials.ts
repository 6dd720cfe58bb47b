import { z } from 'zod';
import { InputPartitionSchema, type ArtifactType, type InputPartition } from '@recsys/contracts';
import { IntegrityError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import type { EventTable } from '../compute/event-table.js';
import { Interner } from '../compute/interner.js';
import { U32Counts } from '../compute/growable.js';
import { PairCounter } from '../compute/pair-counter.js';
import { invertRanks } from '../compute/order-keys.js';
import { splitLines } from '../ingest/line-splitter.js';
import { kindOf } from '../compute/kinds.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { ShardSpec } from '../shard.js';
import { CountsSchema } from './staging.js';
import { countingSort } from '../compute/counting-sort.js';

/*
 * Partial aggregates of sharded runs (docs/how-to/scale-out.md, "Partials").
 *
 * Object key (objects area):
 *   <tenant>/<surface>/_partials/<segment>/<type>/<start>_<end>/<i>-of-<n>.json
 *
 * Format: JSON Lines, written atomically in one object.
 *   line 1        header (PartialHeader): scope, window, shard i/n, the shard
 *                 function, the hash of the limits that shape the result,
 *                 the shard's event/session totals and ingest counts, the
 *                 canonical partition it was computed from, and how many item
 *                 and pair entries follow;
 *   next `items`  `[item_id, exposures]`, item ids in UTF-8 byte order; an
 *                 item's position in this list is its index below;
 *   then (cooc)   `[a, b1, c1, b2, c2, …]`: pairs (a, b) with a < b (indices)
 *                 that share c sessions, grouped by a ascending then b
 *                 ascending, at most PAIRS_PER_LINE pairs per line.
 * Counts are untruncated: `min_cooc_support`, `max_neighbors_per_item` and
 * `max_items_per_artifact` are applied only when merging, by the same
 * functions as the single-process path.
 */

/** Name of the session → shard function, recorded in every partial (see `shard.ts`). @since 0.1.0 */
export const SHARD_HASH = 'fnv1a32-utf8-mod-n';

/** Format tag of partial files. @since 0.1.0 */
export const PARTIAL_FORMAT = 'recsys-partial/1';

const PAIRS_PER_LINE = 4096;
const FLUSH_CHARS = 1 << 20;

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
 * cooc, the session pair counts in `pairs`. Deterministic bytes for the same
 * partition. Returns the header written.
 * @since 0.1.0
 */
export async function writePartial(storage: ObjectStorage, key: string, input: PartialHeaderInput, table: EventTable, pairs?: PairCounter): Promise<PartialHeader> {
  const names = table.items.values;
  const n = names.length;
  const ranks = table.items.utf8Ranks();
  const idOfRank = invertRanks(ranks);
  const p = pairs?.size ?? 0;
  const lo = new Uint32Array(p);
  const hi = new Uint32Array(p);
  const cnt = new Uint32Array(p);
  let k = 0;
  pairs?.forEach((x, y, c) => {
    const rx = ranks[x]!;
    const ry = ranks[y]!;
    lo[k] = Math.min(rx, ry);
    hi[k] = Math.max(rx, ry);
    cnt[k++] = c;
  });
  const identity = new Uint32Array(p);
  for (let i = 0; i < p; i++) identity[i] = i;
  const order = countingSort(countingSort(identity, hi, n), lo, n);
  const header: PartialHeader = { ...input, events: table.length, sessions: table.sessions.size, items: n, pairs: p };

  const writer = await storage.writer(key);
  let parts: string[] = [JSON.stringify(header) + '\n'];
  let pending = parts[0]!.length;
  // Awaits only when a chunk is full: one await per line would dominate the cost.
  const push = (text: string) => {
    parts.push(text);
    pending += text.length;
    return pending >= FLUSH_CHARS;
  };
  const flush = async () => {
    if (parts.length === 0) return;
    const text = parts.join('');
    parts = [];
    pending = 0;
    await writer.write(text);
  };
  try {
    const counts = table.itemCounts;
    for (let r = 0; r < n; r++) {
      const id = idOfRank[r]!;
      if (push(`[${JSON.stringify(names[id])},${counts.get(id)}]\n`)) await flush();
    }
    for (let at = 0; at < p; ) {
      const a = lo[order[at]!]!;
      const line: (string | number)[] = [`[${a}`];
      let inLine = 0;
      while (at < p && lo[order[at]!] === a && inLine < PAIRS_PER_LINE) {
        const j = order[at++]!;
        line.push(hi[j]!, cnt[j]!);
        inLine++;
      }
      if (push(line.join(',') + ']\n')) await flush();
    }
    await flush();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
  return header;
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
  for await (const line of splitLines(stream)) {
    // Returning from the loop closes the stream: only the first line is read.
    return parseHeaderLine(storage, key, line.kind === 'line' ? line.text : undefined);
  }
  return parseHeaderLine(storage, key, undefined);
}

/** Receives the entries of a partial. @since 0.1.0 */
export interface PartialVisitor {
  item(index: number, itemId: string, exposures: number): void;
  pair(a: number, b: number, sessions: number): void;
}

/**
 * Streams a whole partial into `visitor`, checking every line's shape and
 * the entry totals announced by the header.
 * @since 0.1.0
 */
export async function readPartial(storage: ObjectStorage, key: string, visitor: PartialVisitor): Promise<PartialHeader> {
  const uri = storage.uri(key);
  const stream = await storage.read(key);
  if (!stream) throw new IntegrityError(`partial ${uri} disappeared while merging`, { uri });
  let header: PartialHeader | undefined;
  let items = 0;
  let pairs = 0;
  const bad = (lineNo: number, detail: string): never => {
    throw new IntegrityError(`partial ${uri} line ${lineNo}: ${detail}`, { uri, line: lineNo });
  };
  const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  for await (const line of splitLines(stream)) {
    const text = line.kind === 'line' ? line.text : bad(line.lineNo, 'not a valid line');
    if (!header) {
      header = parseHeaderLine(storage, key, text);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      bad(line.lineNo, 'not JSON');
    }
    if (!Array.isArray(value)) return bad(line.lineNo, 'expected a JSON array');
    if (items < header.items) {
      if (value.length !== 2 || typeof value[0] !== 'string' || !isCount(value[1]) || value[1] === 0) bad(line.lineNo, 'expected [item_id, exposures]');
      visitor.item(items++, value[0] as string, value[1] as number);
      continue;
    }
    if (value.length < 3 || value.length % 2 === 0) bad(line.lineNo, 'expected [a, b, count, …]');
    const a = value[0];
    if (!isCount(a) || a >= header.items) bad(line.lineNo, `item index ${String(a)} out of range`);
    for (let j = 1; j < value.length; j += 2) {
      const b = value[j];
      const c = value[j + 1];
      if (!isCount(b) || b <= (a as number) || b >= header.items || !isCount(c) || c === 0) bad(line.lineNo, 'malformed pair entry');
      visitor.pair(a as number, b as number, c as number);
      pairs++;
    }
  }
  if (!header) throw new IntegrityError(`partial ${uri} is empty`, { uri });
  if (items !== header.items || pairs !== header.pairs) {
    throw new IntegrityError(`partial ${uri} is truncated: ${items} of ${header.items} items and ${pairs} of ${header.pairs} pairs`, { uri });
  }
  return header;
}

/** The combined counts of a complete set of partials. @since 0.1.0 */
export interface MergedPartials {
  readonly items: Interner;
  readonly exposures: U32Counts;
  /** Session pair counts by merged item id (cooc). */
  readonly pairs: PairCounter;
  readonly events: number;
  readonly sessions: number;
  /** The day's ingest counts: lines/rejects as seen by every shard, accepted and duplicates summed. */
  readonly counts: IngestCounts;
  /** Every shard's canonical partitions, by shard index. */
  readonly inputs: InputPartition[];
}

/**
 * Sums the partials of one window, in shard order (the headers must have
 * been checked to form a complete, consistent set).
 * @since 0.1.0
 */
export async function mergePartials(storage: ObjectStorage, partialKeys: readonly string[], headers: readonly PartialHeader[]): Promise<MergedPartials> {
  const items = new Interner();
  const exposures = new U32Counts();
  const pairs = new PairCounter(1 << 16);
  let events = 0;
  let sessions = 0;
  const inputs: InputPartition[] = [];
  for (const key of partialKeys) {
    let local: number[] = [];
    const header = await readPartial(storage, key, {
      item(index, itemId, n) {
        const id = items.intern(itemId);
        local[index] = id;
        exposures.increment(id, n);
      },
      pair(a, b, n) {
        const x = local[a]!;
        const y = local[b]!;
        if (x < y) pairs.add(x, y, n);
        else pairs.add(y, x, n);
      },
    });
    local = [];
    events += header.events;
    sessions += header.sessions;
    inputs.push(...header.inputs);
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
  return { items, exposures, pairs, events, sessions, counts, inputs };
}

/** Parses `<i>-of-<n>.json` (the last part of a partial key). @since 0.1.0 */
export function shardOfPartialKey(key: string): ShardSpec | undefined {
  const m = /(?:^|\/)(\d+)-of-(\d+)\.json$/.exec(key);
  return m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
}
