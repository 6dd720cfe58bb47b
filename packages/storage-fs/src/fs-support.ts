import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { RecsysError } from '@recsys/core';

/*
 * Small helpers shared by the adapter, its durable file writes and its lock:
 * errno tests, the I/O error every operation maps a failure to, hashing and
 * process liveness.
 */

/** True when `error` is a Node system error with this `code` (`ENOENT`, `EEXIST`, …). */
export const isErr = (error: unknown, code: string) => (error as NodeJS.ErrnoException | undefined)?.code === code;

/** Hex SHA-256 of `data`. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The `runtime` error of a failed filesystem operation on `key` under `root`. */
export function ioError(root: string, op: string, key: string, error: unknown): RecsysError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
  return new RecsysError('runtime', `filesystem ${op} failed for ${join(root, key)}: ${code} ${(error as Error).message}`, { key, root, op, code }, { cause: error });
}

/** True when no process `pid` exists on this host (a process we may not signal still exists). */
export function processGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return isErr(error, 'ESRCH');
  }
}
