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
 * to locate next to a bundle): open the file, take its size, read it through
 * one reused buffer and hash it while its fsync runs on the thread pool (any
 * descriptor of a file flushes all of its data), then, once both are done,
 * post the size and hex digest, or the failed operation's error message and
 * code. The answer still comes after the fsync, as before; only the hashing
 * no longer waits for it: at 5M events the partition's fsync took ~350 ms in
 * which this thread hashed nothing and one of the two cores idled (the main
 * thread builds cooc's runs alone then), and the hash ran later against the
 * cooc workers.
 */
const CHECK_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, fstatSync, fsync, readSync, closeSync } = require('node:fs');
const failure = (op, error) => ({ error: { op, message: String(error && error.message), code: error && error.code } });
let fd;
try {
  fd = openSync(workerData.path, 'r');
} catch (error) {
  parentPort.postMessage(failure('open', error));
}
if (fd !== undefined) {
  // Settles (never rejects) once the fsync is done: the descriptor is closed only then.
  const synced = new Promise((resolve) => (workerData.sync ? fsync(fd, resolve) : resolve(null)));
  let answer;
  let op = 'stat';
  try {
    const size = fstatSync(fd).size;
    op = 'read';
    const buffer = Buffer.allocUnsafe(4 << 20);
    const hash = createHash('sha256');
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
    answer = { size, sha256: hash.digest('hex') };
  } catch (error) {
    answer = failure(op, error);
  }
  synced.then((syncError) => {
    try {
      closeSync(fd);
    } catch {}
    parentPort.postMessage(syncError && !answer.error ? failure('fsync', syncError) : answer);
  });
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
 * its size and every byte read back and hashed, answered once its fsync
 * (when `sync`) is done too. The thread starts before this returns, so the
 * check goes on while the calling thread is busy (`run` computes while its
 * partition is checked); only the answer waits for the calling thread's
 * event loop.
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
