/**
 * The kernels the runtime's worker threads run: the chunk parser and its
 * dictionary, and the cooc row emitter. The same functions as
 * `./internal`'s; this entry loads neither the pipeline API nor the
 * contracts' schemas (zod), which cost a worker ~55 ms of CPU at start for
 * code it never calls. Not a stable API.
 * @packageDocumentation
 */
export { parseChunk, chunkArena, chunkArenaBytes, LocalDictionary, type ChunkArena, type ChunkContext, type ChunkResult, type ChunkReject } from './ingest/chunk-parser.js';
export { coocRangeTransferables, emitCoocRange } from './compute/cooc-threads.js';
export type { CoocRangeJob } from './compute/cooc-threads.js';
