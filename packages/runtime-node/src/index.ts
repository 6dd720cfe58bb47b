/**
 * The Node.js runtime of recsys-pipelines: implementations of
 * `@recsys/core` ports that need Node (worker threads, `node:crypto`).
 * Whoever creates a {@link WorkerParsePool} or {@link WorkerComputePool} closes it.
 * @packageDocumentation
 */
export { WorkerParsePool, FIRST_READS, LOCAL_CHUNK_BYTES, RING_BLOCKS, type WorkerParsePoolOptions } from './parse-pool.js';
export { WorkerComputePool } from './compute-pool.js';
export { nodeSha256 } from './sha256.js';
export { nodeCrc32 } from './crc32.js';
