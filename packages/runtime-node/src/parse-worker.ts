// Worker thread of the parse pool: parses raw chunks with core's pure
// parseChunk and transfers the typed arrays back without copying.
import { workerData } from 'node:worker_threads';
import { LocalDictionary, parseChunk, transferables, type ChunkContext } from '@recsys/core/kernels';
import { serveRequests } from './worker-serve.js';

const dict = new LocalDictionary((workerData as { dictId: number }).dictId);

serveRequests((msg: { id: number; chunk: Uint8Array; ctx: ChunkContext }) => parseChunk(msg.chunk, msg.ctx, dict), transferables);
