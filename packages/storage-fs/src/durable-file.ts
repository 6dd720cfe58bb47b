import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { RecsysError } from '@recsys/core';
import { ioError, isErr, processGone, sha256 } from './fs-support.js';
import { ThreadCheckError, readBackSha256, type ThreadCheck } from './read-back.js';

/**
 * Temp files (`.<name>.<host tag>-<pid>.<random>.tmp`; older versions wrote
 * `.<name>.<pid>.<random>.tmp`) and set-aside locks (`….lock.<pid>.<random>.gone`).
 */
const TEMP_NAME = /^\..+\.(?:([0-9a-f]{8})-)?(\d+)\.[0-9a-f]{12}\.(?:tmp|gone)$/;

/** Errors of fsync on a directory that mean "not supported here", not "failed". */
const DIR_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/** The test seam of {@link DurableFiles} (the adapter's `FsStorageHooks` fit it). */
export interface WriteHook {
  /** Replaces one `write(2)` of object bytes (short-write and full-disk tests). */
  write?(handle: FileHandle, data: Uint8Array, offset: number, length: number): Promise<{ bytesWritten: number }>;
  /** Replaces the `fsync` of a directory (durability tests: which directories are synced, and a failing sync). */
  syncDir?(handle: FileHandle, dir: string): Promise<void>;
}

/** Settings of {@link DurableFiles}. */
export interface DurableFilesOptions {
  /** The storage root (error messages and keys are relative to it). */
  readonly root: string;
  /** fsync files and directories (off only on tmpfs in tests). */
  readonly sync: boolean;
  /** Short tag of this host in temp file names. */
  readonly hostTag: string;
  /** A temp file older than this is a killed writer's, whatever its host. */
  readonly tempMaxAgeMs: number;
  /** Test seams; never set in production. */
  readonly hooks: WriteHook;
}

/**
 * The durable-write mechanics of the filesystem adapter: a file becomes
 * visible only fully written and synced, under its final name, by a rename
 * (replace) or a `link` (exclusive create) of a temp file in the same
 * directory, followed by an fsync of that directory. Temp files a killed
 * writer left behind are swept.
 */
export class DurableFiles {
  private readonly swept = new Set<string>();

  constructor(private readonly o: DurableFilesOptions) {}

  /** A fresh temp name next to `path`, naming this host and process (see {@link DurableFiles.sweepTemps}). */
  tempName(path: string): string {
    return join(dirname(path), `.${basename(path)}.${this.o.hostTag}-${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
      let gone = tag === this.o.hostTag && processGone(Number(pid));
      if (!gone) {
        const s = await stat(full).catch(() => undefined);
        gone = s !== undefined && now - s.mtimeMs > this.o.tempMaxAgeMs;
      }
      if (gone) await unlink(full).catch(() => {});
    }
  }

  /**
   * Writes all of `bytes`: a `write(2)` may write fewer bytes than asked
   * (a full disk, a signal), and the rest must follow or the write fail.
   */
  async writeAll(handle: FileHandle, bytes: Uint8Array, key: string): Promise<void> {
    let offset = 0;
    while (offset < bytes.byteLength) {
      let written: number;
      try {
        ({ bytesWritten: written } = this.o.hooks.write ? await this.o.hooks.write(handle, bytes, offset, bytes.byteLength - offset) : await handle.write(bytes, offset, bytes.byteLength - offset));
      } catch (error) {
        throw ioError(this.o.root, 'write', key, error);
      }
      if (written <= 0) throw new RecsysError('runtime', `filesystem write made no progress for ${join(this.o.root, key)} (${offset} of ${bytes.byteLength} bytes written; disk full?)`, { key, root: this.o.root });
      offset += written;
    }
  }

  /**
   * The temp file has the size of what was streamed (the part of
   * {@link checkWritten} that reads no byte back).
   */
  async checkSize(temp: string, key: string, size: number): Promise<void> {
    this.sizeIs(key, (await stat(temp)).size, size);
  }

  /**
   * The temp file holds exactly what was streamed: its size, then its
   * SHA-256 read back, equal what the writer was given. Catches a write the
   * filesystem acknowledged but did not keep before it replaces anything.
   */
  async checkWritten(temp: string, key: string, size: number, sha: string): Promise<void> {
    await this.checkSize(temp, key, size);
    this.sha256Is(key, await readBackSha256(temp), sha);
  }

  /**
   * {@link checkWritten} of a file whose fsync the check made too, on a thread
   * of its own ({@link checkOnThread}, started at commit): the same checks and
   * errors; a failed fsync or read is the error its operation would have
   * thrown here.
   */
  async checkedOnThread(check: Promise<ThreadCheck>, key: string, size: number, sha: string): Promise<void> {
    let found: ThreadCheck;
    try {
      found = await check;
    } catch (error) {
      if (error instanceof ThreadCheckError) throw Object.assign(new Error(error.message), { code: error.code, syscall: error.op });
      throw error;
    }
    this.sizeIs(key, found.size, size);
    this.sha256Is(key, found.sha256, sha);
  }

  private sizeIs(key: string, stored: number, size: number): void {
    if (stored !== size) {
      throw new RecsysError('integrity', `short write: ${join(this.o.root, key)} would hold ${stored} of the ${size} bytes written; nothing was replaced`, { key, root: this.o.root, size, stored });
    }
  }

  private sha256Is(key: string, got: string, sha: string): void {
    if (got !== sha) {
      throw new RecsysError('integrity', `write check failed: ${join(this.o.root, key)} reads back sha256 ${got}, ${sha} was written; nothing was replaced`, { key, root: this.o.root });
    }
  }

  /** Writes `bytes` to a new temp file next to `path`, synced and checked; returns its name. */
  async writeTemp(path: string, bytes: Uint8Array): Promise<string> {
    await this.ensureDir(dirname(path));
    const temp = this.tempName(path);
    const handle = await open(temp, 'wx');
    const key = relative(this.o.root, path).split(sep).join('/');
    try {
      try {
        await this.writeAll(handle, bytes, key);
        if (this.o.sync) await handle.sync();
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

  /** Replaces `path` with the written `temp` (rename), durably. */
  async publishTemp(temp: string, path: string, key: string): Promise<void> {
    try {
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw ioError(this.o.root, 'rename', key, error);
    }
    await this.syncDir(dirname(path));
  }

  /**
   * Exclusive create: links the written `temp` to `path`, which fails if
   * `path` exists, so the file is never visible without its full content.
   * The temp is removed either way. False when `path` exists; any other
   * failure is the `op` I/O error. The directory is not synced (see
   * {@link DurableFiles.publishExclusive}).
   */
  async linkTemp(temp: string, path: string, key: string, op: string): Promise<boolean> {
    try {
      await link(temp, path);
      return true;
    } catch (error) {
      if (isErr(error, 'EEXIST')) return false;
      throw ioError(this.o.root, op, key, error);
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** {@link DurableFiles.linkTemp}, then the directory synced: a durable exclusive create. */
  async publishExclusive(temp: string, path: string, key: string): Promise<boolean> {
    if (!(await this.linkTemp(temp, path, key, 'create'))) return false;
    await this.syncDir(dirname(path));
    return true;
  }

  /**
   * `mkdir -p` that makes the new directories durable: each created
   * directory's entry lives in its parent, so the parent of the first one
   * created and every created one are fsynced (else a crash after the object's
   * own fsync could still lose the path to it).
   */
  async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    await this.sweepTemps(dir);
    if (first === undefined || !this.o.sync) return;
    const created: string[] = [];
    for (let d = dir; ; d = dirname(d)) {
      created.push(d);
      if (d === first || d === dirname(d)) break;
    }
    // All at once: each fsync is a wait with the cores idle, and no order among them is needed, only that
    // every one is done before the object in `dir` is written (a failure of any fails the write).
    await Promise.all([dirname(first), ...created.reverse()].map((d) => this.syncDir(d)));
  }

  /** fsync of a directory: makes the entries created or renamed in it durable. */
  async syncDir(dir: string): Promise<void> {
    if (!this.o.sync) return;
    const handle = await open(dir, 'r');
    try {
      await (this.o.hooks.syncDir ? this.o.hooks.syncDir(handle, dir) : handle.sync());
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
}
