import type { InputPartition } from '@recsys/contracts';
import type { PipelineEnv } from '../storage-areas.js';
import { EventTable } from '../compute/event-table.js';
import { eventTableNeeds } from '../compute/kinds.js';
import type { CatalogSource } from '../catalog/catalog.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import { checkCanonicalGate, checkTableLimits } from '../validate/gates.js';
import type { PublishStepHook } from '../publish/publish.js';
import { planSteps, type JobPlan } from './plan.js';
import { computeDayStep, ingestDayStep, logPublishedDay, publishDayStep, type PublishDayResult } from './day-steps.js';
import { loadRunCatalog, type CatalogReport } from './run-catalog.js';
import { stagedBuilt } from './staging.js';

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
  /** The item catalog; required when `types` has `content_sim`. */
  readonly catalog?: CatalogSource | undefined;
}

/** One published day of `run`: what was ingested, and what {@link PublishDayResult} says. @since 0.1.0 */
export interface DayResult extends PublishDayResult {
  readonly counts: IngestCounts;
  readonly canonical: { readonly uri: string; readonly sha256: string; readonly bytes: number };
  readonly quarantine?: string;
  readonly catalog?: CatalogReport;
  readonly durations_ms: { ingest: number; validate: number; compute: number; publish: number; total: number };
}

/** The days a run covers (the plan of every step: `run` has no shard). @since 0.1.0 */
export type RunPlan = JobPlan;

/**
 * Validates options and resolves the days to process (before any write).
 * @since 0.1.0
 */
export function planRun(env: PipelineEnv, options: RunOptions): Promise<RunPlan> {
  return planSteps(env, 'run', options);
}

/**
 * Runs ingest → validate → compute → publish for each day of the plan, in
 * one pass over the raw input per day (accepted events feed the aggregators
 * while the canonical partition is written), with the same per-day steps
 * the job-mode steps wrap. Stops at the first failing day; days before it
 * stay published. `onDay` sees each published day.
 * @since 0.1.0
 */
export async function runPipeline(env: PipelineEnv, plan: RunPlan, onDay?: (day: DayResult) => void, publishHook?: PublishStepHook): Promise<DayResult[]> {
  const results: DayResult[] = [];
  const catalog = plan.catalog && plan.days.length > 0 ? await loadRunCatalog(env, plan, plan.catalog) : undefined;
  for (const day of plan.days) {
    const t0 = performance.now();
    const table = new EventTable(eventTableNeeds(plan.types));
    const { report: ingest } = await ingestDayStep(env, plan, day, table);
    const t1 = performance.now();
    checkCanonicalGate(day, ingest.counts, env.limits);
    checkTableLimits(day, table, env.limits);
    const t2 = performance.now();
    const inputs: InputPartition[] = [{ day, uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, events: ingest.counts.accepted }];
    // Staged like the job-mode steps stage, so `run` and ingest→validate→compute→publish leave the same files.
    const staged = await computeDayStep(env, plan, day, table, inputs, catalog?.catalog);
    const t3 = performance.now();
    // Publish the staged bytes (streamed back, checked against their hash) rather than serialising twice.
    const published = await publishDayStep(env, plan, day, staged.map((a) => stagedBuilt(env, a)), inputs, publishHook);
    const t4 = performance.now();
    const result: DayResult = {
      day,
      counts: ingest.counts,
      canonical: { uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, bytes: ingest.canonical.bytes },
      ...(ingest.quarantine ? { quarantine: ingest.quarantine } : {}),
      artifacts: published.artifacts,
      manifest_uri: published.manifest_uri,
      history_seq: published.history_seq,
      ...(catalog ? { catalog: catalog.report } : {}),
      durations_ms: { ingest: t1 - t0, validate: t2 - t1, compute: t3 - t2, publish: t4 - t3, total: t4 - t0 },
    };
    logPublishedDay(env, result);
    results.push(result);
    onDay?.(result);
  }
  return results;
}
