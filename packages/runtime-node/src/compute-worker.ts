// Worker thread of the compute pool: counts and writes a range of cooc rows
// with core's pure emitCoocRange over the shared session runs, and transfers
// the result's buffers back without copying.
import { coocRangeTransferables, emitCoocRange, type CoocRangeJob } from '@recsys/core/kernels';
import { serveRequests } from './worker-serve.js';

serveRequests((msg: { id: number; job: CoocRangeJob; from: number; to: number }) => emitCoocRange(msg.job, msg.from, msg.to), coocRangeTransferables);
