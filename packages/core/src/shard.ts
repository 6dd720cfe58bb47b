import { UsageError } from './errors.js';

/** Which slice of the sessions a sharded step processes. @since 0.1.0 */
export interface ShardSpec {
  /** 0-based shard index, `0 <= index < count`. */
  readonly index: number;
  readonly count: number;
}

const utf8 = new TextEncoder();

/**
 * The shard of a session: FNV-1a (32-bit) of the session id's UTF-8 bytes,
 * modulo the shard count. Stable across machines, runtimes and releases
 * (documented in docs/how-to/scale-out.md; known values are tested), so
 * every event of a session lands in the same shard and cooc pairs are exact
 * within a shard.
 * @since 0.1.0
 */
export function shardOfSession(sessionId: string, count: number): number {
  // An ASCII id's UTF-8 bytes are its char codes: hashed without encoding it (called once per new session of
  // every ingest chunk and compute bucket block, so the encoding's allocation added up).
  let h = 0x811c9dc5;
  for (let k = 0; k < sessionId.length; k++) {
    const c = sessionId.charCodeAt(k);
    if (c >= 0x80) {
      const bytes = utf8.encode(sessionId);
      return shardOfSessionBytes(bytes, 0, bytes.length, count);
    }
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/**
 * {@link shardOfSession} of the session whose UTF-8 bytes are
 * `bytes[from..to)`: ingest has them from the parse workers and hashes
 * them as they are, with no string made to be hashed.
 */
export function shardOfSessionBytes(bytes: Uint8Array, from: number, to: number, count: number): number {
  return fnv1a32Bytes(bytes, from, to) % count;
}

/**
 * 32-bit FNV-1a of `bytes[from..to)` (unsigned): the hash {@link shardOfSession}
 * takes modulo the shard count. A bucket's session footer lists it for each of
 * its sessions (pipeline/bucket-format.ts).
 * @since 0.9.0
 */
export function fnv1a32Bytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let k = from; k < to; k++) {
    h ^= bytes[k]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Parses `i/n` (e.g. `3/8`), naming the flag on error. @since 0.1.0 */
export function parseShardSpec(flag: string, value: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 0) || index >= count || count > 4096) {
    throw new UsageError(`${flag} must be i/n with 0 <= i < n <= 4096 (got ${JSON.stringify(value)})`, { flag, value });
  }
  return { index, count };
}
