import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { DEFAULT_SEGMENT, formatUtcSeconds } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import { checkScope, segment as checkSegment, type Scope } from '../keys.js';
import { checkLimit } from '../limits.js';
import { dayWindow, daysInRange, nextDay, parseDayFlag } from '../days.js';
import type { PipelineEnv } from '../storage-areas.js';
import { EventTable } from '../compute/event-table.js';
import { assertComputable, computeArtifacts, type ArtifactTarget } from '../compute/artifacts.js';
import { ingestDay, type IngestCounts } from '../ingest/ingest-day.js';
import { checkCanonicalGate, checkTableLimits } from '../validate/gates.js';
import { publishArtifacts, type PublishStepHook } from '../publish/publish.js';
import { CheckpointStore } from '../registry/registry.js';

/** Options of {@link runPipeline} (the `run` command). @since 0.1.0 */
export interface RunOptions {
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  /** First day (inclusive); optional with `incremental`. */
  readonly start?: string | undefined;
  /** Last day (inclusive). */
  readonly end: string;
  /** Start the day after the checkpoint. */
  readonly incremental?: boolean | undefined;
  readonly types: readonly string[];
}

/** One published day. @since 0.1.0 */
export interface DayResult {
  readonly day: string;
  readonly counts: IngestCounts;
  readonly canonical: { readonly uri: string; readonly sha256: string; readonly bytes: number };
  readonly quarantine?: string;
  readonly artifacts: { type: string; key: string; version: string; uri: string; size: number; new_blob: boolean }[];
  readonly manifest_uri: string;
  readonly history_seq: number;
  readonly durations_ms: { ingest: number; validate: number; compute: number; publish: number; total: number };
}

/** The days a run covers. @since 0.1.0 */
export interface RunPlan {
  readonly scope: Scope;
  readonly segment: string;
  readonly types: ArtifactType[];
  readonly days: string[];
  readonly incremental: boolean;
}

/**
 * Validates options and resolves the days to process (before any write).
 * @since 0.1.0
 */
export async function planRun(env: PipelineEnv, options: RunOptions): Promise<RunPlan> {
  const scope = checkScope({ tenant: options.tenant, surface: options.surface });
  const segment = checkSegment('segment', options.segment ?? DEFAULT_SEGMENT);
  const types = assertComputable(options.types);
  if (types.length === 0) throw new UsageError('no artifact types selected');
  const end = parseDayFlag('--end', options.end);
  let start: string;
  if (options.incremental) {
    const checkpoint = await new CheckpointStore(env.areas.checkpoints).read(scope);
    if (checkpoint) start = nextDay(checkpoint.last_completed_day);
    else if (options.start !== undefined) start = parseDayFlag('--start', options.start);
    else throw new UsageError(`--incremental: no checkpoint for ${scope.tenant}/${scope.surface} yet; give --start for the first run`, { ...scope });
  } else {
    if (options.start === undefined) throw new UsageError('--start is required (or use --incremental)');
    start = parseDayFlag('--start', options.start);
    if (start > end) throw new UsageError(`--start ${start} is after --end ${end}`);
  }
  const days = start > end ? [] : daysInRange(start, end);
  checkLimit(env.limits, 'max_days_backfill', days.length, `${start}..${end}`);
  return { scope, segment, types, days, incremental: options.incremental === true };
}

/**
 * Runs ingest → validate → compute → publish for each day of the plan, in
 * one pass over the raw input per day (accepted events feed the aggregators
 * while the canonical partition is written). Stops at the first failing day;
 * days before it stay published. `onDay` sees each published day.
 * @since 0.1.0
 */
export async function runPipeline(env: PipelineEnv, plan: RunPlan, onDay?: (day: DayResult) => void, publishHook?: PublishStepHook): Promise<DayResult[]> {
  const results: DayResult[] = [];
  const checkpoints = new CheckpointStore(env.areas.checkpoints);
  for (const day of plan.days) {
    const t0 = performance.now();
    const table = new EventTable();
    const ingest = await ingestDay(env, plan.scope, day, table);
    const t1 = performance.now();
    checkCanonicalGate(day, ingest.counts, env.limits);
    checkTableLimits(day, table, env.limits);
    const t2 = performance.now();
    const target: ArtifactTarget = { scope: plan.scope, segment: plan.segment, window: dayWindow(day) };
    const builtAt = formatUtcSeconds(env.clock.now().getTime());
    const built = await computeArtifacts(table, plan.types, target, env.limits, builtAt);
    const t3 = performance.now();
    const inputs: InputPartition[] = [{ day, uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, events: ingest.counts.accepted }];
    const published = await publishArtifacts(env, target, built, inputs, publishHook);
    if (plan.incremental) {
      await checkpoints.write({ v: 1, ...plan.scope, last_completed_day: day, updated_at: env.clock.now().toISOString(), run_id: env.identity.runId });
    }
    const t4 = performance.now();
    const result: DayResult = {
      day,
      counts: ingest.counts,
      canonical: { uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, bytes: ingest.canonical.bytes },
      ...(ingest.quarantine ? { quarantine: ingest.quarantine } : {}),
      artifacts: published.artifacts.map((a) => ({ type: a.type, key: a.key, version: a.version, uri: a.uri, size: a.size, new_blob: a.newBlob })),
      manifest_uri: published.commit.manifestUri,
      history_seq: published.commit.entry.seq,
      durations_ms: { ingest: t1 - t0, validate: t2 - t1, compute: t3 - t2, publish: t4 - t3, total: t4 - t0 },
    };
    env.logger.info({ day, artifacts: result.artifacts, history_seq: result.history_seq }, 'published day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}
