import { availableParallelism } from 'node:os';
import type { ChunkResult } from '@recsys/core/internal';
import type { CoocRangeResult } from '@recsys/core';
import { WorkerSlots } from './worker-slots.js';

/** One worker per core, up to 8. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/**
 * A set of worker threads that a {@link WorkerParsePool} and a
 * {@link WorkerComputePool} can share: ingest parses on them, then compute
 * counts cooc rows on the same threads, so a `run` starts (and warms up,
 * and garbage-collects) one set of isolates instead of two. Worker `i`
 * keeps parse dictionary `i + 1` between requests. The threads start on
 * the first request and never keep an idle process alive; whoever creates
 * them closes them (pools built on shared threads leave them open).
 * @since 0.5.0
 */
export class WorkerThreads {
  /** @internal */
  readonly slots: WorkerSlots<ChunkResult | CoocRangeResult>;

  constructor(readonly size = defaultWorkerCount()) {
    this.slots = new WorkerSlots(new URL('./worker.js', import.meta.url), size, 'worker', 'round-robin', (i) => ({ dictId: i + 1 }));
  }

  /** Terminates the threads; a later request starts a fresh set. */
  close(): Promise<void> {
    return this.slots.close();
  }
}
