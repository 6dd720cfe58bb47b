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
export { ingestDay, type IngestCounts, type IngestReport } from './ingest/ingest-day.js';
export { EventTable } from './compute/event-table.js';
export { Interner } from './compute/interner.js';
export { PairCounter } from './compute/pair-counter.js';
export { computePopularity, type ItemCount } from './compute/popularity.js';
export { computeCooc, countSessionPairs, coocRowsFromPairs, type CoocRow } from './compute/cooc.js';
export { COMPUTABLE_ARTIFACT_TYPES, assertComputable, computeArtifacts, finishArtifact, type ArtifactTarget, type BuiltArtifact } from './compute/artifacts.js';
export { checkArtifactGate, checkCanonicalGate, checkTableLimits } from './validate/gates.js';
export { publishArtifacts, type PublishedArtifact, type PublishResult, type PublishStepHook } from './publish/publish.js';
export { Registry, CheckpointStore, applyUpdate, type CurrentMap, type PointerUpdate, type CommitMeta, type CommitResult, type CommitOptions } from './registry/registry.js';
export { planRun, runPipeline, type RunOptions, type RunPlan, type DayResult } from './pipeline/run.js';
