// A worker thread of the pools: parses raw chunks (core's pure parseChunk,
// with this worker's dictionary) and counts and writes cooc row ranges
// (core's pure emitCoocRange over the shared session runs), whichever it is
// asked, and transfers the results' buffers back without copying. One set
// of these threads serves ingest and then compute (see WorkerThreads).
import { workerData } from 'node:worker_threads';
import { LocalDictionary, coocRangeTransferables, emitCoocRange, parseChunk, transferables, type ChunkContext, type ChunkResult } from '@recsys/core/internal';
import type { CoocRangeJob, CoocRangeResult } from '@recsys/core';
import { serveRequests } from './worker-serve.js';

const dict = new LocalDictionary((workerData as { dictId: number }).dictId);

type Request = { id: number; kind: 'parse'; chunk: Uint8Array; ctx: ChunkContext } | { id: number; kind: 'cooc'; job: CoocRangeJob; from: number; to: number };

serveRequests(
  (msg: Request): ChunkResult | CoocRangeResult => (msg.kind === 'parse' ? parseChunk(msg.chunk, msg.ctx, dict) : emitCoocRange(msg.job, msg.from, msg.to)),
  // A chunk result names its dictionary; a row range carries its bytes.
  (result) => ('dictId' in result ? transferables(result) : coocRangeTransferables(result)),
);
