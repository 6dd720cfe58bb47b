import { DEFAULT_SEGMENT, type ArtifactType } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import { checkScope, keys, checkPathSegment, type Scope } from '../keys.js';
import { dayWindow } from '../days.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { ArtifactTarget } from '../compute/artifacts.js';
import { CATALOG_ARTIFACT_TYPES, assertComputable, assertShardable } from '../compute/kinds.js';
import type { CatalogSource } from '../catalog/catalog.js';
import { parseShardSpec, type ShardSpec } from '../shard.js';
import { daysWithoutRawInput, noRawInputError } from '../ingest/raw-source.js';
import { checkWindowKeys, resolveWindowDays, type WindowOptions } from './window.js';
import { rollingWindow } from '../compute/day-aggregate.js';
import { CheckpointStore } from '../registry/registry.js';
import { assertWindowable } from './window-artifacts.js';
import { detectLateData, type LateDataReport } from './late-data.js';
import { signalsSkipReason } from './signals.js';

/*
 * One planner for `run` and the job-mode steps (DESIGN §6): every entry
 * point validates its options and resolves its days here, before any write.
 */

/** The job-mode steps. @since 0.1.0 */
export type JobStep = 'ingest' | 'validate' | 'compute' | 'merge' | 'publish';

/** What can be planned: `run` (every step in one pass) or one job-mode step. @since 0.1.0 */
export type PipelineStep = 'run' | JobStep;

/** Options shared by `run` and the job-mode steps (the same flags). @since 0.1.0 */
export interface JobOptions extends WindowOptions {
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  /** Artifact types (run, compute, merge, publish). */
  readonly types?: readonly string[] | undefined;
  /** Process one shard of the sessions (ingest, validate, compute). */
  readonly shard?: ShardSpec | undefined;
  /** Expected number of shards (merge); inferred from the partials when absent. */
  readonly shardCount?: number | undefined;
  /** Item catalog (run and compute, for content_sim). */
  readonly catalog?: CatalogSource | undefined;
  /** run, publish: move a key's pointer even to a window ending before the live one (audited in history). */
  readonly movePointerBack?: boolean | undefined;
  /** run: skip (and report) days with no raw input or no events instead of stopping there. */
  readonly skipEmptyDays?: boolean | undefined;
  /** run, validate, merge: let the (one) day through the volume-anomaly gate; recorded in its ingest report and history. @since 0.3.0 */
  readonly acceptAnomaly?: boolean | undefined;
  /** run, compute, merge, publish: artifacts over the N days ending with each day (DESIGN §9); default 1. @since 0.3.0 */
  readonly windowDays?: number | undefined;
  /** run with `incremental`: also re-run the published days affected by late data, oldest first. @since 0.3.0 */
  readonly republishAffected?: boolean | undefined;
}

/** A day a run skipped (`--skip-empty-days`). @since 0.1.0 */
export interface SkippedDay {
  readonly day: string;
  readonly reason: 'no_raw_input' | 'no_events';
  readonly detail: string;
}

/** A validated invocation of `run` or a job-mode step: scope, days, types. @since 0.1.0 */
export interface JobPlan {
  readonly scope: Scope;
  readonly segment: string;
  readonly days: string[];
  readonly incremental: boolean;
  readonly types: ArtifactType[];
  readonly shard?: ShardSpec;
  readonly shardCount?: number;
  /** Set when a selected type needs the item catalog. */
  readonly catalog?: CatalogSource;
  /** See {@link JobOptions.movePointerBack}. */
  readonly movePointerBack?: boolean;
  /** See {@link JobOptions.skipEmptyDays}. */
  readonly skipEmptyDays?: boolean;
  /** Days of the window left out before starting because they have no raw input (`--skip-empty-days`). */
  readonly skipped?: readonly SkippedDay[];
  /** See {@link JobOptions.acceptAnomaly}. */
  readonly acceptAnomaly?: boolean;
  /** See {@link JobOptions.windowDays}; absent means 1. */
  readonly windowDays?: number;
  /** run with `incremental`: published days whose raw input changed since they were ingested, and the windows affected. */
  readonly lateData?: LateDataReport;
  /** Days of `days` re-run because late data affects them (`--republish-affected`). */
  readonly republished?: readonly string[];
}

const INTEGER = /^(0|[1-9][0-9]*)$/;

/** Validates a shard count given on its own (`--shard-count n`). @since 0.1.0 */
export function parseShardCount(flag: string, text: string): number {
  const n = INTEGER.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n >= 1 && n <= 4096)) throw new UsageError(`${flag} must be an integer from 1 to 4096 (got ${JSON.stringify(text)})`, { flag, value: text });
  return n;
}

/**
 * The shard of a step from its flags: `--shard i/n`, or `--shard-count n`
 * with the index from `JOB_COMPLETION_INDEX` (set by Kubernetes Indexed
 * Jobs). `undefined` when neither flag is given.
 * @since 0.1.0
 */
export function resolveShard(flags: { shard?: string | undefined; shardCount?: string | undefined }, jobCompletionIndex: string | undefined): ShardSpec | undefined {
  if (flags.shard !== undefined && flags.shardCount !== undefined) throw new UsageError('give either --shard i/n or --shard-count n (with JOB_COMPLETION_INDEX), not both');
  if (flags.shard !== undefined) return parseShardSpec('--shard', flags.shard);
  if (flags.shardCount === undefined) return undefined;
  const count = parseShardCount('--shard-count', flags.shardCount);
  if (jobCompletionIndex === undefined || jobCompletionIndex === '') {
    throw new UsageError('--shard-count needs the shard index in JOB_COMPLETION_INDEX (set by Kubernetes Indexed Jobs); outside Kubernetes use --shard i/n');
  }
  const index = INTEGER.test(jobCompletionIndex.trim()) ? Number(jobCompletionIndex.trim()) : NaN;
  if (!(index >= 0 && index < count)) {
    throw new UsageError(`JOB_COMPLETION_INDEX must be an integer from 0 to ${count - 1} for --shard-count ${count} (got ${JSON.stringify(jobCompletionIndex)})`, { index: jobCompletionIndex, count });
  }
  return { index, count };
}

/**
 * Validates an invocation of `run` or a job-mode step and resolves its
 * days, before any write.
 * @since 0.1.0
 */
export async function planSteps(env: PipelineEnv, step: PipelineStep, options: JobOptions): Promise<JobPlan> {
  const scope = checkScope({ tenant: options.tenant, surface: options.surface });
  const segment = checkPathSegment('segment', options.segment ?? DEFAULT_SEGMENT);
  let types: ArtifactType[] = [];
  if (step === 'run' || step === 'compute' || step === 'merge' || step === 'publish') {
    types = assertComputable(options.types ?? []);
    if (types.length === 0) throw new UsageError(step === 'run' ? 'no artifact types selected' : `${step}: no artifact types selected`);
  }
  if (options.shard && step !== 'ingest' && step !== 'validate' && step !== 'compute') throw new UsageError(`${step} does not take --shard`);
  if (options.shardCount !== undefined && step !== 'merge') throw new UsageError(`${step}: an expected shard count applies to merge only; give the step its shard instead`);
  if (step === 'merge' || (step === 'compute' && options.shard)) assertShardable(types);
  const needsCatalog = (step === 'run' || step === 'compute') && types.some((t) => CATALOG_ARTIFACT_TYPES.includes(t));
  if (needsCatalog && !options.catalog) {
    throw new UsageError('content_sim needs an item catalog: set "catalog": {"path": …} in the config or pass --catalog <file>', { types });
  }
  if (options.skipEmptyDays && step !== 'run') throw new UsageError(`${step} does not take --skip-empty-days`);
  // The window is a property of the artifacts: ingest and validate work on single days.
  const windowDays = step === 'ingest' || step === 'validate' ? 1 : (options.windowDays ?? 1);
  assertWindowable(types, windowDays);
  if (step === 'run' && windowDays > 1 && env.signals && !signalsSkipReason(segment)) {
    // The service windows its daily signal rows itself (DESIGN §8.2); window sums there would count each day N times.
    throw new UsageError(`window_days ${windowDays} with signals (db.dsn): signals are per-day counts that the service sums itself; write them from a run with window_days 1`, { window_days: windowDays });
  }
  let days = await resolveWindowDays(env, scope, options);
  if (options.republishAffected && (step !== 'run' || !options.incremental)) throw new UsageError('--republish-affected works with --incremental, on run (it re-runs published days before the checkpoint)');
  let lateData: LateDataReport | undefined;
  let republished: string[] = [];
  const checkpoint = step === 'run' && options.incremental ? await new CheckpointStore(env.areas.checkpoints).read(scope) : undefined;
  if (checkpoint) {
    // Within the backfill limit: older days could not be re-run in one run anyway.
    lateData = await detectLateData(env, scope, checkpoint.last_completed_day, { lookbackDays: Math.min(env.limits.max_days_backfill, 366), windowDays });
    if (lateData.changed.length > 0) env.logger.warn({ changed: lateData.changed.map((c) => c.day), affected: lateData.affected }, 'late data: raw input of published days changed since they were ingested');
    if (options.republishAffected && lateData.affected.length > 0) {
      republished = lateData.affected.filter((d) => !days.includes(d));
      days = [...republished, ...days];
    }
  }
  if (options.acceptAnomaly) {
    if (step !== 'run' && step !== 'validate' && step !== 'merge') throw new UsageError(`${step} does not take --accept-anomaly (run, validate and merge apply the volume-anomaly gate)`);
    if (days.length !== 1) {
      throw new UsageError(`--accept-anomaly accepts one day: give the day as both --start and --end (this ${step} covers ${days.length} days${days.length > 0 ? ` from ${days[0]} to ${days.at(-1)}` : ''})`, { days: days.length });
    }
  }
  checkWindowKeys(env, { scope, segment, types, shard: options.shard }, days);
  // Every day's input must exist before the first day writes anything.
  const reads = step === 'run' || step === 'ingest';
  const missing = reads && !env.rawSource ? await daysWithoutRawInput(env.areas.raw, scope, days) : [];
  const skipped: SkippedDay[] = [];
  if (missing.length > 0 && !options.skipEmptyDays) {
    throw noRawInputError(env.areas.raw, scope, missing, env.rawSourceKey, step === 'run' && days.length > 1 ? '; to backfill around missing days, add --skip-empty-days' : '');
  }
  if (missing.length > 0) {
    const gone = new Set(missing);
    days = days.filter((d) => !gone.has(d));
    for (const day of missing) skipped.push({ day, reason: 'no_raw_input', detail: `no raw input under ${env.areas.raw.location}/${scope.tenant}/${scope.surface}` });
  }
  return {
    scope,
    segment,
    days,
    incremental: options.incremental === true,
    types,
    ...(options.shard ? { shard: options.shard } : {}),
    ...(options.shardCount !== undefined ? { shardCount: options.shardCount } : {}),
    ...(needsCatalog && options.catalog ? { catalog: options.catalog } : {}),
    ...(options.movePointerBack ? { movePointerBack: true } : {}),
    ...(options.skipEmptyDays ? { skipEmptyDays: true, skipped } : {}),
    ...(options.acceptAnomaly ? { acceptAnomaly: true } : {}),
    ...(windowDays > 1 ? { windowDays } : {}),
    ...(lateData ? { lateData } : {}),
    ...(republished.length > 0 ? { republished } : {}),
  };
}

/**
 * Validates a job-mode invocation and resolves its days, before any write.
 * @since 0.1.0
 */
export function planJob(env: PipelineEnv, step: JobStep, options: JobOptions): Promise<JobPlan> {
  return planSteps(env, step, options);
}

/** What an artifact of the plan is computed for on `day` (the day's own window, whatever `window_days`: its partials, its signals). @since 0.1.0 */
export function targetOf(plan: Pick<JobPlan, 'scope' | 'segment'>, day: string): ArtifactTarget {
  return { scope: plan.scope, segment: plan.segment, window: dayWindow(day) };
}

/** What the artifacts of `day` cover: its rolling window with `window_days` > 1, else the day. @since 0.3.0 */
export function artifactTargetOf(plan: Pick<JobPlan, 'scope' | 'segment' | 'windowDays'>, day: string): ArtifactTarget {
  return { scope: plan.scope, segment: plan.segment, window: plan.windowDays !== undefined && plan.windowDays > 1 ? rollingWindow(day, plan.windowDays) : dayWindow(day) };
}

/** The canonical partition of `day` (of the plan's shard, if any). @since 0.1.0 */
export function partitionKeyOf(plan: Pick<JobPlan, 'scope' | 'shard'>, day: string): string {
  return plan.shard ? keys.canonicalShardPartition(plan.scope, day, plan.shard) : keys.canonicalPartition(plan.scope, day);
}
