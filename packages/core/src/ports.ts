/**
 * Ports: the only way core reaches the outside world. Adapters
 * (`@recsys/storage-fs`, `@recsys/storage-s3`) implement them; the CLI wires
 * them. Keys are `/`-separated, relative, and built only from validated path
 * segments (see `keys.ts`).
 */
import type { ChunkContext, ChunkResult } from './ingest/chunk-parser.js';

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

/** An atomic streaming write: nothing is visible under the key until `commit`. @since 0.1.0 */
export interface ObjectWriter {
  write(chunk: string | Uint8Array): Promise<void>;
  /**
   * Makes the object visible atomically, replacing any previous object; with
   * `exclusive`, only if no object exists under the key (then `written` is
   * false and what was written is discarded). Returns the size written.
   */
  commit(options?: { exclusive?: boolean }): Promise<{ size: number; written: boolean }>;
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
  /** Streams the object's bytes (no whole-object buffering), or `undefined` when missing. */
  read(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
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
  /** Opens an atomic streaming writer for large objects. */
  writer(key: string): Promise<ObjectWriter>;
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
}

/** Creates incremental SHA-256 hashers. @since 0.1.0 */
export type Sha256Factory = () => Sha256;

/**
 * Parses chunks of raw lines, possibly on other threads (the Node runtime
 * has a worker-thread pool). Results must come back per dictionary in
 * submission order (one FIFO queue per worker). Whoever creates a pool
 * closes it.
 * @since 0.1.0
 */
export interface ParsePool {
  parse(chunk: Uint8Array, ctx: ChunkContext): Promise<ChunkResult>;
}
