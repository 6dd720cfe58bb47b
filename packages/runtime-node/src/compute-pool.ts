import type { CoocRangeJob, CoocRangeResult, CoocRowPool } from '@recsys/core';
import { WorkerThreads, defaultWorkerCount } from './worker-threads.js';

/**
 * Counts and writes cooc row ranges on worker threads (core's pure
 * `emitCoocRange`). The job's arrays live in shared memory, so posting them
 * shares them with the worker; the results' buffers are transferred back.
 * A range goes to the worker with the fewest ranges in flight. Workers
 * start on the first range (days too small for threads never start them)
 * and do not keep the process alive while idle. Built on
 * {@link WorkerThreads} shared with the parse pool (the CLI does), compute
 * reuses ingest's threads; built with a size, it owns (and closes) its own.
 * @since 0.4.0
 */
export class WorkerComputePool implements CoocRowPool {
  private readonly threads: WorkerThreads;
  private readonly owned: boolean;

  constructor(threads: number | WorkerThreads = defaultWorkerCount()) {
    this.owned = typeof threads === 'number';
    this.threads = typeof threads === 'number' ? new WorkerThreads(threads) : threads;
  }

  /** Threads that work at the same time. */
  get size(): number {
    return this.threads.size;
  }

  emitCoocRange(job: CoocRangeJob, from: number, to: number): Promise<CoocRangeResult> {
    return this.threads.slots.request<CoocRangeResult>({ kind: 'cooc', job, from, to }, [], 'least-busy', 'compute');
  }

  /** Ends the pool's own threads (shared threads are their owner's to close). */
  async close(): Promise<void> {
    if (this.owned) await this.threads.close();
  }
}
