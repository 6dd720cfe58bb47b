/**
 * Pure pipeline logic of recsys-pipelines. No `fs`, no network, no
 * `process`: everything outside goes through the ports in `ports.ts`.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './ports.js';
export * from './storage-areas.js';
export { keys, checkScope, segment as checkPathSegment, historySeqOfKey, type Scope } from './keys.js';
export { dayWindow, daysInRange, nextDay, parseDayFlag, dayOfMs, dayStartMs } from './days.js';
export { LimitsSchema, DEFAULT_LIMITS, resolveLimits, checkLimit, type Limits, type LimitsConfig } from './limits.js';
export { compareUtf8 } from './utf8-order.js';
export { splitLines, MAX_LINE_BYTES, type RawLine } from './ingest/line-splitter.js';
export { REJECT_REASONS, checkRawEvent, canonicalLine, type CanonicalEvent, type RejectReason, type RawEventResult } from './ingest/raw-event.js';
export { FingerprintSet } from './ingest/fingerprint-set.js';
export { rawSourcesForDay, openRawSource, type RawSourceFile } from './ingest/raw-source.js';
export { ingestDay, ingestDayReference, inProcessParsePool, type IngestCounts, type IngestReport, type IngestOptions } from './ingest/ingest-day.js';
export { parseChunk, transferables, LocalDictionary, type ChunkContext, type ChunkResult, type ChunkReject } from './ingest/chunk-parser.js';
export { shardOfSession, parseShardSpec, type ShardSpec } from './shard.js';
export { EventTable, NO_USER, instantOf } from './compute/event-table.js';
export { Interner } from './compute/interner.js';
export { PairCounter } from './compute/pair-counter.js';
export { computePopularity, computePopularityRows, popularityPayload, popularityItems, rankByExposure, type ItemCount, type ItemExposure, type PopularityRows } from './compute/popularity.js';
export { computeCooc, computeCoocRows, countSessionPairs, coocRowsFromPairs, coocPayload, coocRowObjects, type CoocRow, type CoocRows } from './compute/cooc.js';
export { JsonBytes, artifactBytes, valuePayload, writeIdCountArray, writeName, nameBytes, jsonString, type PayloadSource, type ArtifactHeader, type BuildBlock, type NameBytes } from './compute/emit.js';
export { blobText, computeArtifacts, finishArtifact, type ArtifactTarget, type BuiltArtifact, type Payload, type PayloadBuilder } from './compute/artifacts.js';
export { checkArtifactGate, checkCanonicalGate, checkDayLimits, checkTableLimits, type DayTotals } from './validate/gates.js';
export {
  scanArtifact,
  readArtifactHeader,
  checkArtifactGateStreamed,
  ArtifactSyntaxError,
  ArtifactChangedError,
  type ArtifactScan,
  type ArtifactSource,
  type ArtifactHeaderV1,
  type ArtifactGateExpectation,
  type ScanOptions,
} from './validate/artifact-stream.js';
export { portableSha256 } from './sha256-portable.js';
// Per-user artifacts, content_sim and the item catalog (issue #8).
export { computeUserRows, rowsByUser, type ItemScore, type UserItems, type UserScorer } from './compute/user-items.js';
export { computeImplicit } from './compute/implicit.js';
export { computeSessionSeq, eventInstants, type EventInstants } from './compute/session-seq.js';
export { computeContentSim, catalogForSurface, type ContentSimItem, type SurfaceCatalog } from './compute/content-sim.js';
export { type ArtifactInputs, type BuildContext } from './compute/artifacts.js';
export {
  ARTIFACT_KINDS,
  COMPUTABLE_ARTIFACT_TYPES,
  CATALOG_ARTIFACT_TYPES,
  SHARDABLE_ARTIFACT_TYPES,
  kindOf,
  assertComputable,
  assertShardable,
  eventTableNeeds,
} from './compute/kinds.js';
export type { ArtifactKind, ShardedKind, MergedAggregates } from './compute/artifact-kind.js';
export { readCsvRecords, type CsvRecord, type CsvErrorReason } from './catalog/csv.js';
export {
  CATALOG_FORMATS,
  CATALOG_REJECT_REASONS,
  MAX_REPORTED_PROBLEMS,
  catalogSourceFromStorage,
  loadCatalog,
  normalizeTags,
  parseCatalog,
  splitTagCell,
  type Catalog,
  type CatalogFormat,
  type CatalogItem,
  type CatalogProblem,
  type CatalogRejectReason,
  type CatalogSource,
} from './catalog/catalog.js';
export { checkCatalogGate } from './validate/gates.js';
export { type CatalogReport } from './pipeline/run-catalog.js';
export { FULL_READBACK_MAX_BYTES, publishArtifacts, type PublishedArtifact, type PublishResult, type PublishStepHook } from './publish/publish.js';
export { Registry, CheckpointStore, applyUpdate, type CurrentMap, type PointerUpdate, type CommitMeta, type CommitResult, type CommitOptions } from './registry/registry.js';
export { planRun, runPipeline, type RunOptions, type RunPlan, type DayResult } from './pipeline/run.js';
// Job mode, segments and sharded runs (issue #6).
export { resolveWindowDays, type WindowOptions } from './pipeline/window.js';
export { planJob, planSteps, resolveShard, parseShardCount, type JobOptions, type JobPlan, type JobStep, type PipelineStep } from './pipeline/plan.js';
export { ingestDayStep, computeDayStep, publishDayStep, type IngestedDay, type PublishDayResult } from './pipeline/day-steps.js';
export { ingestJob, type IngestDayResult } from './pipeline/jobs/ingest.js';
export { validateJob, type ValidateDayResult } from './pipeline/jobs/validate.js';
export { computeJob, type ComputeDayResult, type PartialResult } from './pipeline/jobs/compute.js';
export { mergeJob, type MergeDayResult } from './pipeline/jobs/merge.js';
export { publishJob } from './pipeline/jobs/publish.js';
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
  type StagedArtifact,
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
// Operations: rollback, status, verify, gc, history (issue #4).
export { type OpsEnv } from './ops/env.js';
export { parseDuration, formatDuration } from './ops/duration.js';
export { checkBlob, versionOfUri, type BlobCheck, type BlobExpectation, type BlobProblem } from './ops/blob-check.js';
export { readHistory, historyItem, diffCurrent, type HistoryItem, type KeyChange } from './ops/history.js';
export { rollback, type RollbackOptions, type RollbackMove, type RollbackResult } from './ops/rollback.js';
export { collectStatus, renderPrometheus, DEFAULT_MAX_AGE_MS, type StatusOptions, type StatusReport, type ScopeStatus, type ArtifactStatus, type StatusEnv } from './ops/status.js';
export { verifyRegistry, type VerifyReport, type VerifyProblem, type VerifyProblemKind, type ScopeVerification, type VerifyEnv } from './ops/verify.js';
export { collectGarbage, DEFAULT_GC_OLDER_THAN_MS, DEFAULT_GC_KEEP_HISTORY, type GcOptions, type GcReport, type GcScopeReport, type GcItem } from './ops/gc.js';
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
