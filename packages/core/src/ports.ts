/**
 * Ports: the only way core reaches the outside world. Adapters
 * (`@recsys/storage-fs`, `@recsys/storage-s3`) implement them; the CLI wires
 * them. Keys are `/`-separated, relative, and built only from validated path
 * segments (see `keys.ts`).
 */
import type { ChunkContext, ChunkResult } from './ingest/chunk-parser.js';
import type { RejectReason } from './ingest/raw-event.js';
import type { Scope } from './keys.js';

/** Size and identity of a stored object. @since 0.1.0 */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

/** A stored object's bytes with the opaque generation used for compare-and-swap. @since 0.1.0 */
export interface VersionedObject {
  readonly data: Uint8Array;
  /** Opaque token that changes whenever the object changes (fs: content hash; S3: ETag). */
  readonly generation: string;
}

/** Result of a conditional write. @since 0.1.0 */
export type ConditionalPutResult = 'written' | 'conflict';

/** Options of {@link ObjectStorage.writer}. @since 0.8.0 */
export interface WriterOptions {
  /** The SHA-256 (lower-case hex) of the bytes that will be written, when the caller knows it. */
  readonly sha256?: string | undefined;
  /**
   * True when every reader of the object checks its bytes against the
   * SHA-256 that `commit` reports (the caller records it, and its reader
   * refuses other bytes by name before it uses them): an ingest part's
   * buckets, checked by the compute task that reads them. A backend that
   * reads what it stored back to check it (fs) then checks only the stored
   * size, not every byte again: a bad copy is still refused, where it is
   * read instead of where it is written. Only for such intermediates; final
   * artifacts, canonical partitions and published blobs keep every check.
   * @since 0.9.0
   */
  readonly verifiedByReader?: boolean | undefined;
  /**
   * False when the caller has no use for the bytes' SHA-256 (it records a
   * checksum of its own, which every reader checks: an ingest part's
   * buckets, with `verifiedByReader`). A backend that hashes what it writes
   * only to report the SHA-256 (fs, for an object `verifiedByReader`) then
   * does not, and {@link ObjectWriter.reportsSha256} is false; the stored
   * size is still checked at commit. Default true.
   * @since 0.10.0
   */
  readonly reportSha256?: boolean | undefined;
}

/** Options of {@link ObjectStorage.read} and {@link ObjectStorage.readFrom}. @since 0.9.0 */
export interface ReadOptions {
  /**
   * Bytes per chunk the caller would like, a hint (a backend may yield any
   * sizes). Ingest asks for chunks of its parse blocks' size: a chunk of
   * whole lines then goes to the parser as it came, not copied into a block.
   */
  readonly chunkBytes?: number | undefined;
  /**
   * Read into these buffers instead of buffers of the backend's own: each
   * chunk is put at the start of a buffer from `into.next()` and yielded as
   * a view of it. A backend that receives its bytes from elsewhere (a
   * network body) may ignore this and yield its own.
   * @since 0.11.0
   */
  readonly into?: ReadBuffers | undefined;
}

/**
 * Buffers a read fills ({@link ReadOptions.into}); ingest gets them from its
 * parse pool ({@link ParsePool.readBuffers}), which parses a chunk where it
 * was read.
 * @since 0.11.0
 */
export interface ReadBuffers {
  /**
   * A buffer for the next chunk. Asking for it says that the previous chunk
   * is no longer read: its consumer asked for the next one, having copied
   * what it keeps, or handed it to the parse pool (which then keeps that
   * buffer until the result is released). May wait until a buffer is free.
   * A read fills at most the buffer's length, and ingest parses a chunk read
   * into one as the block it is, whatever its size: a pool that wants a
   * short block (the first ones while its threads start, so the first
   * result comes back sooner) hands out a shorter view.
   */
  next(): Promise<Uint8Array>;
  /** Whether `bytes` is a view of a buffer {@link ReadBuffers.next} handed out (a consumer copies what it keeps of one). */
  owns(bytes: Uint8Array): boolean;
}

/** An atomic streaming write: nothing is visible under the key until `commit`. @since 0.1.0 */
export interface ObjectWriter {
  /**
   * True when `commit` returns the SHA-256 of the bytes written (a backend
   * that hashes them anyway, e.g. to check the stored file): callers that
   * need that hash take it instead of hashing every byte a second time.
   * @since 0.6.0
   */
  readonly reportsSha256?: boolean;
  /**
   * Appends `chunk`. The writer does not keep it once this resolves (it
   * copies what it holds on to): the caller may then reuse its memory
   * (ingest writes canonical lines straight from the parse pool's reused
   * blocks).
   */
  write(chunk: string | Uint8Array): Promise<void>;
  /**
   * Makes the object visible atomically, replacing any previous object; with
   * `exclusive`, only if no object exists under the key (then `written` is
   * false and what was written is discarded). Returns the size written, and
   * with {@link ObjectWriter.reportsSha256} the bytes' SHA-256 (lower-case hex).
   */
  commit(options?: { exclusive?: boolean }): Promise<{ size: number; written: boolean; sha256?: string }>;
  /** Discards everything written; the previous object (if any) is untouched. */
  abort(): Promise<void>;
}

/**
 * A key/value object store with atomic replace, exclusive create and
 * compare-and-swap. One implementation per backend; every other storage
 * concept of the pipeline (canonical partitions, blobs, registry, checkpoints)
 * is core logic over this port.
 * @since 0.1.0
 */
export interface ObjectStorage {
  /** Human-readable location for messages (`/abs/dir`, `s3://bucket/prefix`). */
  readonly location: string;
  /** The URI published in manifests for `key` (`file:///…`, `s3://bucket/key`). */
  uri(key: string): string;
  /** The key a URI produced by {@link ObjectStorage.uri} points to, or `undefined` if it is not in this storage. */
  keyOfUri(uri: string): string | undefined;
  /** Whole object, or `undefined` when missing. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Whole object with its generation, or `undefined` when missing. */
  getVersioned(key: string): Promise<VersionedObject | undefined>;
  /**
   * Streams the object's bytes (no whole-object buffering), or `undefined`
   * when missing. Every chunk is the consumer's: the storage never writes
   * into a chunk it has yielded, so a consumer may keep views of it (as
   * the bucket decoder does) instead of copying. @since 0.9.0 (chunks kept,
   * options)
   */
  read(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined>;
  /**
   * Streams the object's bytes from byte `start` to its end (a positioned
   * read on files, ranged GETs on S3), or `undefined` when missing. The
   * consumer stops early by ending its iteration; no more is fetched than one
   * read chunk past that point. Optional: without it, readers skip `start`
   * bytes of {@link ObjectStorage.read}. Chunks are the consumer's, as with
   * {@link ObjectStorage.read}.
   * @since 0.4.0
   */
  readFrom?(key: string, start: number, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Size of the object, or `undefined` when missing. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Atomically writes (replaces) the object. */
  put(key: string, data: string | Uint8Array): Promise<void>;
  /** Creates the object only if no object exists under the key. */
  putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult>;
  /**
   * Replaces the object only if its generation still equals `generation`
   * (`null`: only if it does not exist). The compare and the write are atomic.
   */
  putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult>;
  /**
   * Opens an atomic streaming writer for large objects. `options.sha256`:
   * the SHA-256 the bytes will have, when the caller knows it (a blob whose
   * hash was derived as it was built). A backend that checks what it stored
   * checks it against that hash instead of hashing the bytes as they stream
   * (`commit` then fails when they differ, and reports that hash); others
   * may ignore it. @since 0.8.0 (options)
   */
  writer(key: string, options?: WriterOptions): Promise<ObjectWriter>;
  /**
   * Creates `key` (exclusively: an existing object is kept, `written`
   * false) with the bytes of `sourceKey` in `source`, without passing them
   * through this process (a hard link on a filesystem).
   * Resolves `undefined` when this storage cannot do that from `source`
   * (another backend, filesystem or bucket); the caller then copies the
   * bytes itself. Optional: storages without it are always copied through.
   * @since 0.4.0
   */
  copyFrom?(source: ObjectStorage, sourceKey: string, key: string): Promise<{ readonly written: boolean; readonly size: number } | undefined>;
  /** Every object whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes the object; missing objects are not an error. */
  delete(key: string): Promise<void>;
}

/** Wall clock, injectable for tests. @since 0.1.0 */
export interface Clock {
  now(): Date;
}

/** Structured logger (pino-compatible subset). @since 0.1.0 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Who and where a run is, recorded in history entries and records. @since 0.1.0 */
export interface RunIdentity {
  readonly runId: string;
  readonly host: string;
  readonly user: string;
  readonly pid?: number;
  /** Tool name and version, e.g. `recsys-pipelines 0.1.0`. */
  readonly tool: { readonly name: string; readonly version: string };
}

/** A logger that drops everything. @since 0.1.0 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** The system clock. @since 0.1.0 */
export const systemClock: Clock = { now: () => new Date() };

/** Incremental SHA-256 (adapters back it with `node:crypto`; core stays pure). @since 0.1.0 */
export interface Sha256 {
  update(data: string | Uint8Array): void;
  /** Lowercase hex digest; the hash cannot be updated afterwards. */
  digest(): string;
  /**
   * An independent hasher in this one's current state (optional): two
   * texts with a common prefix are then hashed with the prefix read once.
   * @since 0.4.0
   */
  copy?(): Sha256;
}

/** Creates incremental SHA-256 hashers. @since 0.1.0 */
export type Sha256Factory = () => Sha256;

/**
 * CRC-32 (IEEE 802.3, as zlib's `crc32`): the checksum of `data` continued
 * from `value`, the CRC-32 of the bytes before it (0 to start), as an
 * unsigned 32-bit number; `data` may be empty (then `value` itself). A
 * checksum against accidents (a truncated, changed or mixed-up object), not
 * against tampering: used where the same pipeline writes and reads an
 * intermediate (ingest parts' buckets); canonical partitions, partials and
 * artifacts keep SHA-256. Core's `portableCrc32` is the fallback; the Node
 * runtime supplies `zlib.crc32` where it exists (`nodeCrc32`).
 * @since 0.10.0
 */
export type Crc32 = (data: Uint8Array, value: number) => number;

/**
 * Parses chunks of raw lines, possibly on other threads (the Node runtime
 * has a worker-thread pool). Results must come back per dictionary in
 * submission order (one FIFO queue per worker). Whoever creates a pool
 * closes it.
 * @since 0.1.0
 */
export interface ParsePool {
  /**
   * Parses `chunk`. The pool takes its whole buffer over (it may transfer
   * `chunk.buffer` to another thread, not only the bytes of the view): the
   * caller no longer uses any of that buffer.
   */
  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult>;
  /**
   * Called between streams, when a day's raw input has all been parsed: a
   * pool may end its threads to give their memory back to compute (the
   * next stream starts with empty dictionaries anyway). Never called with
   * a parse in flight.
   * @since 0.4.0
   */
  idle?(): Promise<void>;
  /**
   * Optional: the caller knows a stream of more than one chunk is coming
   * (ingest, from the raw inputs' sizes). A pool of threads starts them now
   * and sends every big chunk of it to them, even its first ones while they
   * load, rather than parsing those on the calling thread (which would
   * compile the parser in one isolate more).
   * @since 0.10.0
   */
  warm?(): void;
  /**
   * Optional: the caller is done with `result` (merged it, and every write
   * of its bytes has resolved). A pool that parses into memory it reuses
   * (a ring of shared blocks) may hand that memory to the next chunk only
   * after this, and may make {@link ParsePool.parse} wait for it when all
   * of its memory is in use: a caller of such a pool releases every result.
   * @since 0.11.0
   */
  release?(result: ChunkResult): void;
  /**
   * Optional: buffers to read the raw input into ({@link ReadOptions.into}),
   * so that a chunk read into one is parsed there, not copied.
   * @since 0.11.0
   */
  readonly readBuffers?: ReadBuffers | undefined;
  /**
   * Optional: how many chunks of the caller's chunk size to keep posted and
   * not yet merged for the pool to stay busy (ingest's default: 2). A pool
   * of worker threads wants each worker to find its next chunk waiting when
   * it answers one, so about two per worker; a pool that parses on the
   * calling thread gains nothing from more than one. A pool with a fixed
   * amount of memory has room for this many plus the chunk being read.
   * @since 0.12.0
   */
  readonly depth?: number | undefined;
}

// Raw sources other than JSON Lines files (DESIGN §8.1).

/**
 * A raw record that cannot become events, found by a raw source that reads
 * records rather than lines (a database row). Ingest quarantines it with
 * `location` instead of a line number and counts it as one read line.
 * @since 0.2.0
 */
export interface RawRecordReject {
  readonly kind: 'reject';
  /** Where the record is, e.g. `{occurred_at, id}` of a database row. */
  readonly location: Readonly<Record<string, string>>;
  readonly reason: RejectReason;
  readonly detail: string;
  /** The record as read (JSON text), for the quarantine file. */
  readonly raw: string;
}

/**
 * What a raw input yields: raw JSON Lines bytes (chunks may end anywhere;
 * a reject is only yielded between whole lines) or a rejected record.
 * @since 0.2.0
 */
export type RawInputChunk = Uint8Array | RawRecordReject;

/** One raw input of a day (a file, an object, a database query). @since 0.2.0 */
export interface RawInput {
  /** Where it comes from, for reports and quarantine records (never holds credentials). */
  readonly uri: string;
  /** Streams the input; called once (`into`: buffers to read into, when the input can, see ReadOptions.into). */
  open(into?: ReadBuffers): Promise<AsyncIterable<RawInputChunk>>;
  /** Size in bytes, when known (sharded ingest balances its parts by size). @since 0.4.0 */
  readonly size?: number;
  /**
   * Streams the raw bytes from byte `start` (no BOM removal, no gunzip): set
   * only for plain JSON Lines objects, which sharded ingest may split into
   * byte ranges at line starts.
   * @since 0.4.0
   */
  openFrom?(start: number, into?: ReadBuffers): Promise<AsyncIterable<Uint8Array>>;
}

/**
 * Port: where a day's raw exposure events come from when they are not JSON
 * Lines files in the raw storage area (DESIGN §8.1: the service's
 * database). The inputs yield raw event v1 JSON lines, so everything after
 * them (validation, canonical form, dedupe, gates) is the same for every
 * source.
 * @since 0.2.0
 */
export interface RawEventSource {
  /** Human-readable location for messages (never holds credentials). */
  readonly location: string;
  /**
   * The inputs holding the events of `scope` on `day`, in reading order.
   * Throws a usage error when the scope does not exist at the source (an
   * unknown tenant must never read as "no events", which would empty days).
   */
  inputsForDay(scope: Scope, day: string): Promise<RawInput[]>;
}

// Signals for the service's database (DESIGN §8.2).

/** One item's exposures of a day (`item_popularity_daily`). @since 0.2.0 */
export interface PopularitySignal {
  readonly item_id: string;
  readonly count: number;
}

/** One cooc row: an item and its neighbours with shared sessions (`item_covisit_daily`, one row per neighbour). @since 0.2.0 */
export interface CovisitSignalRow {
  readonly item_id: string;
  readonly items: readonly { readonly item_id: string; readonly count: number }[];
}

/** One catalog item's tags (`item_tags`). @since 0.2.0 */
export interface TagSignal {
  readonly item_id: string;
  readonly tags: readonly string[];
  /** When the catalog has a price for the item. */
  readonly price?: number;
}

/**
 * The signals of one (tenant, namespace, UTC day). A table whose field is
 * absent is left untouched; a present (even empty) one is replaced.
 * @since 0.2.0
 */
export interface DaySignals {
  readonly tenant: string;
  /** The surface (the service's `namespace`). */
  readonly namespace: string;
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly popularity?: readonly PopularitySignal[] | undefined;
  readonly covisit?: readonly CovisitSignalRow[] | undefined;
  /** The catalog's items of this namespace (replaces the namespace's tags, which have no day). */
  readonly tags?: readonly TagSignal[] | undefined;
  /** RFC 3339 instant written as `updated_at`. */
  readonly updatedAt: string;
}

/** Rows written for a day. @since 0.2.0 */
export interface SignalsWriteResult {
  readonly popularity_rows?: number;
  readonly covisit_rows?: number;
  readonly tag_rows?: number;
  /** True when the tenant row was created (`auto_create_tenant`). */
  readonly tenant_created?: boolean;
}

/**
 * Port: where signals go (the service's PostgreSQL in `@recsys/storage-pg`).
 * `writeDay` replaces the day all at once: a reader sees the previous rows
 * or the new ones, never a mix, and a failure leaves the previous rows.
 * @since 0.2.0
 */
export interface SignalsSink {
  /** Human-readable location for messages (never holds credentials). */
  readonly location: string;
  /** Checks, before anything is written, that the scope can be written (e.g. the tenant exists). */
  prepare?(scope: Scope): Promise<void>;
  writeDay(signals: DaySignals): Promise<SignalsWriteResult>;
}
