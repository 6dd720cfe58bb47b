import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import type { Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { EventTable } from '../compute/event-table.js';
import { countSessionPairs } from '../compute/cooc.js';
import { finishArtifact, type BuiltArtifact } from '../compute/artifacts.js';
import type { ArtifactTarget, Payload } from '../compute/artifact-kind.js';
import { kindOf, SHARDABLE_ARTIFACT_TYPES } from '../compute/kinds.js';
import { dayAggregateOf, rollingWindow, windowDaysEnding, type DayAggregate, type WindowSums } from '../compute/day-aggregate.js';
import { loadWindow, writeDayAggregate } from './day-aggregates.js';

/*
 * Rolling windows (DESIGN §9, docs/explanation/windows.md): a day's
 * artifacts over the N days ending with it, from the days' untruncated
 * aggregates, with the limits applied to the sums by the same functions as
 * a one-day run and a shard merge, so `window_days: 1` is byte-identical to
 * the one-day artifact.
 */

/**
 * Artifact types that can be built over a rolling window: the kinds whose
 * counts add up (those with a shard merge, compute/kinds.ts). @since 0.3.0
 */
export const WINDOW_ARTIFACT_TYPES: readonly ArtifactType[] = SHARDABLE_ARTIFACT_TYPES;

/** Largest `window_days`. @since 0.3.0 */
export const MAX_WINDOW_DAYS = 366;

/** Throws a usage error unless every type can be built over a window of `windowDays` days. @since 0.3.0 */
export function assertWindowable(types: readonly string[], windowDays: number, source = 'window_days'): void {
  if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) {
    throw new UsageError(`${source} must be an integer from 1 to ${MAX_WINDOW_DAYS} (got ${windowDays})`, { window_days: windowDays });
  }
  if (windowDays === 1) return;
  const bad = types.filter((t) => !WINDOW_ARTIFACT_TYPES.includes(t as ArtifactType));
  if (bad.length > 0) {
    throw new UsageError(`artifact type(s) ${bad.join(', ')} cannot be built over a ${windowDays}-day window (${source}; windowable: ${WINDOW_ARTIFACT_TYPES.join(', ')}); compute them in a run with window_days 1`, { types: bad, window_days: windowDays });
  }
}

/** Whether any of the types needs session pair counts. @since 0.3.0 */
export function windowNeedsPairs(types: readonly string[]): boolean {
  return types.some((t) => kindOf(t)?.sharded?.pairs === true);
}

/** The payload of a windowable type from the window's sums: the kind's merge function, as a shard merge. */
function windowPayload(type: ArtifactType, sums: WindowSums, env: PipelineEnv): Payload {
  const merge = kindOf(type)?.sharded?.merge;
  if (!merge) throw new UsageError(`artifact type ${type} cannot be built over a window`);
  return merge({ exposure: sums.exposure, pairs: sums.pairs }, env.limits);
}

/** What a window build used, as `run --json` reports it. @since 0.3.0 */
export interface WindowReport {
  readonly days: number;
  readonly start: string;
  readonly end: string;
  /** Days of the window that were never ingested (counted as empty). */
  readonly missing: readonly string[];
  /** Days whose stored aggregate was missing or stale and was rebuilt from the canonical partition. */
  readonly rebuilt: readonly string[];
}

/** The artifacts of a day over its window, with the inputs they were built from. @since 0.3.0 */
export interface WindowBuild {
  readonly target: ArtifactTarget;
  readonly built: BuiltArtifact[];
  readonly inputs: InputPartition[];
  readonly report: WindowReport;
}

/**
 * Builds the window artifacts of `day`, whose own aggregate (`dayAggregate`,
 * with the partitions it came from) was just computed: stores it, sums it
 * with the stored aggregates of the window's other days and builds each
 * type from the sums.
 * @since 0.3.0
 */
export async function buildWindowArtifacts(
  env: PipelineEnv,
  target: { readonly scope: Scope; readonly segment: string },
  day: string,
  windowDays: number,
  types: readonly ArtifactType[],
  own: { readonly inputs: readonly InputPartition[]; readonly aggregate: DayAggregate },
  builtAt: string,
): Promise<WindowBuild> {
  await writeDayAggregate(env, target.scope, own.inputs, own.aggregate);
  const days = windowDaysEnding(day, windowDays);
  const loaded = await loadWindow(env, target.scope, days, { pairs: windowNeedsPairs(types), known: new Map([[day, own]]) });
  if (loaded.missing.length > 0) {
    env.logger.warn({ day, window_days: windowDays, missing: loaded.missing }, 'window days never ingested are counted as empty');
  }
  const window = rollingWindow(day, windowDays);
  const full: ArtifactTarget = { scope: target.scope, segment: target.segment, window };
  const built = types.map((type) => finishArtifact(type, full, windowPayload(type, loaded.sums, env), builtAt, env.sha256, env.blobFormat));
  return { target: full, built, inputs: loaded.inputs, report: { days: windowDays, start: window.start, end: window.end, missing: loaded.missing, rebuilt: loaded.rebuilt } };
}

/** A day's own aggregate from its event table (pairs counted when a type needs them). @since 0.3.0 */
export function ownDayAggregate(env: PipelineEnv, day: string, table: EventTable, types: readonly string[]): DayAggregate {
  return dayAggregateOf(day, table, windowNeedsPairs(types) ? countSessionPairs(table, env.limits) : undefined);
}
