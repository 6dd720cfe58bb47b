import { availableParallelism } from 'node:os';
import { LocalDictionary, parseChunk, type ChunkContext, type ChunkResult, type ParsePool } from '@recsys/core/internal';
import { WorkerSlots } from './worker-slots.js';

/**
 * Parses raw chunks on worker threads (one dictionary per worker). Workers
 * start lazily, on a stream's second chunk, so small inputs (tests, the
 * sample data) never pay for threads; until one of them says it is ready
 * (a worker loads its modules first: a few hundred ms on a busy machine),
 * chunks are parsed on the calling thread instead of waiting for it. Then
 * each chunk goes to the ready worker with the fewest chunks in flight.
 *
 * Any assignment of chunks to dictionaries gives the same ingest: a worker
 * answers its chunks in the order it got them, the calling thread parses
 * them at once, and the merge takes results in submission order, so each
 * dictionary's new values arrive in the order it found them.
 */
export class WorkerParsePool implements ParsePool {
  private readonly slots: WorkerSlots<ChunkResult>;
  private readonly local = new LocalDictionary(0);
  private localStream: string | undefined;

  constructor(size = Math.max(1, Math.min(8, availableParallelism()))) {
    // Dictionary 0 is the calling thread's; worker i owns dictionary i + 1.
    this.slots = new WorkerSlots(new URL('./parse-worker.js', import.meta.url), size, 'parse', 'least-busy-ready', (i) => ({ dictId: i + 1 }));
  }

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    // The first chunk of each stream stays on this thread; most days of small tenants fit in one.
    if (this.localStream !== ctx.stream) {
      this.localStream = ctx.stream;
      return Promise.resolve(parseChunk(chunk, ctx, this.local));
    }
    if (this.slots.ready === 0) {
      void this.slots.warm();
      return Promise.resolve(parseChunk(chunk, ctx, this.local));
    }
    // The chunk's whole buffer is ours (ParsePool.parse): a view of most of it goes over as it is, with its
    // buffer (a block cut from a file's read chunk). A view of less than half is copied rather than holding the
    // rest across threads (and a small Node Buffer may be a slice of a pool shared by the whole thread).
    const owned = chunk.byteLength * 2 >= chunk.buffer.byteLength ? chunk : chunk.slice();
    return this.slots.request({ chunk: owned, ctx }, [owned.buffer as ArrayBuffer]);
  }

  /** Starts the worker threads now; resolves when they are ready to parse (tests, or a caller that knows a big stream is coming). */
  warm(): Promise<void> {
    return this.slots.warm();
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
