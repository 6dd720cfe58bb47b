import type { PipelineEnv } from '../pipeline-env.js';

/**
 * What threaded compute adds to the process after ingest, measured at 50M
 * events (full cooc, 2 compute threads): 2233 MB peak from 1350 MB, about
 * 17.6 bytes per event (the session runs in shared memory, the rows of
 * ranges finished out of order, two worker isolates that load core); on one
 * thread the same day peaks at 1831 MB.
 */
const THREADS_RESERVE = 256 * 2 ** 20;
const THREADED_BYTES_PER_EVENT = 16;

/**
 * The compute pool, unless its threads would take the process past the
 * memory budget (DESIGN §7): then compute runs on the calling thread, which
 * gives the same bytes with less memory.
 * @since 0.6.0
 */
export function computePoolWithin(env: Pick<PipelineEnv, 'computePool' | 'spill' | 'logger'>, events: number): PipelineEnv['computePool'] {
  const pool = env.computePool;
  const inUse = env.spill?.memoryInUse;
  if (!pool || !inUse) return pool;
  const need = inUse() + events * THREADED_BYTES_PER_EVENT + THREADS_RESERVE;
  if (need <= env.spill!.memoryBudget) return pool;
  env.logger.info({ events, memory_budget: env.spill!.memoryBudget, estimated_bytes: need }, 'compute on one thread: its threads would not fit the memory budget');
  return undefined;
}
