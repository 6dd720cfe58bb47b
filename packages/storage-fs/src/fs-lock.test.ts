// The compare-and-swap lock of the filesystem adapter (issue 11 item 3): a
// lock is broken only when its holder is provably gone, a holder that lost
// its lock cannot land a late write over a newer object, and releasing or
// breaking a lock never removes a successor's lock.
import { readFile, readdir, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RecsysError } from '@recsys/core';
import { FsObjectStorage } from './index.js';
import { tempDirs } from '../test/temp-dirs.js';

const tempDir = tempDirs('recsys-fslock-');
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const ago = async (path: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  await utimes(path, t, t);
};

/** A promise that resolves when `resume()` is called, and one that says it was reached. */
function gate() {
  let resume!: () => void;
  let reached!: () => void;
  const resumed = new Promise<void>((r) => (resume = r));
  const wasReached = new Promise<void>((r) => (reached = r));
  return { resume, reached: wasReached, wait: () => (reached(), resumed) };
}

describe('lock breaking: only a provably gone holder', () => {
  test('a live holder on this host stalled far longer than any age rule keeps its lock', async () => {
    const root = await tempDir();
    const storage = new FsObjectStorage(root, { noSync: true, lockTimeoutMs: 400 });
    await storage.put('m.json', 'v1');
    // The holder is this very process (alive), stalled for an hour (SIGSTOP, VM pause, fsync under writeback).
    const lock = join(root, '.m.json.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() - 3_600_000, token: 'stalled' }));
    await ago(lock, 3_600_000);
    const g = (await storage.getVersioned('m.json'))!.generation;
    const error = await storage.putIfGeneration('m.json', 'v2', g).then(
      (r) => r,
      (e: unknown) => e,
    );
    expect(RecsysError.isInstance(error) && error.kind).toBe('conflict');
    expect((error as Error).message).toMatch(/lock/);
    expect(text(await storage.get('m.json'))).toBe('v1');
    expect(JSON.parse(await readFile(lock, 'utf8')).token).toBe('stalled');
  });

  test('a lock of another host is broken only after the (long) stale age', async () => {
    const root = await tempDir();
    const storage = new FsObjectStorage(root, { noSync: true, staleLockMs: 60_000, lockTimeoutMs: 300 });
    await storage.put('m.json', 'v1');
    const lock = join(root, '.m.json.lock');
    await writeFile(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', at: Date.now(), token: 'remote' }));
    await ago(lock, 30_000);
    const g = (await storage.getVersioned('m.json'))!.generation;
    await expect(storage.putIfGeneration('m.json', 'v2', g)).rejects.toThrow(/lock/);
    await ago(lock, 61_000);
    expect(await storage.putIfGeneration('m.json', 'v2', g)).toBe('written');
  });
});

describe('fencing: a holder that lost its lock cannot land a late write', () => {
  test('a late rename after the lock was broken does not regress the object', async () => {
    const root = await tempDir();
    const pause = gate();
    // A: compares, writes its temp file, then stalls before its rename.
    const a = new FsObjectStorage(root, { noSync: true, hooks: { beforeCommit: () => pause.wait() } });
    const b = new FsObjectStorage(root, { noSync: true });
    await b.put('m.json', 'v1');
    const g1 = (await a.getVersioned('m.json'))!.generation;
    const late = a.putIfGeneration('m.json', 'from A (stale)', g1);
    await pause.reached;
    // Meanwhile A's lock is broken (a remote breaker judged it stale) and B commits twice.
    await unlink(join(root, '.m.json.lock'));
    expect(await b.putIfGeneration('m.json', 'v2', g1)).toBe('written');
    const g2 = (await b.getVersioned('m.json'))!.generation;
    expect(await b.putIfGeneration('m.json', 'v3', g2)).toBe('written');
    pause.resume();
    expect(await late).toBe('conflict');
    expect(text(await b.get('m.json'))).toBe('v3');
    expect((await readdir(root)).sort()).toEqual(['m.json']);
  });

  test('a holder whose lock file was replaced by a successor does not rename, and leaves the successor’s lock in place', async () => {
    const root = await tempDir();
    const pause = gate();
    const a = new FsObjectStorage(root, { noSync: true, hooks: { beforeCommit: () => pause.wait() } });
    await a.put('m.json', 'v1');
    const g1 = (await a.getVersioned('m.json'))!.generation;
    const late = a.putIfGeneration('m.json', 'from A (stale)', g1);
    await pause.reached;
    // A's lock was broken and a successor now holds the key (its lock file is in place).
    const lock = join(root, '.m.json.lock');
    const successor = JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now(), token: 'successor' });
    await unlink(lock);
    await writeFile(lock, successor);
    pause.resume();
    expect(await late).toBe('conflict');
    expect(text(await a.get('m.json'))).toBe('v1');
    // A's release must not have removed the successor's lock.
    expect(await readFile(lock, 'utf8')).toBe(successor);
  });
});
