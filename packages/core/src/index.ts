/**
 * Pure pipeline logic of recsys-pipelines. No `fs`, no network, no
 * `process`: everything outside goes through the ports in `ports.ts`.
 *
 * This entry is the pipeline API: plan and run the pipeline or its job-mode
 * steps, publish, the operations (rollback, status, verify, gc, history),
 * the artifact kinds, errors, limits and ports. What runtime adapters need
 * besides (the chunk parser, staging, partials, gc fencing, the compute
 * kernels) is in `@recsys/core/internal`; in-memory storage, the
 * `ObjectStorage` contract suite and test fixtures are in
 * `@recsys/core/testing`.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './ports.js';
export * from './pipeline-env.js';
export { keys, checkScope, checkPathSegment, isStorageKey, isStorageKeyPart, isStorageKeyPrefix, type Scope } from './keys.js';
export { dayWindow, parseDayFlag } from './days.js';
export { LimitsSchema, DEFAULT_LIMITS, SERVICE_ARTIFACT_MAX_BYTES, resolveLimits, type Limits, type LimitsConfig } from './limits.js';
export { checkLimit } from './check-limit.js';
export { REJECT_REASONS, type CanonicalEvent, type RejectReason } from './ingest/raw-event.js';
export { ingestDay, type IngestCounts, type IngestReport, type IngestOptions, type IngestDayOutcome, type IngestPartOutcome, type IngestPartTarget } from './ingest/ingest-day.js';
export type { BucketInfo } from './ingest/bucket-outputs.js';
export { parseShardSpec, type ShardSpec } from './shard.js';
// Artifact kinds: everything the pipeline knows about each type (docs/how-to/add-artifact-type.md).
export {
  ARTIFACT_KINDS,
  COMPUTABLE_ARTIFACT_TYPES,
  CATALOG_ARTIFACT_TYPES,
  SHARDABLE_ARTIFACT_TYPES,
  kindOf,
  assertComputable,
  assertShardable,
} from './compute/kinds.js';
export type { ArtifactKind, ShardedKind, MergedAggregates, ArtifactInputs, BuildContext, ArtifactTarget, Payload, PayloadBuilder } from './compute/artifact-kind.js';
export { blobText, computeArtifacts, finishArtifact, type BuiltArtifact } from './compute/artifacts.js';
export type { BlobFormat } from './compute/emit.js';
export type { CoocRowPool, CoocRangeJob, CoocRangeResult } from './compute/cooc-threads.js';
export type { SessionRuns, KeptPairs, CoocRowRange } from './compute/cooc-rows.js';
export type { NameBytes } from './compute/emit.js';
export { checkArtifactBytes, checkArtifactGate, checkCanonicalGate, checkCatalogGate, checkDayLimits, type DayTotals } from './validate/gates.js';
// Data quality and time (DESIGN §9): the volume-anomaly gate, rolling windows, late data.
export {
  DEFAULT_VOLUME_ANOMALY,
  GatesConfigSchema,
  VOLUME_MEASURES,
  VolumeAnomalyConfigSchema,
  VolumeGateRecordSchema,
  evaluateVolumeGate,
  resolveVolumeAnomaly,
  volumeGateError,
  type DayVolume,
  type GatesConfig,
  type MeasureCheck,
  type VolumeAnomalyConfig,
  type VolumeGateResult,
  type VolumeHistoryDay,
  type VolumeMeasure,
  type VolumeOutcome,
} from './validate/volume-anomaly.js';
export { acceptedAnomalyMessage, applyVolumeGate, readVolumeHistory, recordedVolumeVerdict, type VolumeGateOptions } from './pipeline/volume-gate.js';
export { rollingWindow, windowDaysEnding } from './compute/day-aggregate.js';
export { MAX_WINDOW_DAYS, WINDOW_ARTIFACT_TYPES, assertWindowable, type WindowReport } from './pipeline/window-artifacts.js';
export { detectLateData, type ChangedDay, type LateDataReport } from './pipeline/late-data.js';
export { checkArtifactGateStreamed, type ArtifactOutline, type ArtifactGateExpectation, type ArtifactSource, type ArtifactScan, type ScanOptions, type ArtifactHeaderV1 } from './validate/artifact-stream.js';
export {
  CATALOG_FORMATS,
  CATALOG_REJECT_REASONS,
  catalogSourceFromStorage,
  loadCatalog,
  type Catalog,
  type CatalogFormat,
  type CatalogItem,
  type CatalogProblem,
  type CatalogRejectReason,
  type CatalogSource,
} from './catalog/catalog.js';
export { publishArtifacts, type DayArtifactReport, type PublishedArtifact, type PublishOptions, type PublishResult, type PublishStepHook } from './publish/publish.js';
export { Registry, CheckpointStore, type CurrentMap, type PointerUpdate, type CommitMeta, type CommitResult, type CommitOptions } from './registry/registry.js';
// The pipeline: one planner, the per-day steps, `run` and the job-mode steps.
export { resolveWindowDays, type WindowOptions } from './pipeline/window.js';
export { artifactTargetOf, planJob, planSteps, resolveShard, parseShardCount, type JobOptions, type JobPlan, type JobStep, type PipelineStep, type SkippedDay } from './pipeline/plan.js';
export { ingestDayStep, computeDayStep, publishDayStep, completeDayStep, type ComputedDay, type IngestedDay, type PublishDayResult } from './pipeline/day-steps.js';
export type { CatalogReport } from './pipeline/run-catalog.js';
export { planRun, runPipeline, type RunOptions, type RunPlan, type DayResult } from './pipeline/run.js';
export { ingestJob, type IngestDayResult } from './pipeline/jobs/ingest.js';
export { validateJob, type ValidateDayResult } from './pipeline/jobs/validate.js';
export { computeJob, type ComputeDayResult, type PartialResult } from './pipeline/jobs/compute.js';
export { mergeJob, type MergeDayResult } from './pipeline/jobs/merge.js';
export { publishJob } from './pipeline/jobs/publish.js';
// Signals for the service's database (DESIGN §8.2).
export {
  SIGNAL_ARTIFACT_TYPES,
  writeDaySignals,
  signalsSkipReason,
  signalsJob,
  type SignalsPlan,
  type DaySignalsReport,
  type SignalInputs,
} from './pipeline/signals.js';
export type { StagedArtifact } from './pipeline/staging.js';
// Operations: rollback, status, verify, gc, history.
export { type OpsEnv } from './ops/env.js';
export { parseDuration, formatDuration } from './ops/duration.js';
export { readHistory, type HistoryItem, type KeyChange } from './ops/history.js';
export { rollback, type RollbackOptions, type RollbackMove, type RollbackResult } from './ops/rollback.js';
export { collectStatus, renderPrometheus, dataAgeMs, isFresh, DEFAULT_MAX_AGE_MS, type BlobCheckLevel, type StatusProblemKind, type StatusOptions, type StatusReport, type ScopeStatus, type ArtifactStatus, type StatusEnv } from './ops/status.js';
export { verifyRegistry, type VerifyReport, type VerifyProblem, type VerifyProblemKind, type ScopeVerification, type VerifyEnv } from './ops/verify.js';
export { collectGarbage, DEFAULT_GC_OLDER_THAN_MS, DEFAULT_GC_KEEP_HISTORY, type GcOptions, type GcReport, type GcScopeReport, type GcItem } from './ops/gc.js';
// Report and show: what is live, for people (DESIGN §10).
export { showLive, type ShowOptions, type ShowResult, type ShownArtifact, type ShowEnv } from './report/show.js';
export { buildReport } from './report/report.js';
export {
  REPORT_DEFAULTS,
  type ReportOptions,
  type ReportEnv,
  type ReportDocument,
  type ScopeReport,
  type LiveArtifact,
  type TopItemsSection,
  type TopItemRow,
  type RankChange,
  type NeighborsSection,
  type ReportHistoryEntry,
  type TimelineEvent,
  type IngestDayRow,
  type DayOutcome,
} from './report/report-types.js';
export { renderReportHtml } from './report/html.js';
