import { formatUtcSeconds, type InputPartition } from '@recsys/contracts';
import type { DayPhase, PipelineEnv } from '../pipeline-env.js';
import type { EventTable } from '../compute/event-table.js';
import { computeArtifactsOnPool, type BuiltArtifact } from '../compute/artifacts.js';
import type { Catalog } from '../catalog/catalog.js';
import { ingestDay, ingestDayCommitting, type IngestCounts, type IngestPartOutcome, type IngestReport } from '../ingest/ingest-day.js';
import { keys, type Scope } from '../keys.js';
import { writePartReport } from './ingest-parts.js';
import { dayArtifactReports, publishArtifacts, type DayArtifactReport, type PublishStepHook } from '../publish/publish.js';
import { CheckpointStore } from '../registry/registry.js';
import { artifactTargetOf, targetOf, type JobPlan } from './plan.js';
import { buildWindowArtifacts, ownDayAggregate, type WindowReport } from './window-artifacts.js';
import { stageArtifacts, writeIngestReport, type StagedArtifact } from './staging.js';
import { computePoolWithin } from '../compute/threads-budget.js';

/*
 * The per-day steps that `run` composes in one pass and each job-mode step
 * wraps (DESIGN §6), so both entry points do the same writes in the same
 * order: ingest a day, check its limits (validate/gates.ts, checkDayLimits),
 * compute and stage its artifacts, publish them.
 */

/**
 * Starts a phase of a day: the place between steps where a command may stop
 * (the environment's abort signal; never inside a publish, which runs to its
 * end), and where progress hears which phase runs.
 * @since 0.2.0
 */
export function enterPhase(env: PipelineEnv, day: string, phase: DayPhase): void {
  env.signal?.throwIfAborted();
  env.progress?.phase?.(day, phase);
}

/** An ingested day: the report and where it is stored. @since 0.1.0 */
export interface IngestedDay {
  readonly report: IngestReport;
  /** Key of the stored ingest report in the staging area (of the part, with a shard). */
  readonly reportKey: string;
  /** With a shard: what the ingest part read and wrote. */
  readonly part?: IngestPartOutcome;
}

/**
 * Ingest one day: raw → canonical partition (of the plan's shard) +
 * quarantine, and the ingest report in the staging area. With `table`, the
 * accepted events also feed it (`run`'s single pass).
 * @since 0.1.0
 */
export async function ingestDayStep(env: PipelineEnv, plan: Pick<JobPlan, 'scope' | 'shard'>, day: string, table?: EventTable): Promise<IngestedDay> {
  const shard = plan.shard;
  if (shard) {
    // Sharded: read part i of the raw input into n session-hash buckets (pipeline/ingest-parts.ts).
    const scope = plan.scope;
    // With one part its bucket 0 is the shard's whole partition: the part writes its lines there itself (the bucket
    // keeps the ids only), instead of compute reading them back and copying them (pipeline/ingest-parts.ts). The
    // part's old report goes first, so that no report ever names a partition that this run has replaced.
    const lines = shard.count === 1 ? { storage: env.areas.canonical, key: keys.canonicalShardPartition(scope, day, shard), sha256: env.sha256 } : undefined;
    if (lines) await env.areas.artifacts.delete(keys.ingestPart(scope, day, shard));
    const part = { index: shard.index, count: shard.count, storage: env.areas.artifacts, bucketKey: (j: number) => keys.ingestPartBucket(scope, day, shard, j), quarantineKey: keys.ingestPartQuarantine(scope, day, shard), lines };
    const outcome = await ingestDay(env, scope, day, table, { pool: env.parsePool, part });
    await env.parsePool?.idle?.();
    return { report: outcome, reportKey: await writePartReport(env, scope, outcome, shard), ...(outcome.part ? { part: outcome.part } : {}) };
  }
  return (await ingestDayStepCommitting(env, plan.scope, day, table)).ingested;
}

/** A day read into its event table whose partition is still being committed ({@link ingestDayStepCommitting}). @since 0.9.0 */
export interface IngestingDay {
  /** The day's counts, final. */
  readonly counts: IngestCounts;
  /** The stored day: partition and quarantine committed, then its report written. Rejects where {@link ingestDayStep} would have. */
  readonly ingested: Promise<IngestedDay>;
}

/**
 * {@link ingestDayStep} of an unsharded day that returns once the raw input
 * is read into `table`: the partition's commit (fsync, read-back check) and
 * then the day's report go on in `ingested`, so `run` validates and computes
 * meanwhile. Whatever depends on the partition waits for `ingested`.
 * @since 0.9.0
 */
export async function ingestDayStepCommitting(env: PipelineEnv, scope: Scope, day: string, table?: EventTable): Promise<IngestingDay> {
  const committing = await ingestDayCommitting(env, scope, day, table, { pool: env.parsePool });
  // The parse threads' heaps are not needed again before the next day's ingest. Ending them takes ~30 ms of
  // waiting for the threads to exit, so compute starts meanwhile; `ingested` (awaited before anything is staged,
  // and on every failure path) waits for them too, so no day goes on with them still ending.
  const idled = env.parsePool?.idle?.();
  // A failed commit stays the day's error; the threads' end is only awaited after a commit that succeeded.
  idled?.catch(() => {});
  const ingested = committing.committed.then(async (report) => {
    await idled;
    return { report, reportKey: await writeIngestReport(env, scope, report) };
  });
  // Handled here as well, so a failure is not reported as unhandled before the caller awaits it.
  ingested.catch(() => {});
  return { counts: committing.counts, ingested };
}

/**
 * Compute one day's artifacts from its event table (and the run's item
 * catalog) and stage them with the canonical inputs they were built from.
 * @since 0.1.0
 */
export async function computeDayStep(
  env: PipelineEnv,
  plan: Pick<JobPlan, 'scope' | 'segment' | 'types' | 'windowDays'>,
  day: string,
  table: EventTable,
  inputs: readonly InputPartition[] | Promise<readonly InputPartition[]>,
  catalog: Catalog | undefined,
  beforeStage?: () => void,
): Promise<ComputedDay> {
  const target = targetOf(plan, day);
  const builtAt = formatUtcSeconds(env.clock.now().getTime());
  // The table is complete: its session map (millions of entries on a big day) is not read by compute.
  table.sessions.releaseLookups();
  if (plan.windowDays !== undefined && plan.windowDays > 1) {
    // Over the window: the day's own untruncated aggregate (stored) plus the stored ones of the other days.
    const w = await buildWindowArtifacts(env, target, day, plan.windowDays, plan.types, { inputs: await inputs, aggregate: ownDayAggregate(env, day, table, plan.types) }, builtAt);
    beforeStage?.();
    return { staged: await stageArtifacts(env, w.target, w.built, w.inputs), inputs: w.inputs, window: w.report };
  }
  const built = await computeArtifactsOnPool(table, plan.types, target, env.limits, builtAt, env.sha256, { catalog }, env.blobFormat, computePoolWithin(env, table.length));
  // The partitions computed from: `run` hands a promise of its day's, whose commit went on while this computed.
  const partitions = await inputs;
  beforeStage?.();
  return { staged: await stageArtifacts(env, target, built, partitions), inputs: [...partitions] };
}

/** What {@link computeDayStep} staged, and the canonical partitions it was computed from. @since 0.3.0 */
export interface ComputedDay {
  readonly staged: StagedArtifact[];
  /** The day's partition, or every partition of its window (`window_days` > 1): the version records' `inputs`. */
  readonly inputs: InputPartition[];
  /** The window, with `window_days` > 1. */
  readonly window?: WindowReport;
}

/** One published day. @since 0.1.0 */
export interface PublishDayResult {
  readonly day: string;
  readonly artifacts: DayArtifactReport[];
  /** False when every key already served its blob or kept a newer window: no history entry was appended. */
  readonly pointer_moved: boolean;
  readonly manifest_uri: string;
  readonly history_seq: number;
}

/**
 * Publish one day's artifacts with the pointer last (DESIGN §5.5), all types
 * in one manifest change. The checkpoint is {@link completeDayStep}'s: `run`
 * writes the day's signals in between, so a failed signals write is retried.
 * @since 0.1.0
 */
export async function publishDayStep(
  env: PipelineEnv,
  plan: Pick<JobPlan, 'scope' | 'segment' | 'movePointerBack' | 'windowDays'>,
  day: string,
  built: readonly BuiltArtifact[],
  inputs: readonly InputPartition[],
  hook?: PublishStepHook,
  note?: string,
): Promise<PublishDayResult> {
  const published = await publishArtifacts(env, artifactTargetOf(plan, day), built, inputs, hook, { movePointerBack: plan.movePointerBack, note });
  return {
    day,
    artifacts: dayArtifactReports(published.artifacts),
    pointer_moved: published.commit.noop !== true,
    manifest_uri: published.commit.manifestUri,
    history_seq: published.commit.entry.seq,
  };
}

/** Advances the checkpoint of an incremental run past a finished day. @since 0.1.0 */
export async function completeDayStep(env: PipelineEnv, plan: Pick<JobPlan, 'scope' | 'incremental'>, day: string): Promise<void> {
  if (!plan.incremental) return;
  await new CheckpointStore(env.areas.checkpoints).advance({ v: 1, ...plan.scope, last_completed_day: day, updated_at: env.clock.now().toISOString(), run_id: env.identity.runId });
}

/** The `published day` log line of `run` and `publish`. */
export function logPublishedDay(env: PipelineEnv, result: Pick<PublishDayResult, 'day' | 'artifacts' | 'history_seq'>): void {
  env.logger.info({ day: result.day, artifacts: result.artifacts, history_seq: result.history_seq }, 'published day');
}
