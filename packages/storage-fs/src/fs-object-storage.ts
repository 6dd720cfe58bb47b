import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, realpath, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecsysError, UsageError, type ConditionalPutResult, type ObjectInfo, type ObjectStorage, type ObjectWriter, type VersionedObject } from '@recsys/core';

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
}

const isErr = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
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

/** Errors of fsync on a directory that mean "not supported here", not "failed". */
/**
 * Temp files (`.<name>.<host tag>-<pid>.<random>.tmp`; older versions wrote
 * `.<name>.<pid>.<random>.tmp`) and set-aside locks (`….lock.<pid>.<random>.gone`).
 */
const TEMP_NAME = /^\..+\.(?:([0-9a-f]{8})-)?(\d+)\.[0-9a-f]{12}\.(?:tmp|gone)$/;

const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

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
  private readonly staleLockMs: number;
  private readonly lockTimeoutMs: number;
  private readonly sync: boolean;
  private readonly hooks: FsStorageHooks;
  private readonly tempMaxAgeMs: number;
  private readonly swept = new Set<string>();
  /** Short tag of this host in temp file names, so a sweep can tell its own host's files. */
  readonly hostTag: string = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

  constructor(root: string, options: FsObjectStorageOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.staleLockMs = options.staleLockMs ?? DEFAULT_STALE_LOCK_MS;
    this.lockTimeoutMs = options.lockTimeoutMs ?? this.staleLockMs + 30_000;
    this.sync = !options.noSync;
    this.hooks = options.hooks ?? {};
    this.tempMaxAgeMs = options.tempMaxAgeMs ?? 24 * 3_600_000;
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

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const path = this.pathOf(key);
    await this.confine(path, key);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isErr(error, 'ENOENT') || isErr(error, 'ENOTDIR')) return undefined;
      throw this.ioError('open', key, error);
    }
    // Reading through the already-open handle: a concurrent replace of the key cannot tear this read.
    return handle.createReadStream({ highWaterMark: 1 << 20, autoClose: true }) as AsyncIterable<Uint8Array>;
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
    const temp = await this.writeTemp(path, toBytes(data));
    await this.publishTemp(temp, path, key);
  }

  async putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, toBytes(data));
    try {
      // link() fails if the target exists: exclusive create of fully written content.
      await link(temp, path);
    } catch (error) {
      if (isErr(error, 'EEXIST')) return 'conflict';
      throw this.ioError('create', key, error);
    } finally {
      await unlink(temp).catch(() => {});
    }
    await this.syncDir(dirname(path));
    return 'written';
  }

  async putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    const path = this.pathOf(key);
    const bytes = toBytes(data);
    const held = await this.lock(path, key);
    try {
      if ((await this.generationOf(key)) !== generation) return 'conflict';
      const temp = await this.writeTemp(path, bytes);
      await this.hooks.beforeCommit?.(key);
      // Fence: the lock is only as good as our holding it. A holder that stalled long enough to be
      // judged gone (another host, past staleLockMs) may have lost it, and a successor may have
      // committed since; re-check both right before the rename, so a late writer backs off
      // instead of putting an older object back.
      if (!(await held.stillHeld()) || (await this.generationOf(key)) !== generation) {
        await unlink(temp).catch(() => {});
        return 'conflict';
      }
      await this.publishTemp(temp, path, key);
      return 'written';
    } finally {
      await held.release();
    }
  }

  private async generationOf(key: string): Promise<string | null> {
    const current = await this.get(key);
    return current ? sha256(current) : null;
  }

  async writer(key: string): Promise<ObjectWriter> {
    const path = this.pathOf(key);
    await this.ensureDir(dirname(path));
    const temp = this.tempName(path);
    const handle = await open(temp, 'wx');
    const hash = createHash('sha256');
    let size = 0;
    let done = false;
    const discard = async () => {
      await handle.close().catch(() => {});
      await unlink(temp).catch(() => {});
    };
    return {
      write: async (chunk) => {
        const bytes = toBytes(chunk);
        try {
          await this.writeAll(handle, bytes, key);
        } catch (error) {
          done = true;
          await discard();
          throw error;
        }
        hash.update(bytes);
        size += bytes.byteLength;
      },
      commit: async (options) => {
        if (done) throw new Error('writer already finished');
        done = true;
        try {
          if (this.sync) await handle.sync();
          await handle.close();
          await this.checkWritten(temp, key, size, hash.digest('hex'));
        } catch (error) {
          await discard();
          throw error;
        }
        if (!options?.exclusive) {
          await this.publishTemp(temp, path, key);
          return { size, written: true };
        }
        try {
          await link(temp, path);
        } catch (error) {
          if (isErr(error, 'EEXIST')) return { size, written: false };
          throw this.ioError('create', key, error);
        } finally {
          await unlink(temp).catch(() => {});
        }
        await this.syncDir(dirname(path));
        return { size, written: true };
      },
      abort: async () => {
        if (done) return;
        done = true;
        await discard();
      },
    };
  }

  /**
   * Writes all of `bytes`: a `write(2)` may write fewer bytes than asked
   * (a full disk, a signal), and the rest must follow or the write fail.
   */
  private async writeAll(handle: FileHandle, bytes: Uint8Array, key: string): Promise<void> {
    let offset = 0;
    while (offset < bytes.byteLength) {
      let written: number;
      try {
        ({ bytesWritten: written } = this.hooks.write ? await this.hooks.write(handle, bytes, offset, bytes.byteLength - offset) : await handle.write(bytes, offset, bytes.byteLength - offset));
      } catch (error) {
        throw this.ioError('write', key, error);
      }
      if (written <= 0) throw new RecsysError('runtime', `filesystem write made no progress for ${join(this.root, key)} (${offset} of ${bytes.byteLength} bytes written; disk full?)`, { key, root: this.root });
      offset += written;
    }
  }

  /**
   * The temp file holds exactly what was streamed: its size, then its
   * SHA-256 read back, equal what the writer was given. Catches a write the
   * filesystem acknowledged but did not keep before it replaces anything.
   */
  private async checkWritten(temp: string, key: string, size: number, sha: string): Promise<void> {
    const stored = await stat(temp);
    if (stored.size !== size) {
      throw new RecsysError('integrity', `short write: ${join(this.root, key)} would hold ${stored.size} of the ${size} bytes written; nothing was replaced`, { key, root: this.root, size, stored: stored.size });
    }
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(temp, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    const got = hash.digest('hex');
    if (got !== sha) {
      throw new RecsysError('integrity', `write check failed: ${join(this.root, key)} reads back sha256 ${got}, ${sha} was written; nothing was replaced`, { key, root: this.root });
    }
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

  private tempName(path: string): string {
    return join(dirname(path), `.${basename(path)}.${this.hostTag}-${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  }

  /**
   * Removes temp files a killed writer left in `dir` (once per directory and
   * instance): those of this host whose process is gone, and any older than
   * `tempMaxAgeMs` (another host's writer is never that slow). Live writers'
   * files are never touched.
   */
  private async sweepTemps(dir: string): Promise<void> {
    if (this.swept.has(dir)) return;
    this.swept.add(dir);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (!m) continue;
      const full = join(dir, name);
      const [, tag, pid] = m;
      let gone = tag === this.hostTag && processGone(Number(pid));
      if (!gone) {
        const s = await stat(full).catch(() => undefined);
        gone = s !== undefined && now - s.mtimeMs > this.tempMaxAgeMs;
      }
      if (gone) await unlink(full).catch(() => {});
    }
  }

  private async writeTemp(path: string, bytes: Uint8Array): Promise<string> {
    await this.ensureDir(dirname(path));
    const temp = this.tempName(path);
    const handle = await open(temp, 'wx');
    const key = relative(this.root, path).split(sep).join('/');
    try {
      try {
        await this.writeAll(handle, bytes, key);
        if (this.sync) await handle.sync();
      } finally {
        await handle.close();
      }
      await this.checkWritten(temp, key, bytes.byteLength, sha256(bytes));
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
    return temp;
  }

  private async publishTemp(temp: string, path: string, key: string): Promise<void> {
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw this.ioError('rename', key, error);
    }
    await this.syncDir(dirname(path));
  }

  /**
   * `mkdir -p` that makes the new directories durable: each created
   * directory's entry lives in its parent, so the parent of the first one
   * created and every created one are fsynced (else a crash after the object's
   * own fsync could still lose the path to it).
   */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    await this.sweepTemps(dir);
    if (first === undefined || !this.sync) return;
    const created: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      created.push(d);
      if (d === first || d === dirname(d)) break;
    }
    await this.syncDir(dirname(first));
    for (const d of created.reverse()) await this.syncDir(d);
  }

  private async syncDir(dir: string): Promise<void> {
    if (!this.sync) return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } catch (error) {
      // Some filesystems cannot fsync a directory at all (the rename is still atomic there);
      // anything else, EIO above all, means the entry may not be on disk: never swallow it.
      if (!DIR_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) {
        throw new RecsysError('runtime', `filesystem fsync of directory ${dir} failed: ${(error as NodeJS.ErrnoException).code} ${(error as Error).message}`, { dir, code: (error as NodeJS.ErrnoException).code }, { cause: error });
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * Exclusive per-key lock with recovery from a holder that is gone.
   *
   * Recovery rule (docs/explanation/publish-protocol.md, "The filesystem
   * lock"): a lock of this host is broken only when its process is gone
   * (`kill(pid, 0)` says ESRCH), however old it is, since a live holder may
   * just be stalled (fsync under writeback, SIGSTOP, a VM pause); a lock of
   * another host, or one not written by this adapter, only when older than
   * `staleLockMs`. Removing a lock (release or break) first renames it to a
   * unique name and then checks that what it took is the very lock it meant
   * to remove; a successor's lock taken by mistake is put back. And the
   * holder re-checks that it still holds the lock right before its rename
   * (see `putIfGeneration`), so even a wrongly broken holder cannot land a
   * late write.
   */
  private async lock(path: string, key: string): Promise<{ stillHeld(): Promise<boolean>; release(): Promise<void> }> {
    await this.ensureDir(dirname(path));
    const lockPath = join(dirname(path), `.${basename(path)}.lock`);
    const owner = this.lockOwner();
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.createWithContent(lockPath, owner, key)) {
        return {
          stillHeld: async () => (await readFile(lockPath, 'utf8').catch(() => '')) === owner,
          release: () => this.removeLock(lockPath, owner),
        };
      }
      const stale = await this.staleContent(lockPath);
      if (stale !== undefined) {
        await this.removeLock(lockPath, stale);
        continue;
      }
      if (Date.now() > deadline) {
        const holder = await readFile(lockPath, 'utf8').catch(() => '(gone)');
        throw new RecsysError(
          'conflict',
          `timed out after ${this.lockTimeoutMs} ms waiting for lock ${lockPath} (holder ${holder}); it is broken automatically once its process is gone (same host) or after ${this.staleLockMs} ms (other hosts) — remove it by hand only if you know its holder is dead`,
          { key, lock: lockPath },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt) + Math.random() * 5));
    }
  }

  private lockOwner(): string {
    return JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), token: randomBytes(8).toString('hex') });
  }

  /**
   * Removes the lock at `lockPath` only if it holds exactly `expected`. A
   * plain read-then-unlink could delete a successor's lock created between
   * the two steps; instead the lock is renamed away (atomically: whatever is
   * there now is ours alone to inspect) and, if it turns out not to be the
   * expected one, linked back (exclusive: if yet another process took the
   * free name meanwhile, the displaced holder's pre-rename check fails and it
   * backs off, so two holders never both commit).
   */
  private async removeLock(lockPath: string, expected: string): Promise<void> {
    if ((await readFile(lockPath, 'utf8').catch(() => undefined)) !== expected) return;
    const aside = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.gone`;
    try {
      await rename(lockPath, aside);
    } catch (error) {
      if (isErr(error, 'ENOENT')) return;
      throw error;
    }
    const taken = await readFile(aside, 'utf8').catch(() => undefined);
    if (taken !== expected) await link(aside, lockPath).catch(() => {});
    await unlink(aside).catch(() => {});
  }

  /** Exclusive create of a file that is never visible without its full content (temp + link). */
  private async createWithContent(path: string, content: string, key: string): Promise<boolean> {
    const temp = this.tempName(path);
    await writeFile(temp, content, { flag: 'wx' });
    try {
      await link(temp, path);
      return true;
    } catch (error) {
      if (isErr(error, 'EEXIST')) return false;
      throw this.ioError('lock', key, error);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** The lock's content when its holder is provably gone (see {@link FsObjectStorage.lock}), else `undefined`. */
  private async staleContent(lockPath: string): Promise<string | undefined> {
    let content: string;
    let mtimeMs: number;
    try {
      content = await readFile(lockPath, 'utf8');
      mtimeMs = (await stat(lockPath)).mtimeMs;
    } catch {
      return undefined;
    }
    let info: { pid?: unknown; host?: unknown } | undefined;
    try {
      info = JSON.parse(content) as { pid?: unknown; host?: unknown };
    } catch {
      // Not written by this adapter (locks are created with their content): only age can break it.
    }
    if (info && info.host === hostname() && typeof info.pid === 'number') {
      // This host: the process table is the proof. Age proves nothing about a live process.
      return processGone(info.pid) ? content : undefined;
    }
    return Date.now() - mtimeMs > this.staleLockMs ? content : undefined;
  }

  private ioError(op: string, key: string, error: unknown): RecsysError {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    return new RecsysError('runtime', `filesystem ${op} failed for ${join(this.root, key)}: ${code} ${(error as Error).message}`, { key, root: this.root, op, code }, { cause: error });
  }
}

/** True when no process `pid` exists on this host (a process we may not signal still exists). */
function processGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return isErr(error, 'ESRCH');
  }
}

/** SHA-256 factory backed by `node:crypto` (for `PipelineEnv.sha256`). @since 0.1.0 */
export function nodeSha256() {
  const hash = createHash('sha256');
  return {
    update(data: string | Uint8Array) {
      hash.update(data);
    },
    digest() {
      return hash.digest('hex');
    },
  };
}
