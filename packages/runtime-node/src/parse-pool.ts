import { availableParallelism } from 'node:os';
import { LocalDictionary, chunkArenaBytes, parseChunk, type ChunkContext, type ChunkResult, type ParsePool, type ReadBuffers } from '@recsys/core/internal';
import { WorkerSlots } from './worker-slots.js';

/** Options of {@link WorkerParsePool}. @since 0.10.0 */
export interface WorkerParsePoolOptions {
  /**
   * Chunks of fewer bytes are parsed on the calling thread (default 64 KiB,
   * {@link LOCAL_CHUNK_BYTES}): a round trip to a worker costs more than a
   * few lines' parse.
   */
  readonly localBelow?: number;
  /**
   * Shared blocks a chunk is parsed in (default: {@link WorkerParsePool.depth}
   * plus two, at least {@link RING_BLOCKS}): at most this many chunks are on
   * the workers or not yet released by the caller; a further
   * {@link WorkerParsePool.parse} waits for a release.
   * @since 0.11.0
   */
  readonly blocks?: number;
  /** Raw bytes a block holds before it grows (default 4 MiB + 64 KiB: ingest's read chunks, and its joined blocks). @since 0.11.0 */
  readonly blockBytes?: number;
  /**
   * Sizes of the first reads into the pool's blocks after its workers start
   * ({@link WorkerParsePool.readBuffers}; default {@link FIRST_READS}): each
   * is a view of its block that long, and ingest parses it as one block.
   * Later reads fill the whole block. `[]` reads whole blocks from the start.
   * @since 0.13.0
   */
  readonly firstReads?: readonly number[];
}

/**
 * The sizes of a pool's first reads after its workers start, by default
 * none: whole blocks from the start. A worker new to the parser runs it
 * slowly until V8 has compiled it (a first 4 MiB block took 100–200 ms
 * against 20–60 ms once compiled), and short first reads (256 KiB, 512
 * KiB, 1 MiB, 2 MiB were tried) bring the first result back sooner. But on a
 * quiet host they cost the whole run more system CPU than they saved (the
 * 5M-event day: 0.9–1.0 → 1.6–2.1 s of system time, 4.82–4.97 → 5.32–5.70
 * s wall, alternated; docs/explanation/performance.md, "Round 13: the start
 * of ingest"), so they are an option (`firstReads`), not the default.
 * @since 0.13.0
 */
export const FIRST_READS: readonly number[] = [];

/**
 * The fewest blocks of a {@link WorkerParsePool}'s ring. By default it has
 * one per chunk ingest keeps in flight ({@link WorkerParsePool.depth}: two
 * per worker, parsed or being parsed, not yet merged), one for the chunk
 * being read ahead and one spare, so neither a read nor a parse waits.
 * @since 0.11.0
 */
export const RING_BLOCKS = 4;

/**
 * One block of the ring: the chunk's raw bytes and the memory its result's
 * columns are written into, both shared with the workers. Posting a view of
 * shared memory shares it: nothing is transferred, so no ArrayBuffer is ever
 * detached, in this thread or in a worker (an isolate that detached one runs
 * typed-array code with detach checks, 15–25 % slower in the parse kernel),
 * and the same memory serves chunk after chunk (no fresh buffers for the GC).
 */
interface RingBlock {
  raw: Uint8Array<SharedArrayBuffer>;
  arena: SharedArrayBuffer;
  /** Raw bytes the arena's layout is for (chunkArena). */
  arenaFor: number;
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
 * A chunk sent to a worker is copied into a block of a fixed ring of shared
 * memory, and the worker writes the result's columns into that block's
 * arena: the result's arrays are views of the block until the caller hands
 * it back with {@link WorkerParsePool.release} (ingest does after merging
 * it). When every block is out, `parse` waits for a release.
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
  private readonly blockBytes: number;
  /** Blocks not in use (made on first need, up to `blockCount`). */
  private readonly free: RingBlock[] = [];
  private made = 0;
  private readonly blockCount: number;
  /** Parses waiting for a block, first come first served. */
  private readonly waiting: ((block: RingBlock) => void)[] = [];
  /** The block each worker result lives in, until released. */
  private readonly held = new WeakMap<ChunkResult, RingBlock>();
  /** The block the raw input was last read into ({@link WorkerParsePool.readBuffers}), unless a parse took it. */
  private reading: RingBlock | undefined;
  /** Every block by its buffer (to know a chunk read into one). */
  private readonly blockOf = new Map<ArrayBufferLike, RingBlock>();
  private readonly firstReads: readonly number[];
  /** Reads into the blocks since the workers started (the first ones are shorter, `firstReads`). */
  private readsSinceStart = 0;

  /**
   * The ring's blocks, to read the raw input into (ParsePool.readBuffers):
   * a chunk read into one and handed to {@link WorkerParsePool.parse} is
   * parsed where it is, not copied. The next read takes the block back
   * unless a parse took it. A read never waits: with every block held by a
   * result it gets one more (the caller's merge releases them only after
   * the reads it is waiting for; ingest keeps fewer chunks in flight than
   * the ring has blocks, so with the default ring this does not happen).
   */
  readonly readBuffers: ReadBuffers = {
    next: async () => {
      const block = this.reading ?? this.take() ?? this.make();
      this.reading = block;
      // While the workers are new, shorter reads (firstReads): a view of the block's start.
      const first = this.slots.started ? this.firstReads[this.readsSinceStart++] : undefined;
      return first !== undefined && first < block.raw.length ? block.raw.subarray(0, first) : block.raw;
    },
    owns: (bytes) => this.blockOf.has(bytes.buffer),
  };

  /**
   * Chunks the caller keeps posted and not yet merged (ParsePool.depth): two
   * per worker, so a worker that answers one finds the next one waiting
   * while the caller merges (with one per worker, each idled from its answer
   * until the caller had merged it, read the next chunk and posted it).
   * @since 0.12.0
   */
  readonly depth: number;

  constructor(size = Math.max(1, Math.min(8, availableParallelism())), options: WorkerParsePoolOptions = {}) {
    // Dictionary 0 is the calling thread's; worker i owns dictionary i + 1.
    this.slots = new WorkerSlots(new URL('./parse-worker.js', import.meta.url), size, 'parse', 'least-busy-ready', (i) => ({ dictId: i + 1 }));
    this.localBelow = options.localBelow ?? LOCAL_CHUNK_BYTES;
    this.depth = 2 * size;
    this.blockCount = Math.max(1, options.blocks ?? Math.max(RING_BLOCKS, this.depth + 2));
    this.blockBytes = options.blockBytes ?? 4 * 1024 * 1024 + LOCAL_CHUNK_BYTES;
    this.firstReads = options.firstReads ?? FIRST_READS;
  }

  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    // A chunk read into the block the reader holds: parsed there, and the block is the result's until released.
    const own = this.reading !== undefined && chunk.buffer === this.reading.raw.buffer ? this.reading : undefined;
    if (own) this.reading = undefined;
    if (chunk.byteLength < this.localBelow) return Promise.resolve(this.here(chunk, ctx, own));
    if (!this.slots.started) {
      // The first chunk of a stream nobody announced stays on this thread; most days of small tenants fit in one.
      if (this.localStream !== ctx.stream) {
        this.localStream = ctx.stream;
        return Promise.resolve(this.here(chunk, ctx, own));
      }
      void this.slots.warm();
    }
    if (own) return this.send(own, chunk, ctx);
    const block = this.take();
    // The caller's chunk is copied now (ParsePool.parse: the pool takes it over, but it is not kept).
    return block ? this.send(block, chunk, ctx) : new Promise<RingBlock>((resolve) => this.waiting.push(resolve)).then((b) => this.send(b, chunk, ctx));
  }

  /** Parses on this thread; a chunk in `own` keeps that block until the result is released (its canonical bytes may be a view of it). */
  private here(chunk: Uint8Array, ctx: ChunkContext, own: RingBlock | undefined): ChunkResult {
    const result = parseChunk(chunk, ctx, this.local);
    if (own) this.held.set(result, own);
    return result;
  }

  /** The caller is done with `result`: its block serves the next chunk (ParsePool.release). */
  release(result: ChunkResult): void {
    const block = this.held.get(result);
    if (!block) return;
    this.held.delete(result);
    this.giveBack(block);
  }

  /** A free block, made if fewer than `blockCount` exist; undefined when all are out. */
  private take(): RingBlock | undefined {
    const free = this.free.pop();
    if (free) return free;
    if (this.made >= this.blockCount) return undefined;
    return this.make();
  }

  /** A new block (of the ring, or one more for a read that must not wait). */
  private make(): RingBlock {
    this.made++;
    const block = { raw: new Uint8Array(new SharedArrayBuffer(this.blockBytes)), arena: new SharedArrayBuffer(chunkArenaBytes(this.blockBytes)), arenaFor: this.blockBytes };
    this.blockOf.set(block.raw.buffer, block);
    return block;
  }

  private async send(block: RingBlock, chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult> {
    let result: ChunkResult;
    try {
      let raw: Uint8Array;
      if (chunk.buffer === block.raw.buffer) raw = chunk;
      else {
        if (chunk.byteLength > block.raw.byteLength) {
          // A bigger chunk than the blocks were made for (a source's odd chunking): this block grows for good.
          this.blockOf.delete(block.raw.buffer);
          block.raw = new Uint8Array(new SharedArrayBuffer(chunk.byteLength));
          this.blockOf.set(block.raw.buffer, block);
          block.arena = new SharedArrayBuffer(chunkArenaBytes(chunk.byteLength));
          block.arenaFor = chunk.byteLength;
        }
        block.raw.set(chunk);
        raw = block.raw.subarray(0, chunk.byteLength);
      }
      // No transfer list: the views are of shared memory, posted as such.
      result = await this.slots.request({ chunk: raw, arena: block.arena, arenaFor: block.arenaFor, ctx });
    } catch (error) {
      this.giveBack(block);
      throw error;
    }
    this.held.set(result, block);
    return result;
  }

  private giveBack(block: RingBlock): void {
    const next = this.waiting.shift();
    if (next) next(block);
    else this.free.push(block);
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
    this.readsSinceStart = 0;
    return this.slots.close();
  }

  close(): Promise<void> {
    this.readsSinceStart = 0;
    return this.slots.close();
  }
}
