import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RecsysError, type CoocRangeJob, type CoocRangeResult, type CoocRowPool } from '@recsys/core';

interface Pending {
  resolve: (r: CoocRangeResult) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

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
  private slots: Slot[] = [];
  private ids = 0;

  constructor(readonly size = Math.max(1, Math.min(8, availableParallelism()))) {}

  emitCoocRange(job: CoocRangeJob, from: number, to: number): Promise<CoocRangeResult> {
    if (this.slots.length === 0) this.start();
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = ++this.ids;
    return new Promise<CoocRangeResult>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job, from, to });
    });
  }

  private start(): void {
    const url = new URL('./compute-worker.js', import.meta.url);
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(url);
      const pending = new Map<number, Pending>();
      worker.on('message', (msg: { id: number; result?: CoocRangeResult; error?: { message: string; stack?: string } }) => {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (pending.size === 0) worker.unref();
        if (msg.result) p.resolve(msg.result);
        else p.reject(new RecsysError('runtime', `compute worker failed: ${msg.error?.message}`, { stack: msg.error?.stack }));
      });
      const fail = (error: unknown) => {
        for (const p of pending.values()) p.reject(new RecsysError('runtime', `compute worker died: ${(error as Error)?.message ?? error}`, {}, { cause: error }));
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (pending.size > 0) fail(new Error(`exit code ${code}`));
      });
      worker.unref();
      this.slots.push({ worker, pending });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots = [];
  }
}
