import { createHash } from 'node:crypto';
// Durability of the filesystem adapter (issue 11 items 7 and 9): short
// writes are completed or fail, a committed object is checked against what
// was streamed, and temp files of killed writers are cleaned up.
import { spawn } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RecsysError } from '@recsys/core';
import { FsObjectStorage } from './index.js';
import { READ_BACK_THREAD_BYTES } from './read-back.js';
import { tempDirs } from '../test/temp-dirs.js';

const tempDir = tempDirs('recsys-fsdur-');
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);
const payload = (n: number) => 'x'.repeat(n - 1) + '\n';

/** A write(2) that writes at most `max` bytes per call (what a nearly full disk or a signal does). */
const shortWrites = (max: number) => (handle: FileHandle, data: Uint8Array, offset: number, length: number) => handle.write(data, offset, Math.min(length, max));

describe('short writes', () => {
  test('a write(2) that writes less than asked is continued: the object is complete', async () => {
    const root = await tempDir();
    const storage = new FsObjectStorage(root, { noSync: true, hooks: { write: shortWrites(7) } });
    const w = await storage.writer('a/part.jsonl');
    await w.write(payload(100));
    await w.write(payload(50));
    expect(await w.commit()).toEqual({ size: 150, written: true, sha256: createHash('sha256').update(payload(100) + payload(50)).digest('hex') });
    expect(text(await storage.get('a/part.jsonl'))).toBe(payload(100) + payload(50));
    await storage.put('b.json', payload(33));
    expect(text(await storage.get('b.json'))).toBe(payload(33));
  });

  test('a disk that stops taking bytes without an error fails the write; the previous object stays', async () => {
    const root = await tempDir();
    const good = new FsObjectStorage(root, { noSync: true });
    await good.put('part.jsonl', 'the good partition\n');
    let budget = 40;
    const full = new FsObjectStorage(root, {
      noSync: true,
      hooks: {
        write: async (handle, data, offset, length) => {
          const n = Math.min(length, budget);
          budget -= n;
          return n === 0 ? { bytesWritten: 0 } : handle.write(data, offset, n);
        },
      },
    });
    const w = await full.writer('part.jsonl');
    const error = await (async () => {
      await w.write(payload(30));
      await w.write(payload(30));
      return w.commit();
    })().catch((e: unknown) => e);
    expect(RecsysError.isInstance(error)).toBe(true);
    expect(text(await good.get('part.jsonl'))).toBe('the good partition\n');
    expect(await readdir(root)).toEqual(['part.jsonl']);
  });

  test('bytes the filesystem acknowledged but did not keep are caught at commit, before anything is replaced', async () => {
    const root = await tempDir();
    const good = new FsObjectStorage(root, { noSync: true });
    await good.put('part.jsonl', 'the good partition\n');
    // Reports the whole length written, keeps only half (a lying or failing device).
    const lossy = new FsObjectStorage(root, {
      noSync: true,
      hooks: { write: async (handle, data, offset, length) => ({ bytesWritten: (await handle.write(data, offset, Math.ceil(length / 2))).bytesWritten > 0 ? length : 0 }) },
    });
    const w = await lossy.writer('part.jsonl');
    await w.write(payload(64));
    const error = await w.commit().catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.kind).toBe('integrity');
    expect(text(await good.get('part.jsonl'))).toBe('the good partition\n');
    await expect(lossy.put('part.jsonl', payload(64))).rejects.toThrow(/short write/);
    expect(text(await good.get('part.jsonl'))).toBe('the good partition\n');
    expect(await readdir(root)).toEqual(['part.jsonl']);
  });

  test('a big object is synced and checked on a thread of its own: a changed byte or a lost half is refused the same, a good one committed', async () => {
    const root = await tempDir();
    const good = new FsObjectStorage(root);
    await good.put('part.jsonl', 'the good partition\n');
    // Past READ_BACK_THREAD_BYTES, written in 4 MiB chunks like a partition.
    const chunk = Buffer.from(payload(4 << 20));
    const chunks = Math.ceil(READ_BACK_THREAD_BYTES / chunk.length) + 1;
    const whole = createHash('sha256');
    for (let i = 0; i < chunks; i++) whole.update(chunk);
    const write = async (storage: FsObjectStorage) => {
      const w = await storage.writer('part.jsonl');
      for (let i = 0; i < chunks; i++) await w.write(chunk);
      return w.commit();
    };
    // Keeps every byte count, flips one byte of the last write (a device that corrupts in place).
    let writes = 0;
    const flipping = new FsObjectStorage(root, {
      hooks: {
        write: (handle, data, offset, length) => {
          if (++writes < chunks) return handle.write(data, offset, length);
          const copy = Buffer.from(data.subarray(offset, offset + length));
          copy[length >> 1] = copy[length >> 1]! ^ 1;
          return handle.write(copy, 0, length);
        },
      },
    });
    const flipped = await write(flipping).catch((e: unknown) => e);
    expect(RecsysError.isInstance(flipped) && flipped.kind).toBe('integrity');
    expect((flipped as Error).message).toMatch(new RegExp(`^write check failed: ${join(root, 'part.jsonl')} reads back sha256 [0-9a-f]{64}, ${whole.digest('hex')} was written; nothing was replaced$`));
    expect(text(await good.get('part.jsonl'))).toBe('the good partition\n');
    expect(await readdir(root)).toEqual(['part.jsonl']);
    // Reports the whole length written, keeps only half.
    const lossy = new FsObjectStorage(root, { hooks: { write: async (handle, data, offset, length) => ({ bytesWritten: (await handle.write(data, offset, Math.ceil(length / 2))).bytesWritten > 0 ? length : 0 }) } });
    const lost = await write(lossy).catch((e: unknown) => e);
    expect(RecsysError.isInstance(lost) && lost.kind).toBe('integrity');
    expect((lost as Error).message).toContain('short write');
    expect(text(await good.get('part.jsonl'))).toBe('the good partition\n');
    expect(await readdir(root)).toEqual(['part.jsonl']);
    const sha = createHash('sha256');
    for (let i = 0; i < chunks; i++) sha.update(chunk);
    expect(await write(good)).toEqual({ size: chunks * chunk.length, written: true, sha256: sha.digest('hex') });
    expect((await good.stat('part.jsonl'))?.size).toBe(chunks * chunk.length);
    expect(await readdir(root)).toEqual(['part.jsonl']);
  });

  test('an object its reader verifies (verifiedByReader) is checked by size only: a changed byte is left to the reader', async () => {
    const root = await tempDir();
    // Keeps every byte count but flips the first byte of each write (a device that corrupts in place).
    const flipping = new FsObjectStorage(root, {
      noSync: true,
      hooks: {
        write: (handle, data, offset, length) => {
          const copy = Buffer.from(data.subarray(offset, offset + length));
          copy[0] = copy[0]! ^ 1;
          return handle.write(copy, 0, length);
        },
      },
    });
    const given = payload(64);
    const sha = createHash('sha256').update(given).digest('hex');
    // Read back by default: refused before anything is visible.
    const checked = await flipping.writer('checked.bin');
    await checked.write(given);
    const error = await checked.commit().catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.kind).toBe('integrity');
    expect((error as Error).message).toContain('write check failed');
    // Not read back: committed with the hash of the bytes it was given, which its reader checks against.
    const unchecked = await flipping.writer('unchecked.bin', { verifiedByReader: true });
    await unchecked.write(given);
    expect(await unchecked.commit()).toEqual({ size: 64, written: true, sha256: sha });
    const stored = await flipping.get('unchecked.bin');
    expect(createHash('sha256').update(stored!).digest('hex')).not.toBe(sha);
    expect(await readdir(root)).toEqual(['unchecked.bin']);

    // The size is still checked: bytes acknowledged but not kept are refused.
    const lossy = new FsObjectStorage(root, {
      noSync: true,
      hooks: { write: async (handle, data, offset, length) => ({ bytesWritten: (await handle.write(data, offset, Math.ceil(length / 2))).bytesWritten > 0 ? length : 0 }) },
    });
    const short = await lossy.writer('short.bin', { verifiedByReader: true });
    await short.write(given);
    await expect(short.commit()).rejects.toThrow(/short write/);
    expect(await readdir(root)).toEqual(['unchecked.bin']);
  });

  test('an object its reader verifies with a checksum of its own (reportSha256: false): not hashed, its size still checked', async () => {
    const root = await tempDir();
    const given = payload(64);
    const plain = new FsObjectStorage(root, { noSync: true });
    const w = await plain.writer('crc.bin', { verifiedByReader: true, reportSha256: false });
    expect(w.reportsSha256).toBe(false);
    await w.write(given);
    // No SHA-256: nothing was hashed to report.
    expect(await w.commit()).toEqual({ size: 64, written: true });
    expect(Buffer.from((await plain.get('crc.bin'))!).equals(Buffer.from(given))).toBe(true);
    // Without verifiedByReader the file is read back and checked, so it is hashed (and reported) as before.
    const checked = await plain.writer('checked.bin', { reportSha256: false });
    await checked.write(given);
    expect(await checked.commit()).toEqual({ size: 64, written: true, sha256: createHash('sha256').update(given).digest('hex') });
    // Bytes acknowledged but not kept are refused at commit, before anything is visible.
    const lossy = new FsObjectStorage(root, {
      noSync: true,
      hooks: { write: async (handle, data, offset, length) => ({ bytesWritten: (await handle.write(data, offset, Math.ceil(length / 2))).bytesWritten > 0 ? length : 0 }) },
    });
    const short = await lossy.writer('short.bin', { verifiedByReader: true, reportSha256: false });
    await short.write(given);
    await expect(short.commit()).rejects.toThrow(/short write/);
    expect((await readdir(root)).sort()).toEqual(['checked.bin', 'crc.bin']);
  });
});

describe('temp files of killed writers', () => {
  test('the next writer in the directory removes those of dead processes and old ones, and keeps live ones', async () => {
    const root = await tempDir();
    const storage = new FsObjectStorage(root, { noSync: true });
    await storage.put('d/first.json', '1');
    const child = spawn(process.execPath, ['-e', '0']);
    const dead = child.pid!;
    await new Promise((r) => child.on('exit', r));
    const dir = join(root, 'd');
    await mkdir(dir, { recursive: true });
    const names = {
      dead: `.part.jsonl.${storage.hostTag}-${dead}.0123456789ab.tmp`,
      live: `.part.jsonl.${storage.hostTag}-${process.pid}.0123456789ac.tmp`,
      remoteYoung: `.part.jsonl.0badc0de-${dead}.0123456789ad.tmp`,
      remoteOld: `.part.jsonl.0badc0de-${dead}.0123456789ae.tmp`,
      legacyOld: `.part.jsonl.${dead}.0123456789af.tmp`,
    };
    for (const name of Object.values(names)) await writeFile(join(dir, name), 'partial');
    const old = new Date(Date.now() - 48 * 3_600_000);
    await utimes(join(dir, names.remoteOld), old, old);
    await utimes(join(dir, names.legacyOld), old, old);
    // A new storage instance (a new process) writes into the directory.
    const next = new FsObjectStorage(root, { noSync: true });
    await next.put('d/second.json', '2');
    expect((await readdir(dir)).sort()).toEqual([names.live, names.remoteYoung, 'first.json', 'second.json'].sort());
  });
});

describe('directory fsync (issue 11 item 7)', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: injected directory fsync failure`), { code });

  test('mkdir -p makes the new path durable: every directory it creates and the parent of the first one are synced', async () => {
    const root = await tempDir();
    await mkdir(join(root, 'a'));
    const synced: string[] = [];
    const storage = new FsObjectStorage(root, {
      hooks: {
        syncDir: async (handle, dir) => {
          synced.push(dir);
          await handle.sync();
        },
      },
    });
    await storage.put('a/b/c/object.json', '{}');
    // `a` existed: its entry for `b`, `b`'s entry for `c`, and `c`'s entry for the object must all be on disk.
    for (const dir of ['a', 'a/b', 'a/b/c']) expect(synced, dir).toContain(join(root, dir));
    expect(synced).not.toContain(root);
  });

  test('a directory fsync failing with EIO fails the write; "not supported here" (EINVAL, ENOTSUP) does not', async () => {
    const root = await tempDir();
    const failing = (code: string) =>
      new FsObjectStorage(root, {
        hooks: {
          syncDir: async () => {
            throw errno(code);
          },
        },
      });
    for (const write of [(s: FsObjectStorage) => s.put('put.json', '1'), (s: FsObjectStorage) => s.putIfAbsent('created.json', '1')]) {
      const error = await write(failing('EIO')).catch((e: unknown) => e);
      expect(RecsysError.isInstance(error) && error.kind).toBe('runtime');
      expect((error as Error).message).toMatch(/fsync of directory .* failed: EIO/);
    }
    await failing('EINVAL').put('put.json', '2');
    await failing('ENOTSUP').put('put.json', '3');
    expect(text(await new FsObjectStorage(root).get('put.json'))).toBe('3');
  });
});
