import { availableParallelism } from 'node:os';
import { LocalDictionary, parseChunk, type ChunkContext, type ChunkResult, type ParsePool } from '@recsys/core/internal';
import { WorkerSlots } from './worker-slots.js';

/** Options of {@link WorkerParsePool}. @since 0.10.0 */
export interface WorkerParsePoolOptions {
  /**
   * Chunks of fewer bytes are parsed on the calling thread (default 64 KiB,
   * {@link LOCAL_CHUNK_BYTES}): a round trip to a worker costs more than a
   * few lines' parse.
   */
  readonly localBelow?: number;
}

/**
 * Below this many bytes a chunk is parsed on the calling thread. Ingest cuts
 * its blocks from 4 MiB read chunks as views, so every read chunk also
 * yields one small block: the line it finishes, joined with the bytes
 * carried from the chunk before. Half the blocks of a day are such one-line
 * blocks; sent to a worker, each costs two messages with eleven transferred
 * buffers for a parse of one line.
 * @since 0.10.0
 */
export const LOCAL_CHUNK_BYTES = 64 * 1024;

/**
 * Parses raw chunks on worker threads (one dictionary per worker). Workers
 * start on {@link WorkerParsePool.warm} (ingest calls it when the raw input
 * is bigger than one chunk) or on a stream's second chunk, so small inputs
 * (tests, the sample data) never pay for threads. Once started, every chunk
 * of at least `localBelow` bytes goes to the worker with the fewest chunks
 * in flight, ready or still loading (its messages wait for it): the calling
 * thread then never runs the parser hot, so V8 compiles it in the workers'
 * isolates only (parsing the first chunks here while the workers loaded
 * compiled it in a third). Smaller chunks, and the first chunk of a stream
 * nobody announced, are parsed on the calling thread.
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
  private readonly localBelow: number;

  constructor(size = Math.max(1, Math.min(8, availableParallelism())), options: WorkerParsePoolOptions = {}) {
    // Dictionary 0 is the calling thread's; worker i owns dictionary i + 1.
    this.slots = new WorkerSlots(new URL('./parse-worker.js', import.meta.url), size, 'parse', 'least-busy-ready', (i) => ({ dictId: i + 1 }));
    this.localBelow = options.localBelow ?? LOCAL_CHUNK_BYTES;
  }

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    if (chunk.byteLength < this.localBelow) return Promise.resolve(parseChunk(chunk, ctx, this.local));
    if (!this.slots.started) {
      // The first chunk of a stream nobody announced stays on this thread; most days of small tenants fit in one.
      if (this.localStream !== ctx.stream) {
        this.localStream = ctx.stream;
        return Promise.resolve(parseChunk(chunk, ctx, this.local));
      }
      void this.slots.warm();
    }
    // The chunk's whole buffer is ours (ParsePool.parse): a view of most of it goes over as it is, with its
    // buffer (a block cut from a file's read chunk). A view of less than half is copied rather than holding the
    // rest across threads (and a small Node Buffer may be a slice of a pool shared by the whole thread).
    const owned = chunk.byteLength * 2 >= chunk.buffer.byteLength ? chunk : chunk.slice();
    return this.slots.request({ chunk: owned, ctx }, [owned.buffer as ArrayBuffer]);
  }

  /**
   * Starts the worker threads now (a caller that knows a big stream is coming); from here on every chunk of at
   * least `localBelow` bytes goes to them. Resolves when they are ready to parse.
   */
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
