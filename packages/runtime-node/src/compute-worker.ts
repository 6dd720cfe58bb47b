// Worker thread of the compute pool: counts and writes a range of cooc rows
// with core's pure emitCoocRange over the shared session runs, and transfers
// the result's buffers back without copying.
import { parentPort } from 'node:worker_threads';
import { coocRangeTransferables, emitCoocRange } from '@recsys/core/internal';
import type { CoocRangeJob } from '@recsys/core';

parentPort!.on('message', (msg: { id: number; job: CoocRangeJob; from: number; to: number }) => {
  try {
    const result = emitCoocRange(msg.job, msg.from, msg.to);
    parentPort!.postMessage({ id: msg.id, result }, coocRangeTransferables(result));
  } catch (error) {
    parentPort!.postMessage({ id: msg.id, error: error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) } });
  }
});
