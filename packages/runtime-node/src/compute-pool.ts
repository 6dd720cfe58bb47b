import { availableParallelism } from 'node:os';
import type { CoocRangeJob, CoocRangeResult, CoocRowPool } from '@recsys/core';
import { WorkerSlots } from './worker-slots.js';

/**
 * Counts and writes cooc row ranges on worker threads (`compute-worker.js`,
 * which runs core's pure `emitCoocRange`). The job's arrays live in shared
 * memory, so posting them shares them with the worker; the results' buffers
 * are transferred back. A range goes to the worker with the fewest ranges
 * in flight. Workers start on the first range (days too small for threads
 * never start them) and do not keep the process alive while idle. Whoever
 * creates the pool closes it.
 * @since 0.4.0
 */
export class WorkerComputePool implements CoocRowPool {
  private readonly slots: WorkerSlots<CoocRangeResult>;

  constructor(readonly size = Math.max(1, Math.min(8, availableParallelism()))) {
    this.slots = new WorkerSlots(new URL('./compute-worker.js', import.meta.url), size, 'compute', 'least-busy');
  }

  emitCoocRange(job: CoocRangeJob, from: number, to: number): Promise<CoocRangeResult> {
    return this.slots.request({ job, from, to });
  }

  /** Starts the threads now (they load their modules while the caller prepares the job). */
  warm(): void {
    void this.slots.warm();
  }

  close(): Promise<void> {
    return this.slots.close();
  }
}
