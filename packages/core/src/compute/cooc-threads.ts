import type { Limits } from '../limits.js';
import type { EventTable } from './event-table.js';
import { nameBytes, type NameBytes } from './emit.js';
import { invertRanks } from './order-keys.js';
import { coocRowRange, joinRowRanges, rowRanges, sharedU32, type CoocRowRange, type SessionRuns } from './cooc-rows.js';
import { compactCoocRows, coocPayload, sessionRunsOf } from './cooc.js';
import type { Payload } from './artifact-kind.js';

/*
 * Cooc rows counted and emitted on worker threads, partitioned by row item.
 *
 * The main thread builds the session runs once, in shared memory
 * (`SharedArrayBuffer`: posting them to a worker shares them, nothing is
 * copied per worker), splits the rows into ranges of about equal work and
 * hands the ranges to the pool. Each worker counts its rows
 * (`coocRowRange`) and writes their compact bytes (`compactCoocRows`, the
 * function the single-thread payload uses); the main thread puts the
 * ranges' bytes one after the other in row order, which are then exactly
 * the bytes of writing every row at once (each row but row 0 starts with
 * its comma), and hashes them as usual. Everything here is pure: the
 * threads are behind the {@link CoocRowPool} port (runtime-node implements it).
 */

/**
 * What a worker needs to count and emit any range of cooc rows: the session
 * runs, the item order and the encoded item names, all in shared memory,
 * and the two limits that shape a row.
 * @since 0.4.0
 */
export interface CoocRangeJob {
  readonly runs: SessionRuns;
  /** `ranks[id]`: position of item `id` in UTF-8 order; `idOfRank` its inverse. */
  readonly ranks: Uint32Array;
  readonly idOfRank: Uint32Array;
  /** Quoted, escaped, UTF-8 encoded item names (see `nameBytes`). */
  readonly names: NameBytes;
  readonly limits: Pick<Limits, 'min_cooc_support' | 'max_neighbors_per_item'>;
}

/**
 * Rows `from .. to` of a job, counted ({@link CoocRowRange}) and written in
 * compact form (`bytes`, in order, each row preceded by its comma unless
 * it is row 0).
 * @since 0.4.0
 */
export interface CoocRangeResult extends CoocRowRange {
  readonly bytes: readonly Uint8Array[];
}

/**
 * Runs cooc row ranges somewhere else (worker threads). Implementations run
 * {@link emitCoocRange} on the job and range they are given and resolve to
 * its result; the order in which ranges finish does not matter.
 * @since 0.4.0
 */
export interface CoocRowPool {
  /** Threads that work at the same time (how many ranges to split rows into, times a few). */
  readonly size: number;
  emitCoocRange(job: CoocRangeJob, from: number, to: number): Promise<CoocRangeResult>;
  /**
   * Optional: starts the threads now, so that they load while the caller
   * prepares the job (the first range would start them otherwise).
   * @since 0.8.0
   */
  warm?(): void;
}

/**
 * Counts and writes rows `from .. to` of a job: what a worker thread runs.
 * Pure; the same bytes whichever thread runs it.
 * @since 0.4.0
 */
export function emitCoocRange(job: CoocRangeJob, from: number, to: number): CoocRangeResult {
  const rows = coocRowRange(job.runs, job.ranks, job.idOfRank, job.limits, from, to);
  const start = new Uint32Array(to - from);
  for (let k = 1; k < start.length; k++) start[k] = start[k - 1]! + rows.len[k - 1]!;
  return { ...rows, bytes: compactCoocRows(job.names, job.runs.rowIds, { start, len: rows.len, nbr: rows.nbr, cnt: rows.cnt }, from, to, from) };
}

/** The buffers of a range result, to transfer instead of copy when posting it back. @since 0.4.0 */
export function coocRangeTransferables(result: CoocRangeResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const a of [result.len, result.nbr, result.cnt, ...result.bytes]) if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
  return [...buffers];
}

function sharedCopy(a: Uint32Array): Uint32Array {
  const s = sharedU32(a.length);
  s.set(a);
  return s;
}

function sharedNames(names: NameBytes): NameBytes {
  const buf = new Uint8Array(new SharedArrayBuffer(names.buf.length));
  buf.set(names.buf);
  return { buf, start: sharedCopy(names.start) };
}

/**
 * Ranges the rows are split into per thread of the pool (handed out as threads finish). Not more: each
 * range costs a fresh worker its own set-up (a cold 1M run used ~150 ms more CPU with 8 per thread).
 */
const RANGES_PER_THREAD = 3;

/** Below this many events in a day, its rows are counted on the calling thread (no threads for small days). */
export const COOC_THREADS_MIN_WORK = 200_000;

/**
 * Below this many events in a day whose rows `max_items_per_artifact` cuts,
 * its rows are counted on the calling thread: the kept rows walk a small
 * part of the day (the defaults' 1000 rows: ~0.04 s per million events on
 * one thread, warm), less than two fresh threads cost to start and to
 * compile the count in (~0.1–0.15 CPU s each). On the filesystem the
 * partition's check thread hashes ~0.08 s per million events beside the
 * compute phase, so the second core is not free for them either: at 5M
 * events the threads made the run ~0.14 s slower, ~0.2 CPU s and ~25 MB
 * larger (five quiet alternated rounds, round 14). Storage without a check
 * thread (S3) would gain ~0.1 s at 5M from them; the filesystem default
 * decides.
 */
export const COOC_THREADS_MIN_CUT_WORK = 20_000_000;

/**
 * Whether {@link coocPayloadOnPool} uses the pool's threads for a day
 * (`minWork` overrides both thresholds, e.g. 0 in tests).
 * @since 0.8.0
 */
export function coocUsesThreads(table: { readonly length: number; readonly items: { readonly size: number } }, limits: Pick<Limits, 'max_items_per_artifact'>, minWork?: number): boolean {
  const cut = table.items.size > limits.max_items_per_artifact;
  return table.length >= (minWork ?? (cut ? COOC_THREADS_MIN_CUT_WORK : COOC_THREADS_MIN_WORK));
}

/**
 * The `cooc` payload of a day counted and written on the pool's threads:
 * byte for byte the payload of the `cooc` kind's single-thread build
 * (`computeCoocRows` + `coocPayload`). Days too small for threads
 * ({@link coocUsesThreads}) are counted here without them.
 * `parts` overrides how many ranges the rows are split into (tests).
 * @since 0.4.0
 */
export async function coocPayloadOnPool(table: EventTable, ranks: Uint32Array, limits: Limits, pool: CoocRowPool, options: { minWork?: number; parts?: number } = {}): Promise<Payload> {
  const names = table.items.values;
  const exposure = { names, counts: table.itemCounts.data, ranks };
  const idOfRank = invertRanks(ranks);
  const small = !coocUsesThreads(table, limits, options.minWork);
  const runs = sessionRunsOf(table, exposure, limits, idOfRank, small ? undefined : sharedU32);
  if (small || runs.rowIds.length === 0) {
    const rows = joinRowRanges(names, runs.rowIds, [coocRowRange(runs, ranks, idOfRank, limits, 0, runs.rowIds.length)]);
    return { members: [coocPayload(rows)], rows: rows.rowIds.length };
  }
  const job: CoocRangeJob = {
    runs,
    ranks: sharedCopy(ranks),
    idOfRank: sharedCopy(idOfRank),
    names: sharedNames(nameBytes(names)),
    limits: { min_cooc_support: limits.min_cooc_support, max_neighbors_per_item: limits.max_neighbors_per_item },
  };
  // A few ranges per thread, of about equal work, handed out one at a time as threads finish theirs: a
  // range that turns out slower (a row's cost is only estimated, and other threads of the process take
  // turns on the same cores) then does not leave the other threads idle at the end.
  const ranges = rowRanges(runs, options.parts ?? pool.size * RANGES_PER_THREAD);
  const results = new Array<CoocRangeResult>(ranges.length);
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < ranges.length && !failed) {
      const k = next++;
      try {
        results[k] = await pool.emitCoocRange(job, ranges[k]![0], ranges[k]![1]);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(pool.size, ranges.length) }, lane));
  // Joined only if the payload is written again from its rows (the pretty form): the compact bytes are enough for the rest.
  const bytes = results.flatMap((r) => r.bytes);
  // Not `results`: the closure must not hold the bytes once they are written.
  const counted = results.map(({ len, nbr, cnt }) => ({ len, nbr, cnt }));
  return { members: [coocPayload(() => joinRowRanges(names, runs.rowIds, counted), bytes)], rows: runs.rowIds.length };
}
