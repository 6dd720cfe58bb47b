import { randomBytes } from 'node:crypto';
import { link, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RecsysError } from '@recsys/core';
import type { DurableFiles } from './durable-file.js';
import { isErr, processGone } from './fs-support.js';

/** A lock taken by {@link FsLock.acquire}. */
export interface HeldLock {
  /** True while the lock file is still the one this holder created (re-checked right before a commit). */
  stillHeld(): Promise<boolean>;
  /** Removes the lock if it is still this holder's. */
  release(): Promise<void>;
}

/** Settings of {@link FsLock}. */
export interface FsLockOptions {
  /** A lock of another host (or not readable as ours) older than this is abandoned. */
  readonly staleLockMs: number;
  /** How long {@link FsLock.acquire} waits for a held lock before a `conflict`. */
  readonly lockTimeoutMs: number;
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
 * (see `FsObjectStorage.putIfGeneration`), so even a wrongly broken holder
 * cannot land a late write.
 */
export class FsLock {
  constructor(
    private readonly files: DurableFiles,
    private readonly o: FsLockOptions,
  ) {}

  /** Takes the lock of the object at `path` (`.<name>.lock` next to it), waiting up to `lockTimeoutMs`. */
  async acquire(path: string, key: string): Promise<HeldLock> {
    await this.files.ensureDir(dirname(path));
    const lockPath = join(dirname(path), `.${basename(path)}.lock`);
    const owner = this.owner();
    const deadline = Date.now() + this.o.lockTimeoutMs;
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
          `timed out after ${this.o.lockTimeoutMs} ms waiting for lock ${lockPath} (holder ${holder}); it is broken automatically once its process is gone (same host) or after ${this.o.staleLockMs} ms (other hosts) — remove it by hand only if you know its holder is dead`,
          { key, lock: lockPath },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt) + Math.random() * 5));
    }
  }

  private owner(): string {
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
    const temp = this.files.tempName(path);
    await writeFile(temp, content, { flag: 'wx' });
    return this.files.linkTemp(temp, path, key, 'lock');
  }

  /** The lock's content when its holder is provably gone (see {@link FsLock}), else `undefined`. */
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
    return Date.now() - mtimeMs > this.o.staleLockMs ? content : undefined;
  }
}
