import { availableParallelism } from 'node:os';
import { LocalDictionary, parseChunk, type ChunkContext, type ChunkResult, type ParsePool } from '@recsys/core/internal';
import { WorkerSlots } from './worker-slots.js';

/**
 * Parses raw chunks on worker threads (one dictionary per worker, chunks
 * assigned round-robin so each worker's results stay in submission order).
 * Workers start lazily: the first chunk of a stream is parsed on the main
 * thread, so small inputs (tests, the sample data) never pay for threads.
 */
export class WorkerParsePool implements ParsePool {
  private readonly slots: WorkerSlots<ChunkResult>;
  private readonly local = new LocalDictionary(0);
  private localStream: string | undefined;

  constructor(size = Math.max(1, Math.min(8, availableParallelism()))) {
    // Dictionary 0 is the main thread's; worker i owns dictionary i + 1.
    this.slots = new WorkerSlots(new URL('./parse-worker.js', import.meta.url), size, 'parse', 'round-robin', (i) => ({ dictId: i + 1 }));
  }

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    // The first chunk of each stream stays on this thread; most days of small tenants fit in one.
    if (this.localStream !== ctx.stream) {
      this.localStream = ctx.stream;
      return Promise.resolve(parseChunk(chunk, ctx, this.local));
    }
    const owned = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice();
    return this.slots.request({ chunk: owned, ctx }, [owned.buffer as ArrayBuffer]);
  }

  /** Ends the worker threads until the next stream needs them (their heaps go back to the system). */
  idle(): Promise<void> {
    this.localStream = undefined;
    return this.slots.close();
  }

  close(): Promise<void> {
    return this.slots.close();
  }
}
