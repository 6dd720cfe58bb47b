import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, realpath, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecsysError, UsageError, type ConditionalPutResult, type ObjectInfo, type ObjectStorage, type ObjectWriter, type VersionedObject } from '@recsys/core';

/** Options of {@link FsObjectStorage}. @since 0.1.0 */
export interface FsObjectStorageOptions {
  /** A lock older than this is considered abandoned (default 30 s). */
  readonly staleLockMs?: number;
  /** Skip fsync (tests on tmpfs); never in production. */
  readonly noSync?: boolean;
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
  private readonly sync: boolean;

  constructor(root: string, options: FsObjectStorageOptions = {}) {
    this.root = resolve(root);
    this.location = this.root;
    this.staleLockMs = options.staleLockMs ?? 30_000;
    this.sync = !options.noSync;
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
    const release = await this.lock(path, key);
    try {
      const current = await this.get(key);
      const currentGen = current ? sha256(current) : null;
      if (currentGen !== generation) return 'conflict';
      const temp = await this.writeTemp(path, bytes);
      await this.publishTemp(temp, path, key);
      return 'written';
    } finally {
      await release();
    }
  }

  async writer(key: string): Promise<ObjectWriter> {
    const path = this.pathOf(key);
    await mkdir(dirname(path), { recursive: true });
    const temp = this.tempName(path);
    const handle = await open(temp, 'wx');
    let size = 0;
    let done = false;
    return {
      write: async (chunk) => {
        const bytes = toBytes(chunk);
        size += bytes.byteLength;
        await handle.write(bytes);
      },
      commit: async (options) => {
        if (done) throw new Error('writer already finished');
        done = true;
        if (this.sync) await handle.sync();
        await handle.close();
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
        await handle.close().catch(() => {});
        await unlink(temp).catch(() => {});
      },
    };
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
    return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  }

  private async writeTemp(path: string, bytes: Uint8Array): Promise<string> {
    await mkdir(dirname(path), { recursive: true });
    const temp = this.tempName(path);
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      if (this.sync) await handle.sync();
    } finally {
      await handle.close();
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

  private async syncDir(dir: string): Promise<void> {
    if (!this.sync) return;
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } catch {
      // Some filesystems refuse fsync on directories; the rename is still atomic.
    } finally {
      await handle.close();
    }
  }

  /**
   * Exclusive per-key lock with stale-lock recovery. Returns the release function.
   *
   * Recovery rule (docs/explanation/publish-protocol.md): a lock is stale when
   * its owner process is gone (same host, `kill(pid, 0)` says ESRCH) or when it
   * is older than `staleLockMs`. Breaking one takes a second exclusive file,
   * `<lock>.break`, and removes the lock only if it still holds the very
   * content judged stale, so two processes that find the same dead lock cannot
   * both break it and end up sharing the next one.
   */
  private async lock(path: string, key: string): Promise<() => Promise<void>> {
    await mkdir(dirname(path), { recursive: true });
    const lockPath = join(dirname(path), `.${basename(path)}.lock`);
    const owner = this.lockOwner();
    const deadline = Date.now() + 10 * this.staleLockMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.createWithContent(lockPath, owner, key)) {
        return async () => {
          // Only remove the lock if it is still ours (it may have been broken as stale).
          const content = await readFile(lockPath, 'utf8').catch(() => '');
          if (content === owner) await unlink(lockPath).catch(() => {});
        };
      }
      const stale = await this.staleContent(lockPath);
      if (stale !== undefined) {
        await this.breakLock(lockPath, stale, key);
        continue;
      }
      if (Date.now() > deadline) {
        throw new RecsysError('conflict', `timed out waiting for lock ${lockPath}`, { key, lock: lockPath });
      }
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt) + Math.random() * 5));
    }
  }

  private lockOwner(): string {
    return JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), token: randomBytes(8).toString('hex') });
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

  /** Removes a stale lock, unless someone else is already breaking it or it changed meanwhile. */
  private async breakLock(lockPath: string, staleContent: string, key: string): Promise<void> {
    const breaker = `${lockPath}.break`;
    const me = this.lockOwner();
    if (!(await this.createWithContent(breaker, me, key))) {
      // Another process is breaking it; its breaker file obeys the same rule if that process died.
      const staleBreaker = await this.staleContent(breaker);
      if (staleBreaker !== undefined) {
        const current = await readFile(breaker, 'utf8').catch(() => undefined);
        if (current === staleBreaker) await unlink(breaker).catch(() => {});
      }
      return;
    }
    try {
      const current = await readFile(lockPath, 'utf8').catch(() => undefined);
      if (current === staleContent) await unlink(lockPath).catch(() => {});
    } finally {
      const mine = await readFile(breaker, 'utf8').catch(() => undefined);
      if (mine === me) await unlink(breaker).catch(() => {});
    }
  }

  /** The lock's content when the lock is stale (see {@link FsObjectStorage.lock}), else `undefined`. */
  private async staleContent(lockPath: string): Promise<string | undefined> {
    let content: string;
    let mtimeMs: number;
    try {
      content = await readFile(lockPath, 'utf8');
      mtimeMs = (await stat(lockPath)).mtimeMs;
    } catch {
      return undefined;
    }
    if (Date.now() - mtimeMs > this.staleLockMs) return content;
    try {
      const info = JSON.parse(content) as { pid?: number; host?: string };
      if (info.host === hostname() && typeof info.pid === 'number' && info.pid !== process.pid) {
        try {
          process.kill(info.pid, 0);
        } catch (error) {
          if (isErr(error, 'ESRCH')) return content;
        }
      }
    } catch {
      // Not written by this adapter (locks are created with their content): only age can break it.
    }
    return undefined;
  }

  private ioError(op: string, key: string, error: unknown): RecsysError {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    return new RecsysError('runtime', `filesystem ${op} failed for ${join(this.root, key)}: ${code} ${(error as Error).message}`, { key, root: this.root, op, code }, { cause: error });
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
