import type { InputPartition } from '@recsys/contracts';
import type { DayPhase, PipelineEnv } from '../pipeline-env.js';
import { EventTable } from '../compute/event-table.js';
import { eventTableNeeds } from '../compute/kinds.js';
import type { CatalogSource } from '../catalog/catalog.js';
import type { IngestCounts, IngestReport } from '../ingest/ingest-day.js';
import { checkCanonicalGate, checkTableLimits } from '../validate/gates.js';
import type { PublishStepHook } from '../publish/publish.js';
import { planSteps, targetOf, type JobPlan, type SkippedDay } from './plan.js';
import { completeDayStep, computeDayStep, enterPhase, ingestDayStep, ingestDayStepCommitting, logPublishedDay, publishDayStep, type ComputedDay, type IngestingDay, type PublishDayResult } from './day-steps.js';
import { loadRunCatalog, type CatalogReport } from './run-catalog.js';
import { stagedBuilt } from './staging.js';
import { SIGNAL_ARTIFACT_TYPES, signalsSkipReason, writeDaySignals, type DaySignalsReport } from './signals.js';
import type { Scope } from '../keys.js';
import type { VolumeGateResult } from '../validate/volume-anomaly.js';
import { acceptedAnomalyMessage, applyVolumeGate, recordedVolumeVerdict } from './volume-gate.js';
import type { WindowReport } from './window-artifacts.js';
import { readIngestReport } from './staging.js';

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
  /** Move a key's pointer even to a window ending before the live one (audited in history). */
  readonly movePointerBack?: boolean | undefined;
  /** Skip (and report) days with no raw input or no events instead of stopping there. */
  readonly skipEmptyDays?: boolean | undefined;
  /** Publish the (one) day even when the volume-anomaly gate blocks it; recorded in history. @since 0.3.0 */
  readonly acceptAnomaly?: boolean | undefined;
  /** Build each day's artifacts over the N days ending with it (DESIGN §9); default 1. @since 0.3.0 */
  readonly windowDays?: number | undefined;
  /** With `incremental`: also re-run the published days affected by late data, oldest first. @since 0.3.0 */
  readonly republishAffected?: boolean | undefined;
}

/** One published day of `run`: what was ingested, and what {@link PublishDayResult} says. @since 0.1.0 */
export interface DayResult extends PublishDayResult {
  readonly counts: IngestCounts;
  readonly canonical: { readonly uri: string; readonly sha256: string; readonly bytes: number };
  readonly quarantine?: string;
  readonly catalog?: CatalogReport;
  /** The volume-anomaly gate's verdict, when the gate is configured. @since 0.3.0 */
  readonly volume_gate?: VolumeGateResult;
  /** The rolling window the artifacts cover, when `window_days` > 1. @since 0.3.0 */
  readonly window?: WindowReport;
  /** The day's signals, when the environment has a signals sink (DESIGN §8.2). */
  readonly signals?: DaySignalsReport;
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
 * stay published. `onDay` sees each published day, `onSkip` each day left
 * out by `--skip-empty-days`.
 * @since 0.1.0
 */
export async function runPipeline(
  env: PipelineEnv,
  plan: RunPlan,
  onDay?: (day: DayResult) => void,
  publishHook?: PublishStepHook,
  onSkip?: (skipped: SkippedDay) => void,
): Promise<DayResult[]> {
  const results: DayResult[] = [];
  const catalog = plan.catalog && plan.days.length > 0 ? await loadRunCatalog(env, plan, plan.catalog) : undefined;
  // An unknown tenant in the signals database fails before any day is ingested, not after the first publish.
  if (env.signals && plan.days.length > 0 && !signalsSkipReason(plan.segment)) await env.signals.prepare?.(plan.scope);
  const skip = (skipped: SkippedDay) => {
    env.logger.warn({ ...skipped }, 'skipped day (--skip-empty-days)');
    onSkip?.(skipped);
  };
  for (const skipped of plan.skipped ?? []) skip(skipped);
  const phase = (day: string, name: DayPhase) => enterPhase(env, day, name);
  for (const day of plan.days) {
    phase(day, 'ingest');
    const t0 = performance.now();
    const table = new EventTable(eventTableNeeds(plan.types));
    // An operator's acceptance holds for the data it was given for: a rerun of the same partition keeps it.
    const acceptedPartition = env.volumeAnomaly ? await acceptedPartitionOf(env, plan.scope, day) : undefined;
    // The partition's commit (fsync, then every byte read back and hashed) goes on while the day is validated and
    // computed from its table. What depends on the partition waits for it: its report, the volume-anomaly gate
    // (whose verdict goes into that report, so the gate judges the day after compute, before anything is staged) and
    // the staged artifacts' inputs. So does every failure before publish: a failed commit is the day's first error,
    // then a blocked volume, as when each step ran in turn.
    const ingesting = await ingestingDay(env, plan, day, table);
    const t1 = performance.now();
    const counts = ingesting.counts;
    let judging: Promise<{ report: IngestReport; volume: VolumeGateResult | undefined }> | undefined;
    const judged = () => {
      if (judging) return judging;
      judging = ingesting.ingested.then(async ({ report }) => {
        const volumeGate = env.volumeAnomaly
          ? await applyVolumeGate(env, plan.scope, day, { accepted_events: counts.accepted, distinct_items: table.items.size }, { config: env.volumeAnomaly, accept: plan.acceptAnomaly === true || acceptedPartition === report.canonical.sha256 })
          : undefined;
        return { report, volume: volumeGate };
      });
      // Awaited later (after compute, or by the failure path): not an unhandled rejection meanwhile.
      judging.catch(() => {});
      return judging;
    };
    let computed: ComputedDay;
    let t2: number;
    try {
      if (plan.skipEmptyDays && counts.accepted === 0) {
        await ingesting.ingested;
        skip({ day, reason: 'no_events', detail: `no events for ${plan.scope.tenant}/${plan.scope.surface} (read ${counts.read} lines, ${counts.other_scope} of other tenants/surfaces, ${counts.out_of_window} on other days)` });
        continue;
      }
      phase(day, 'validate');
      checkCanonicalGate(day, counts, env.limits);
      checkTableLimits(day, table, env.limits);
      t2 = performance.now();
      const dayInputs = judged().then(({ report }): InputPartition[] => [{ day, uri: report.canonical.uri, sha256: report.canonical.sha256, events: report.counts.accepted }]);
      dayInputs.catch(() => {});
      phase(day, 'compute');
      // Staged like the job-mode steps stage, so `run` and ingest→validate→compute→publish leave the same files.
      computed = await computeDayStep(env, plan, day, table, dayInputs, catalog?.catalog, () => phase(day, 'stage'));
    } catch (error) {
      // A day that fails before compute (empty, canonical gate) is not judged for volume, as before.
      if (judging) await judging;
      else await ingesting.ingested;
      throw error;
    }
    const { report: ingest, volume } = await judged();
    const { staged, inputs, window } = computed;
    const t3 = performance.now();
    phase(day, 'publish');
    // Publish the staged bytes (streamed back, checked against their hash) rather than serialising twice.
    const published = await publishDayStep(env, plan, day, staged.map((a) => stagedBuilt(env, a)), inputs, publishHook, acceptedAnomalyMessage(volume));
    // Signals only after every gate passed and the day is published; before the checkpoint, so a failed write is retried.
    let signals: DaySignalsReport | undefined;
    if (env.signals) {
      const artifacts = new Map(staged.filter((a) => SIGNAL_ARTIFACT_TYPES.includes(a.type)).map((a) => [a.type, { built: stagedBuilt(env, a), from: 'run' as const }]));
      signals = await writeDaySignals(env, env.signals, targetOf(plan, day), day, { artifacts, catalog: catalog?.catalog });
    }
    await completeDayStep(env, plan, day);
    const t4 = performance.now();
    const result: DayResult = {
      day,
      counts: ingest.counts,
      canonical: { uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, bytes: ingest.canonical.bytes },
      ...(ingest.quarantine ? { quarantine: ingest.quarantine } : {}),
      artifacts: published.artifacts,
      pointer_moved: published.pointer_moved,
      manifest_uri: published.manifest_uri,
      history_seq: published.history_seq,
      ...(catalog ? { catalog: catalog.report } : {}),
      ...(volume ? { volume_gate: volume } : {}),
      ...(window ? { window } : {}),
      ...(signals ? { signals } : {}),
      durations_ms: { ingest: t1 - t0, validate: t2 - t1, compute: t3 - t2, publish: t4 - t3, total: t4 - t0 },
    };
    logPublishedDay(env, result);
    results.push(result);
    onDay?.(result);
  }
  return results;
}

/** The day read into `table`, its partition committing ({@link ingestDayStepCommitting}); a shard's day is committed at once. */
async function ingestingDay(env: PipelineEnv, plan: RunPlan, day: string, table: EventTable): Promise<IngestingDay> {
  if (!plan.shard) return ingestDayStepCommitting(env, plan.scope, day, table);
  const ingested = await ingestDayStep(env, plan, day, table);
  return { counts: ingested.report.counts, ingested: Promise.resolve(ingested) };
}

/** The canonical partition (SHA-256) of a day whose volume anomaly an operator accepted, if any. */
async function acceptedPartitionOf(env: PipelineEnv, scope: Scope, day: string): Promise<string | undefined> {
  const verdict = await recordedVolumeVerdict(env, scope, day);
  if (verdict?.outcome !== 'accepted') return undefined;
  return (await readIngestReport(env, scope, day).catch(() => undefined))?.canonical.sha256;
}
