import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * From this size on, a written file is synced, read back and hashed on a
 * thread of its own ({@link checkOnThread}). Starting that thread costs ~30
 * CPU ms (an isolate, no module of ours loaded), as much as hashing ~32 MiB
 * here; above it the thread is cheaper in CPU too (positioned reads into one
 * reused buffer instead of a stream allocating a buffer per chunk: 113
 * against 144 CPU ms for a 143 MB partition).
 */
export const READ_BACK_THREAD_BYTES = 32 << 20;

/**
 * The thread's whole program, plain CommonJS evaluated by `Worker` (no file
 * to locate next to a bundle): open the file, take its size, fsync it (any
 * descriptor of a file flushes all of its data), read it through one reused
 * buffer and hash it; post the size and hex digest, or the failed
 * operation's error message and code.
 */
const CHECK_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, fstatSync, fsyncSync, readSync, closeSync } = require('node:fs');
let op = 'open';
try {
  const fd = openSync(workerData.path, 'r');
  try {
    op = 'stat';
    const size = fstatSync(fd).size;
    if (workerData.sync) {
      op = 'fsync';
      fsyncSync(fd);
    }
    op = 'read';
    const buffer = Buffer.allocUnsafe(4 << 20);
    const hash = createHash('sha256');
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    parentPort.postMessage({ size, sha256: hash.digest('hex') });
  } finally {
    closeSync(fd);
  }
} catch (error) {
  parentPort.postMessage({ error: { op, message: String(error && error.message), code: error && error.code } });
}
`;

/** What {@link checkOnThread} found: the file's size and SHA-256 after its fsync. */
export interface ThreadCheck {
  readonly size: number;
  readonly sha256: string;
}

/** A failure of the thread's file operation, with the operation's name and the error's code. */
export class ThreadCheckError extends Error {
  constructor(
    readonly op: string,
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Starts, on a worker thread, the check of a file whose writes are all done:
 * its size, its fsync when `sync`, then every byte read back and hashed. The
 * thread starts before this returns, so the check goes on while the calling
 * thread is busy (`run` computes while its partition is checked); only the
 * answer waits for the calling thread's event loop.
 */
export function checkOnThread(path: string, sync: boolean): Promise<ThreadCheck> {
  const worker = new Worker(CHECK_PROGRAM, { eval: true, workerData: { path, sync } });
  const answer = new Promise<ThreadCheck>((resolve, reject) => {
    worker.once('message', (reply: { size?: number; sha256?: string; error?: { op: string; message: string; code?: string } }) => {
      if (reply.error) reject(new ThreadCheckError(reply.error.op, reply.error.message, reply.error.code));
      else resolve({ size: reply.size!, sha256: reply.sha256! });
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the write-check thread of ${path} exited (code ${code}) without an answer`)));
  });
  return answer.finally(() => worker.terminate());
}

/** Hex SHA-256 of the file at `path` as it reads back now, on this thread. */
export async function readBackSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
