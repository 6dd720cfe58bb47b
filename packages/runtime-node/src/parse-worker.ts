// Worker thread of the parse pool: parses raw chunks with core's pure
// parseChunk and transfers the typed arrays back without copying.
import { parentPort, workerData } from 'node:worker_threads';
import { LocalDictionary, parseChunk, transferables, type ChunkContext } from '@recsys/core/internal';

const dict = new LocalDictionary((workerData as { dictId: number }).dictId);

parentPort!.on('message', (msg: { id: number; chunk: Uint8Array; ctx: ChunkContext }) => {
  try {
    const result = parseChunk(msg.chunk, msg.ctx, dict);
    parentPort!.postMessage({ id: msg.id, result }, transferables(result));
  } catch (error) {
    parentPort!.postMessage({ id: msg.id, error: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } });
  }
});
