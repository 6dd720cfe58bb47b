import { createHash } from 'node:crypto';
import { link, open, readFile, readdir, realpath, stat, unlink, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { UsageError, type ConditionalPutResult, type ObjectInfo, type ObjectStorage, type ObjectWriter, type ReadBuffers, type ReadOptions, type VersionedObject, type WriterOptions } from '@recsys/core';
import { DurableFiles } from './durable-file.js';
import { FsLock } from './fs-lock.js';
import { ioError, isErr, sha256 } from './fs-support.js';
import { READ_BACK_THREAD_BYTES, checkOnThread } from './read-back.js';

/** Options of {@link FsObjectStorage}. @since 0.1.0 */
export interface FsObjectStorageOptions {
  /**
   * A lock written by another host (or not readable as ours) older than this
   * is considered abandoned (default 10 min). A lock of this host is broken
   * only when its process is gone, whatever its age.
   */
  readonly staleLockMs?: number;
  /** Skip fsync (tests on tmpfs); never in production. */
  readonly noSync?: boolean;
  /**
   * Scratch files that live only as long as the process (spill files): no
   * fsync, and streamed writes are neither hashed nor read back before they
   * are committed; their reader checks what it needs (record and line
   * counts). Never for data that outlives the process.
   * @since 0.6.0
   */
  readonly scratch?: boolean;
  /** How long a compare-and-swap waits for a held lock before failing with a `conflict` (default `staleLockMs` + 30 s). */
  readonly lockTimeoutMs?: number;
  /** A temp file older than this is a killed writer's, whatever its host (default 24 h). */
  readonly tempMaxAgeMs?: number;
  /** Test seams (crash and race tests); never set in production. */
  readonly hooks?: FsStorageHooks;
}

/** Test seams of {@link FsObjectStorage}. @since 0.1.0 */
export interface FsStorageHooks {
  /** Called by `putIfGeneration` under the lock, after the compare and the temp write, before the rename. */
  beforeCommit?(key: string): Promise<void> | void;
  /** Replaces one `write(2)` of object bytes (short-write and full-disk tests). */
  write?(handle: FileHandle, data: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** Replaces the `fsync` of a directory (durability tests: which directories are synced, and a failing sync). */
  syncDir?(handle: FileHandle, dir: string): Promise<void>;
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

const SAFE_KEY_PART = /^[A-Za-z0-9._@-]+$/;

/**
 * Default age after which a lock of another host is abandoned. Long on
 * purpose: breaking the lock of a live holder is the one way two writers can
 * meet, while an abandoned lock only delays the next write.
 */
const DEFAULT_STALE_LOCK_MS = 10 * 60_000;
/** Bytes per read chunk: by default, and the bounds of what a caller may ask for ({@link ReadOptions.chunkBytes}). */
const DEFAULT_READ_CHUNK = 1 << 20;
const MIN_READ_CHUNK = 64 << 10;
const MAX_READ_CHUNK = 64 << 20;

/**
 * {@link ObjectStorage} on a local (or shared POSIX) filesystem directory.
 *
 * - Every visible write is atomic: temp file in the same directory, fsync,
 *   rename (or `link` for exclusive create), fsync of the directory.
 * - Keys are validated part by part and resolved inside the root, so nothing
 *   is ever written outside it.
 * - Compare-and-swap holds a per-key lock file (exclusive create) around the
 *   compare and the rename. A lock whose owner process is gone (same host) or
 *   that is older than `staleLockMs` is broken; see docs/explanation/publish-protocol.md.
 * @since 0.1.0
 */
export class FsObjectStorage implements ObjectStorage {
  readonly root: string;
  readonly location: string;
  private readonly sync: boolean;
  private readonly scratch: boolean;
  private readonly hooks: FsStorageHooks;
  /** Temp files, their sweeping, and the rename/link that makes a write visible. */
  private readonly files: DurableFiles;
  /** The per-key lock of compare-and-swap. */
  private readonly locks: FsLock;
  /** Short tag of this host in temp file names, so a sweep can tell its own host's files. */
  readonly hostTag: string = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

  constructor(root: string, options: FsObjectStorageOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    const staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.sync = !options.noSync && !options.scratch;
    this.scratch = options.scratch === true;
    this.hooks = options.hooks ?? {};
    this.files = new DurableFiles({ root: this.root, sync: this.sync, hostTag: this.hostTag, tempMaxAgeMs: options.tempMaxAgeMs ?? 24 * 3_600_000, hooks: this.hooks });
    this.locks = new FsLock(this.files, { staleLockMs, lockTimeoutMs: options.lockTimeoutMs ?? staleLockMs + 30_000 });
  }

  /** Absolute path of a key; rejects anything that could escape the root. */
  pathOf(key: string): string {
    const parts = key.split('/');
    for (const part of parts) {
      if (part === '' || part === '.' || part === '..' || !SAFE_KEY_PART.test(part)) {
        throw new UsageError(`unsafe storage key ${JSON.stringify(key)}`, { key, root: this.root });
      }
    }
    const path = join(this.root, ...parts);
    if (!path.startsWith(this.root + sep)) throw new UsageError(`storage key ${JSON.stringify(key)} escapes ${this.root}`, { key });
    return path;
  }

  uri(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  keyOfUri(uri: string): string | undefined {
    if (!uri.startsWith('file://')) return undefined;
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch {
      return undefined;
    }
    const rel = relative(this.root, path);
    if (rel === '' || rel.startsWith('..') || rel.includes(`..${sep}`)) return undefined;
    return rel.split(sep).join('/');
  }

  /** The root with its symbolic links resolved (once it exists). */
  private realRoot: string | undefined;

  /**
   * Refuses a key whose path resolves, through a symbolic link, to a file
   * outside the root: what a storage area reads must come from inside its
   * configured folder (a link in the raw folder pointing at /etc/… would
   * otherwise be read, and its lines copied into quarantine). Links that
   * stay inside the root are fine. A missing path has nothing to follow.
   */
  private async confine(path: string, key: string): Promise<void> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return;
    }
    if (this.realRoot === undefined) {
      try {
        this.realRoot = await realpath(this.root);
      } catch {
        return;
      }
    }
    if (real === this.realRoot || real.startsWith(this.realRoot + sep)) return;
    throw new UsageError(`${path} is a symbolic link to ${real}, outside ${this.root}; refusing to follow it (copy the file into the folder, or point the config at where it lives)`, {
      key,
      root: this.root,
      target: real,
    });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    // Validate outside the try: an unsafe key is a usage error, not an I/O failure.
    const path = this.pathOf(key);
    await this.confine(path, key);
    try {
      return await readFile(path);
    } catch (error) {
      if (isErr(error, 'ENOENT') || isErr(error, 'ENOTDIR')) return undefined;
      throw this.ioError('read', key, error);
    }
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    const data = await this.get(key);
    return data ? { data, generation: sha256(data) } : undefined;
  }

  async read(key: string, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined> {
    return this.readFrom(key, 0, options);
  }

  async readFrom(key: string, start: number, options?: ReadOptions): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.pathOf(key);
    await this.confine(path, key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isErr(error, 'ENOENT') || isErr(error, 'ENOTDIR')) return undefined;
      throw this.ioError('open', key, error);
    }
    // Reading through the already-open handle: a concurrent replace of the key cannot tear this
    // read. A positioned read: the bytes before `start` are never read. Each chunk is a buffer of its own
    // (the stream allocates one per read), of the size the caller asked for, within bounds.
    const chunkBytes = Math.min(MAX_READ_CHUNK, Math.max(MIN_READ_CHUNK, options?.chunkBytes ?? DEFAULT_READ_CHUNK));
    if (options?.into) return readInto(handle, start, chunkBytes, options.into, (error) => this.ioError('read', key, error));
    return handle.createReadStream({ start, highWaterMark: chunkBytes, autoClose: true }) as AsyncIterable<Uint8Array>;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    await this.confine(path, key);
    try {
      const s = await stat(path);
      return s.isFile() ? { key, size: s.size } : undefined;
    } catch (error) {
      if (isErr(error, 'ENOENT') || isErr(error, 'ENOTDIR')) return undefined;
      throw this.ioError('stat', key, error);
    }
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    const temp = await this.files.writeTemp(path, toBytes(data));
    await this.files.publishTemp(temp, path, key);
  }

  async putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    const path = this.pathOf(key);
    const temp = await this.files.writeTemp(path, toBytes(data));
    return (await this.files.publishExclusive(temp, path, key)) ? 'written' : 'conflict';
  }

  async putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    const path = this.pathOf(key);
    const bytes = toBytes(data);
    const held = await this.locks.acquire(path, key);
    try {
      if ((await this.generationOf(key)) !== generation) return 'conflict';
      const temp = await this.files.writeTemp(path, bytes);
      await this.hooks.beforeCommit?.(key);
      // Fence: the lock is only as good as our holding it. A holder that stalled long enough to be
      // judged gone (another host, past staleLockMs) may have lost it, and a successor may have
      // committed since; re-check both right before the rename, so a late writer backs off
      // instead of putting an older object back.
      if (!(await held.stillHeld()) || (await this.generationOf(key)) !== generation) {
        await unlink(temp).catch(() => {});
        return 'conflict';
      }
      await this.files.publishTemp(temp, path, key);
      return 'written';
    } finally {
      await held.release();
    }
  }

  private async generationOf(key: string): Promise<string | null> {
    const current = await this.get(key);
    return current ? sha256(current) : null;
  }

  async writer(key: string, options?: WriterOptions): Promise<ObjectWriter> {
    const path = this.pathOf(key);
    await this.files.ensureDir(dirname(path));
    const temp = this.files.tempName(path);
    const handle = await open(temp, 'wx');
    // The file is checked against the caller's hash when it has one (a blob hashed as it was built):
    // hashing the bytes here as well would only say that they are the bytes we were given.
    const expected = this.scratch ? undefined : options?.sha256;
    // A reader that checks the bytes against the reported hash (WriterOptions.verifiedByReader) refuses a bad
    // copy where it reads it: the file's size is checked here, its bytes are not read back and hashed again.
    const readBack = options?.verifiedByReader !== true;
    // Such an object is hashed here only to report its SHA-256: not at all when the caller has no use for it (it
    // checksums the bytes itself, WriterOptions.reportSha256).
    const unhashed = !readBack && options?.reportSha256 === false;
    const hash = this.scratch || expected !== undefined || unhashed ? undefined : createHash('sha256');
    let size = 0;
    let done = false;
    const discard = async () => {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    };
    return {
      // The bytes are hashed here to check the file before it replaces anything; callers reuse that hash.
      reportsSha256: !this.scratch && !unhashed,
      write: async (chunk) => {
        const bytes = toBytes(chunk);
        // Hashed while the write(2) runs on the thread pool: both only read the bytes, which the caller
        // leaves alone until this resolves.
        const writing = this.files.writeAll(handle, bytes, key);
        hash?.update(bytes);
        try {
          await writing;
        } catch (error) {
          done = true;
          await discard();
          throw error;
        }
        size += bytes.byteLength;
      },
      commit: async (options) => {
        if (done) throw new Error('writer already finished');
        done = true;
        const sha256 = expected ?? hash?.digest('hex');
        // A big file's fsync and read-back start on a thread of their own before this thread's first await, so they
        // go on while the caller does other work (`run` computes while its partition is checked).
        const onThread = sha256 !== undefined && readBack && size >= READ_BACK_THREAD_BYTES ? checkOnThread(temp, this.sync) : undefined;
        // Its failure is awaited below, after the close: not an unhandled rejection meanwhile.
        onThread?.catch(() => {});
        try {
          if (onThread) {
            await handle.close();
            await this.files.checkedOnThread(onThread, key, size, sha256!);
          } else {
            if (this.sync) await handle.sync();
            await handle.close();
            if (!readBack) await this.files.checkSize(temp, key, size);
            else if (sha256 !== undefined) await this.files.checkWritten(temp, key, size, sha256);
          }
        } catch (error) {
          await onThread?.catch(() => {});
          await discard();
          throw error;
        }
        const hashed = sha256 === undefined ? {} : { sha256 };
        if (!options?.exclusive) {
          await this.files.publishTemp(temp, path, key);
          return { size, written: true, ...hashed };
        }
        return { size, written: await this.files.publishExclusive(temp, path, key), ...hashed };
      },
      abort: async () => {
        if (done) return;
        done = true;
        await discard();
      },
    };
  }

  /**
   * A hard link to the source file (same filesystem): no byte is copied.
   * Objects are never modified in place (every write replaces the file by a
   * rename), so the two names can never diverge. Another backend, another
   * device or a filesystem without hard links: `undefined`, copy instead.
   */
  async copyFrom(source: ObjectStorage, sourceKey: string, key: string): Promise<{ written: boolean; size: number } | undefined> {
    if (!(source instanceof FsObjectStorage)) return undefined;
    const from = source.pathOf(sourceKey);
    await source.confine(from, sourceKey);
    const path = this.pathOf(key);
    await this.files.ensureDir(dirname(path));
    try {
      await link(from, path);
    } catch (error) {
      if (isErr(error, 'EEXIST')) return { written: false, size: (await stat(path)).size };
      // ENOENT: the source is missing; the caller's copy path reports that in its own words.
      if (isErr(error, 'ENOENT') || isErr(error, 'EXDEV') || isErr(error, 'EPERM') || isErr(error, 'ENOTSUP') || isErr(error, 'EMLINK')) return undefined;
      throw ioError(this.root, 'link', key, error);
    }
    await this.files.syncDir(dirname(path));
    return { written: true, size: (await stat(path)).size };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
    const start = dirKey === '' ? this.root : this.pathOf(dirKey);
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isErr(error, 'ENOENT') || isErr(error, 'ENOTDIR')) return;
        throw error;
      }
      for (const entry of entries) {
        // This adapter's temp files and locks are never part of the key space. Other dot names
        // are: a tenant or surface may start with "." (the contracts' path-segment rule allows it).
        if (entry.name.startsWith('.') && (entry.name.endsWith('.tmp') || entry.name.endsWith('.lock')) && !entry.isDirectory()) continue;
        const full = join(dir, entry.name);
        const key = relative(this.root, full).split(sep).join('/');
        if (entry.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(key + '/')) await walk(full);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const s = await stat(full).catch(() => undefined);
          if (s) found.push({ key, size: s.size });
        }
      }
    };
    await walk(start);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      if (!isErr(error, 'ENOENT') && !isErr(error, 'ENOTDIR')) throw this.ioError('delete', key, error);
    }
  }

  private ioError(op: string, key: string, error: unknown) {
    return ioError(this.root, op, key, error);
  }
}

/**
 * Positioned reads of up to `chunkBytes` (or the buffer's length) into the caller's buffers
 * (ReadOptions.into), each chunk yielded as a view of its buffer from the start; the handle is
 * closed at the end, on error, or when the consumer stops early.
 */
async function* readInto(handle: FileHandle, start: number, chunkBytes: number, into: ReadBuffers, failed: (error: unknown) => Error): AsyncGenerator<Uint8Array> {
  let pos = start;
  try {
    for (;;) {
      const buffer = await into.next();
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, chunkBytes), pos));
      } catch (error) {
        throw failed(error);
      }
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
