// The write check's thread (read-back.ts): the size and hash of what reads
// back, answered after the fsync it overlaps, and each failure named by its
// operation.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkOnThread, ThreadCheckError } from './read-back.js';
import { tempDirs } from '../test/temp-dirs.js';

const tempDir = tempDirs('recsys-readback-');

describe('the write check on a thread', () => {
  test.each([true, false])('answers the size and SHA-256 of every byte (several reads of its buffer; fsync %s)', async (sync) => {
    const path = join(await tempDir(), 'part.jsonl');
    // More than the thread's 4 MiB buffer, not a multiple of it.
    const bytes = Buffer.alloc((9 << 20) + 123);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
    await writeFile(path, bytes);
    expect(await checkOnThread(path, sync)).toEqual({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  });

  test('a failed read is reported as the read, once the fsync it overlaps is done', async () => {
    // A directory opens, stats and syncs, but does not read.
    const dir = await tempDir();
    const error = await checkOnThread(dir, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadCheckError);
    expect(error).toMatchObject({ op: 'read', code: 'EISDIR' });
  });

  test('a missing file is reported as the open', async () => {
    const error = await checkOnThread(join(await tempDir(), 'gone.jsonl'), true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ThreadCheckError);
    expect(error).toMatchObject({ op: 'open', code: 'ENOENT' });
  });
});
