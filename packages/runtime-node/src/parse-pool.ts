import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LocalDictionary, RecsysError, parseChunk, type ChunkContext, type ChunkResult, type ParsePool } from '@recsys/core/internal';

interface Pending {
  resolve: (r: ChunkResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Parses raw chunks on worker threads (one dictionary per worker, chunks
 * assigned round-robin so each worker's results stay in submission order).
 * Workers start lazily: the first chunk of a stream is parsed on the main
 * thread, so small inputs (tests, the sample data) never pay for threads.
 */
export class WorkerParsePool implements ParsePool {
  private workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private next = 0;
  private ids = 0;
  private readonly local = new LocalDictionary(0);
  private localStream: string | undefined;

  constructor(private readonly size = Math.max(1, Math.min(8, availableParallelism()))) {}

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    // The first chunk of each stream stays on this thread; most days of small tenants fit in one.
    if (this.localStream !== ctx.stream) {
      this.localStream = ctx.stream;
      return Promise.resolve(parseChunk(chunk, ctx, this.local));
    }
    if (this.workers.length === 0) this.start();
    const slot = this.workers[this.next++ % this.workers.length]!;
    const id = ++this.ids;
    return new Promise<ChunkResult>((resolve, reject) => {
      // Keep the process alive while a worker owes us a result; idle workers don't.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
      slot.worker.postMessage({ id, chunk: owned, ctx }, [owned.buffer as ArrayBuffer]);
    });
  }

  private start(): void {
    const url = new URL('./parse-worker.js', import.meta.url);
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(url, { workerData: { dictId: i + 1 } });
      const pending = new Map<number, Pending>();
      worker.on('message', (msg: { id: number; result?: ChunkResult; error?: { message: string; stack?: string } }) => {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (pending.size === 0) worker.unref();
        if (msg.result) p.resolve(msg.result);
        else p.reject(new RecsysError('runtime', `parse worker failed: ${msg.error?.message}`, { stack: msg.error?.stack }));
      });
      const fail = (error: unknown) => {
        for (const p of pending.values()) p.reject(new RecsysError('runtime', `parse worker died: ${(error as Error)?.message ?? error}`, {}, { cause: error }));
        pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (pending.size > 0) fail(new Error(`exit code ${code}`));
      });
      // Idle workers must not keep the process alive.
      worker.unref();
      this.workers.push({ worker, pending });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers = [];
  }
}
