import { LocalDictionary, parseChunk, type ChunkContext, type ChunkResult, type ParsePool } from '@recsys/core/internal';
import { WorkerThreads, defaultWorkerCount } from './worker-threads.js';

/**
 * Parses raw chunks on worker threads (one dictionary per worker, chunks
 * assigned round-robin). Workers start lazily: the first chunk of a stream
 * is parsed on the main thread, so small inputs (tests, the sample data)
 * never pay for threads. Built on {@link WorkerThreads} shared with a
 * compute pool, it leaves them to their owner; built with a size, it owns
 * (and closes) threads of its own.
 */
export class WorkerParsePool implements ParsePool {
  private readonly threads: WorkerThreads;
  private readonly owned: boolean;
  private readonly local = new LocalDictionary(0);
  private localStream: string | undefined;

  constructor(threads: number | WorkerThreads = defaultWorkerCount()) {
    // Dictionary 0 is the main thread's; worker i owns dictionary i + 1.
    this.owned = typeof threads === 'number';
    this.threads = typeof threads === 'number' ? new WorkerThreads(threads) : threads;
  }

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    // The first chunk of each stream stays on this thread; most days of small tenants fit in one.
    if (this.localStream !== ctx.stream) {
      this.localStream = ctx.stream;
      return Promise.resolve(parseChunk(chunk, ctx, this.local));
    }
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    return this.threads.slots.request<ChunkResult>({ kind: 'parse', chunk: owned, ctx }, [owned.buffer as ArrayBuffer], 'round-robin', 'parse');
  }

  /** Ends the pool's own threads (shared threads are their owner's to close). */
  async close(): Promise<void> {
    if (this.owned) await this.threads.close();
  }
}
