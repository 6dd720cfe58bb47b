/**
 * Everything of `@recsys/core` plus what runtime adapters, benchmarks and
 * white-box tests need below the pipeline API: the chunk parser and its
 * dictionaries (worker threads), the compute kernels, the staging area,
 * partial aggregates, gc fencing, the streamed artifact scanner. Not a
 * stable API: it changes with the pipeline's internals.
 * @packageDocumentation
 */
export * from './index.js';
export { historySeqOfKey } from './keys.js';
export { daysInRange, nextDay, dayOfMs, dayStartMs } from './days.js';
export { compareUtf8, utf8Ranks } from './utf8-order.js';
export { splitLines, MAX_LINE_BYTES, type RawLine } from './ingest/line-splitter.js';
export { checkRawEvent, canonicalLine, type RawEventResult } from './ingest/raw-event.js';
export { FingerprintSet, randomFingerprintKey, type FingerprintKey } from './ingest/fingerprint-set.js';
export { SpilledDedupe, dedupePlan, type SpilledDuplicates } from './ingest/spilled-dedupe.js';
export { daysWithoutRawInput, noRawInputError, rawSourcesForDay, openRawSource, rawInputsForDay, isRecordReject, type RawSourceFile } from './ingest/raw-source.js';
export { ingestDayReference, inProcessParsePool } from './ingest/ingest-day.js';
export { parseChunk, chunkArena, chunkArenaBytes, LocalDictionary, type ChunkArena, type ChunkContext, type ChunkResult, type ChunkReject } from './ingest/chunk-parser.js';
export { shardOfSession } from './shard.js';
export { EventTable, NO_USER, instantOf } from './compute/event-table.js';
export { Interner } from './compute/interner.js';
export { PairCounter } from './compute/pair-counter.js';
export { computePopularity, computePopularityRows, popularityPayload, popularityItems, rankByExposure, type ItemCount, type ItemExposure, type PopularityRows } from './compute/popularity.js';
export { computeCooc, computeCoocRows, countSessionPairs, coocRowsFromPairs, coocPayload, coocRowObjects, type CoocRow, type CoocRows } from './compute/cooc.js';
export { JsonBytes, artifactBytes, compactBlobFromHashed, valuePayload, writeIdCountArray, writeName, nameBytes, jsonString, type PayloadSource, type ArtifactHeader, type BuildBlock, type NameBytes } from './compute/emit.js';
export { eventTableNeeds } from './compute/kinds.js';
export { COOC_THREADS_MIN_WORK, coocPayloadOnPool, coocRangeTransferables, emitCoocRange } from './compute/cooc-threads.js';
export { computeArtifactsOnPool } from './compute/artifacts.js';
export { computeUserRows, rowsByUser, type ItemScore, type UserItems, type UserScorer } from './compute/user-items.js';
export { computeImplicit } from './compute/implicit.js';
export { computeSessionSeq, eventInstants, type EventInstants } from './compute/session-seq.js';
export { computeContentSim, catalogForSurface, type ContentSimItem, type SurfaceCatalog } from './compute/content-sim.js';
export { checkTableLimits } from './validate/gates.js';
export { DAY_AGGREGATE_FORMAT, DayAggregateFormatError, WindowSum, dayAggregateOf, dayAggregateOfCounts, decodeDayAggregate, encodeDayAggregate, type DayAggregate, type DayAggregateHeader, type WindowSums } from './compute/day-aggregate.js';
export { dayAggregateKey, loadWindow, readDayAggregate, writeDayAggregate, type LoadedWindow, type LoadWindowOptions } from './pipeline/day-aggregates.js';
export { rawFingerprint } from './ingest/raw-source.js';
export { planRawParts, openRawPiece, type RawPiece, type RawPartPlan } from './ingest/raw-parts.js';
export { readPartSet, assembleShard, assembleQuarantine, PartReportSchema, PART_REPORT_VERSION, type PartReport } from './pipeline/ingest-parts.js';
export { BUCKET_FORMAT, BucketEncoder, BucketDecoder, BucketFormatError, bucketHeaderBytes, bucketTailBytes, readBucketFooter, type BucketHeader, type BucketBlock } from './pipeline/bucket-format.js';
export { loadRunCatalog } from './pipeline/run-catalog.js';
export { scanArtifact, readArtifactHeader, ArtifactSyntaxError, ArtifactChangedError } from './validate/artifact-stream.js';
export { portableSha256 } from './sha256-portable.js';
export { portableCrc32, crc32Hex } from './crc32-portable.js';
export { readCsvRecords, type CsvRecord, type CsvErrorReason } from './catalog/csv.js';
export { MAX_REPORTED_PROBLEMS, normalizeTags, parseCatalog, splitTagCell } from './catalog/catalog.js';
export { dayArtifactReports } from './publish/publish.js';
export { decidePointerMoves, lastDayOf, type LivePointer, type PointerAction, type PointerCandidate, type PointerDecision, type PointerPlan, type PointerWindow } from './publish/pointer-guard.js';
export { signalArtifact } from './pipeline/signals.js';
export { scanArtifactRows, scanBlobRows, type ArtifactRowScan, type RowVisitor } from './report/payload-scan.js';
export { readTopItems, lookupRanks, readNeighbors, readHeadRows, type RankedItem, type CountedItem, type ShownRow, type RankLookup } from './report/top.js';
export { shellWord } from './report/report-history.js';
export { escapeHtml } from './report/html-markup.js';
export { applyUpdate } from './registry/registry.js';
export { readCanonicalPartition, type PartitionSummary, type PartitionCheck, type ReadPartitionOptions } from './pipeline/canonical-reader.js';
export {
  windowFolderOf,
  writeIngestReport,
  readIngestReport,
  stageArtifacts,
  stagedBuilt,
  stagedVersion,
  loadStaged,
  StoredIngestReportSchema,
  StagedMetaSchema,
  type StoredIngestReport,
  type StagedMeta,
  type LoadedStagedArtifact,
} from './pipeline/staging.js';
export {
  SHARD_HASH,
  PARTIAL_FORMAT,
  PartialHeaderSchema,
  partialLimits,
  partialConfigHash,
  writePartial,
  readPartial,
  readPartialHeader,
  mergePartials,
  shardOfPartialKey,
  type PartialHeader,
  type PartialHeaderInput,
  type PartialVisitor,
  type MergedPartials,
} from './pipeline/partials.js';
export { checkBlob, versionOfUri, type BlobCheck, type BlobExpectation, type BlobProblem } from './ops/blob-check.js';
export { historyItem, diffCurrent } from './ops/history.js';
export {
  fenceTargets,
  ensureFromBytes,
  acquireMarker,
  readPins,
  readTombstone,
  PIN_TTL_MS,
  MARKER_TTL_MS,
  type FenceTarget,
  type FenceEnv,
  type FenceOptions,
  type HeldMarker,
  type PinV1,
  type GcMarkerV1,
  type TombstoneV1,
} from './ops/gc-fence.js';
