// Worker thread of the parse pool: parses a raw chunk in the pool's shared
// memory with core's pure parseChunk, writing the result's columns into the
// block's shared arena, and posts the result without a transfer list (views
// of shared memory are shared; the few small fresh arrays are copied), so
// this isolate never detaches an ArrayBuffer (see parse-pool.ts).
import { workerData } from 'node:worker_threads';
import { LocalDictionary, chunkArena, parseChunk, type ChunkContext } from '@recsys/core/kernels';
import { serveRequests } from './worker-serve.js';

const dict = new LocalDictionary((workerData as { dictId: number }).dictId);

serveRequests((msg: { id: number; chunk: Uint8Array; arena: SharedArrayBuffer; arenaFor: number; ctx: ChunkContext }) =>
  parseChunk(msg.chunk, msg.ctx, dict, { arena: chunkArena(msg.arena, msg.arenaFor) }),
);
