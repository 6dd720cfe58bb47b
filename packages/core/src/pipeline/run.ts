import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { DEFAULT_SEGMENT, formatUtcSeconds } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import { checkScope, segment as checkSegment, type Scope } from '../keys.js';
import { dayWindow } from '../days.js';
import type { DayPhase, PipelineEnv } from '../storage-areas.js';
import { EventTable } from '../compute/event-table.js';
import { CATALOG_ARTIFACT_TYPES, assertComputable, computeArtifacts, eventTableNeeds, type ArtifactTarget } from '../compute/artifacts.js';
import { catalogForSurface } from '../compute/content-sim.js';
import { loadCatalog, type Catalog, type CatalogFormat, type CatalogProblem, type CatalogSource } from '../catalog/catalog.js';
import { ingestDay, type IngestCounts } from '../ingest/ingest-day.js';
import { daysWithoutRawInput, noRawInputError } from '../ingest/raw-source.js';
import { checkCanonicalGate, checkCatalogGate, checkTableLimits } from '../validate/gates.js';
import { dayArtifactReports, publishArtifacts, type DayArtifactReport, type PublishStepHook } from '../publish/publish.js';
import { CheckpointStore } from '../registry/registry.js';
import { checkWindowKeys, resolveWindowDays } from './window.js';
import { stageArtifacts, stagedBuilt, writeIngestReport } from './staging.js';
import { SIGNAL_ARTIFACT_TYPES, signalsSkipReason, writeDaySignals, type DaySignalsReport } from './signals.js';
import type { VolumeGateResult } from '../validate/volume-anomaly.js';
import { acceptedAnomalyMessage, applyVolumeGate, recordedVolumeVerdict } from './volume-gate.js';
import { assertWindowable, buildWindowArtifacts, ownDayAggregate, type WindowReport } from './window-artifacts.js';
import { readIngestReport } from './staging.js';
import { detectLateData, type LateDataReport } from './late-data.js';

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

/** A day a run skipped (`--skip-empty-days`). @since 0.1.0 */
export interface SkippedDay {
  readonly day: string;
  readonly reason: 'no_raw_input' | 'no_events';
  readonly detail: string;
}

/** What a run read from its item catalog (reported with each day that used it). @since 0.1.0 */
export interface CatalogReport {
  readonly location: string;
  readonly format: CatalogFormat;
  readonly sha256?: string;
  /** Data rows read. */
  readonly rows: number;
  readonly malformed: number;
  /** The first malformed rows with their line numbers. */
  readonly problems: readonly CatalogProblem[];
  /** Items that apply to the surface (before `max_items_per_artifact`). */
  readonly items: number;
  readonly other_namespace: number;
  readonly no_tags: number;
}

/** One published day. @since 0.1.0 */
export interface DayResult {
  readonly day: string;
  readonly counts: IngestCounts;
  readonly canonical: { readonly uri: string; readonly sha256: string; readonly bytes: number };
  readonly quarantine?: string;
  readonly artifacts: DayArtifactReport[];
  /** False when every key already served its blob or kept a newer window: no history entry was appended. */
  readonly pointer_moved: boolean;
  readonly manifest_uri: string;
  readonly history_seq: number;
  readonly catalog?: CatalogReport;
  /** The volume-anomaly gate's verdict, when the gate is configured. @since 0.3.0 */
  readonly volume_gate?: VolumeGateResult;
  /** The rolling window the artifacts cover, when `window_days` > 1. @since 0.3.0 */
  readonly window?: WindowReport;
  /** The day's signals, when the environment has a signals sink (DESIGN §8.2). */
  readonly signals?: DaySignalsReport;
  readonly durations_ms: { ingest: number; validate: number; compute: number; publish: number; total: number };
}

/** The days a run covers. @since 0.1.0 */
export interface RunPlan {
  readonly scope: Scope;
  readonly segment: string;
  readonly types: ArtifactType[];
  readonly days: string[];
  readonly incremental: boolean;
  /** Set when a selected type needs the item catalog. */
  readonly catalog?: CatalogSource;
  /** See {@link RunOptions.movePointerBack}. */
  readonly movePointerBack?: boolean;
  /** See {@link RunOptions.skipEmptyDays}. */
  readonly skipEmptyDays?: boolean;
  /** Days of the window left out before starting because they have no raw input (`--skip-empty-days`). */
  readonly skipped?: readonly SkippedDay[];
  /** See {@link RunOptions.acceptAnomaly}. */
  readonly acceptAnomaly?: boolean;
  /** See {@link RunOptions.windowDays}; absent means 1. */
  readonly windowDays?: number;
  /** With `incremental`: published days whose raw input changed since they were ingested, and the windows affected. */
  readonly lateData?: LateDataReport;
  /** Days of `days` re-run because late data affects them (`--republish-affected`). */
  readonly republished?: readonly string[];
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
  const needsCatalog = types.some((t) => CATALOG_ARTIFACT_TYPES.includes(t));
  if (needsCatalog && !options.catalog) {
    throw new UsageError('content_sim needs an item catalog: set "catalog": {"path": …} in the config or pass --catalog <file>', { types });
  }
  const windowDays = options.windowDays ?? 1;
  assertWindowable(types, windowDays);
  if (windowDays > 1 && env.signals && !signalsSkipReason(segment)) {
    // The service windows its daily signal rows itself (DESIGN §8.2); window sums there would count each day N times.
    throw new UsageError(`window_days ${windowDays} with signals (db.dsn): signals are per-day counts that the service sums itself; write them from a run with window_days 1`, { window_days: windowDays });
  }
  let days = await resolveWindowDays(env, scope, options);
  if (options.republishAffected && !options.incremental) throw new UsageError('--republish-affected works with --incremental (it re-runs published days before the checkpoint)');
  let lateData: LateDataReport | undefined;
  let republished: string[] = [];
  const checkpoint = options.incremental ? await new CheckpointStore(env.areas.checkpoints).read(scope) : undefined;
  if (checkpoint) {
    // Within the backfill limit: older days could not be re-run in one run anyway.
    lateData = await detectLateData(env, scope, checkpoint.last_completed_day, { lookbackDays: Math.min(env.limits.max_days_backfill, 366), windowDays });
    if (lateData.changed.length > 0) env.logger.warn({ changed: lateData.changed.map((c) => c.day), affected: lateData.affected }, 'late data: raw input of published days changed since they were ingested');
    if (options.republishAffected && lateData.affected.length > 0) {
      republished = lateData.affected.filter((d) => !days.includes(d));
      days = [...republished, ...days];
    }
  }
  if (options.acceptAnomaly && days.length !== 1) {
    throw new UsageError(`--accept-anomaly accepts one day: give the day as both --start and --end (this run covers ${days.length} days${days.length > 0 ? ` from ${days[0]} to ${days.at(-1)}` : ''})`, { days: days.length });
  }
  checkWindowKeys(env, { scope, segment, types }, days);
  // Every day's input must exist before the first day writes anything.
  const missing = env.rawSource ? [] : await daysWithoutRawInput(env.areas.raw, scope, days);
  const skipped: SkippedDay[] = [];
  if (missing.length > 0 && !options.skipEmptyDays) {
    throw noRawInputError(env.areas.raw, scope, missing, env.rawSourceKey, days.length > 1 ? '; to backfill around missing days, add --skip-empty-days' : '');
  }
  if (missing.length > 0) {
    const gone = new Set(missing);
    days = days.filter((d) => !gone.has(d));
    for (const day of missing) skipped.push({ day, reason: 'no_raw_input', detail: `no raw input under ${env.areas.raw.location}/${scope.tenant}/${scope.surface}` });
  }
  return {
    scope,
    segment,
    types,
    days,
    incremental: options.incremental === true,
    ...(needsCatalog && options.catalog ? { catalog: options.catalog } : {}),
    ...(options.movePointerBack ? { movePointerBack: true } : {}),
    ...(options.skipEmptyDays ? { skipEmptyDays: true, skipped } : {}),
    ...(options.acceptAnomaly ? { acceptAnomaly: true } : {}),
    ...(windowDays > 1 ? { windowDays } : {}),
    ...(lateData ? { lateData } : {}),
    ...(republished.length > 0 ? { republished } : {}),
  };
}

/** How many malformed catalog rows are logged one by one. */
const LOGGED_PROBLEMS = 20;

/**
 * Reads the plan's item catalog once for the whole run, logs its malformed
 * rows with line numbers and applies the catalog gate, all before the
 * first day writes anything.
 */
export async function loadRunCatalog(env: PipelineEnv, plan: Pick<RunPlan, 'scope'>, source: CatalogSource): Promise<{ catalog: Catalog; report: CatalogReport }> {
  const catalog = await loadCatalog(source, env.sha256);
  for (const problem of catalog.problems.slice(0, LOGGED_PROBLEMS)) {
    env.logger.warn({ catalog: catalog.location, line: problem.line, reason: problem.reason, detail: problem.detail }, 'malformed catalog row');
  }
  const surface = catalogForSurface(catalog, plan.scope.surface);
  const report: CatalogReport = {
    location: catalog.location,
    format: catalog.format,
    ...(catalog.sha256 ? { sha256: catalog.sha256 } : {}),
    rows: catalog.rows,
    malformed: catalog.malformed,
    problems: catalog.problems,
    items: surface.items.length,
    other_namespace: surface.other_namespace,
    no_tags: surface.no_tags,
  };
  const { problems: _listed, ...summary } = report;
  env.logger.info({ ...summary, malformed_by_reason: catalog.malformed_by_reason }, 'read item catalog');
  checkCatalogGate(catalog, plan.scope.surface, env.limits);
  return { catalog, report };
}

/**
 * Runs ingest → validate → compute → publish for each day of the plan, in
 * one pass over the raw input per day (accepted events feed the aggregators
 * while the canonical partition is written). Stops at the first failing day;
 * days before it stay published. `onDay` sees each published day.
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
  const checkpoints = new CheckpointStore(env.areas.checkpoints);
  const catalog = plan.catalog && plan.days.length > 0 ? await loadRunCatalog(env, plan, plan.catalog) : undefined;
  // An unknown tenant in the signals database fails before any day is ingested, not after the first publish.
  if (env.signals && plan.days.length > 0 && !signalsSkipReason(plan.segment)) await env.signals.prepare?.(plan.scope);
  for (const skip of plan.skipped ?? []) {
    env.logger.warn({ ...skip }, 'skipped day (--skip-empty-days)');
    onSkip?.(skip);
  }
  const phase = (day: string, name: DayPhase) => {
    // Between steps of a day is a safe place to stop; inside a publish is not (it runs to its end).
    env.signal?.throwIfAborted();
    env.progress?.phase?.(day, name);
  };
  for (const day of plan.days) {
    phase(day, 'ingest');
    const t0 = performance.now();
    const table = new EventTable(eventTableNeeds(plan.types));
    // An operator's acceptance holds for the data it was given for: a rerun of the same partition keeps it.
    const acceptedPartition = env.volumeAnomaly ? await acceptedPartitionOf(env, plan.scope, day) : undefined;
    const ingest = await ingestDay(env, plan.scope, day, table, { pool: env.parsePool });
    await writeIngestReport(env, plan.scope, ingest);
    const t1 = performance.now();
    if (plan.skipEmptyDays && ingest.counts.accepted === 0) {
      const c = ingest.counts;
      const skip: SkippedDay = { day, reason: 'no_events', detail: `no events for ${plan.scope.tenant}/${plan.scope.surface} (read ${c.read} lines, ${c.other_scope} of other tenants/surfaces, ${c.out_of_window} on other days)` };
      env.logger.warn({ ...skip }, 'skipped day (--skip-empty-days)');
      onSkip?.(skip);
      continue;
    }
    phase(day, 'validate');
    checkCanonicalGate(day, ingest.counts, env.limits);
    checkTableLimits(day, table, env.limits);
    const volume = env.volumeAnomaly
      ? await applyVolumeGate(env, plan.scope, day, { accepted_events: ingest.counts.accepted, distinct_items: table.items.size }, { config: env.volumeAnomaly, accept: plan.acceptAnomaly === true || acceptedPartition === ingest.canonical.sha256 })
      : undefined;
    const t2 = performance.now();
    let target: ArtifactTarget = { scope: plan.scope, segment: plan.segment, window: dayWindow(day) };
    phase(day, 'compute');
    const builtAt = formatUtcSeconds(env.clock.now().getTime());
    let inputs: InputPartition[] = [{ day, uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, events: ingest.counts.accepted }];
    let built;
    let window: WindowReport | undefined;
    if (plan.windowDays !== undefined && plan.windowDays > 1) {
      const w = await buildWindowArtifacts(env, target, day, plan.windowDays, plan.types, { inputs, aggregate: ownDayAggregate(env, day, table, plan.types) }, builtAt);
      ({ target, built, inputs } = w);
      window = w.report;
    } else {
      built = computeArtifacts(table, plan.types, target, env.limits, builtAt, env.sha256, { catalog: catalog?.catalog });
    }
    const t3 = performance.now();
    // Staged like the job-mode steps stage, so `run` and ingest→validate→compute→publish leave the same files.
    phase(day, 'stage');
    const staged = await stageArtifacts(env, target, built, inputs);
    phase(day, 'publish');
    // Publish the staged bytes (streamed back, checked against their hash) rather than serialising twice.
    const published = await publishArtifacts(env, target, staged.map((a) => stagedBuilt(env, a)), inputs, publishHook, { movePointerBack: plan.movePointerBack, note: acceptedAnomalyMessage(volume) });
    // Signals only after every gate passed and the day is published; before the checkpoint, so a failed write is retried.
    let signals: DaySignalsReport | undefined;
    if (env.signals) {
      const artifacts = new Map(staged.filter((a) => SIGNAL_ARTIFACT_TYPES.includes(a.type)).map((a) => [a.type, { built: stagedBuilt(env, a), from: 'run' as const }]));
      signals = await writeDaySignals(env, env.signals, target, day, { artifacts, catalog: catalog?.catalog });
    }
    if (plan.incremental) {
      await checkpoints.advance({ v: 1, ...plan.scope, last_completed_day: day, updated_at: env.clock.now().toISOString(), run_id: env.identity.runId });
    }
    const t4 = performance.now();
    const result: DayResult = {
      day,
      counts: ingest.counts,
      canonical: { uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, bytes: ingest.canonical.bytes },
      ...(ingest.quarantine ? { quarantine: ingest.quarantine } : {}),
      artifacts: dayArtifactReports(published.artifacts),
      pointer_moved: published.commit.noop !== true,
      manifest_uri: published.commit.manifestUri,
      history_seq: published.commit.entry.seq,
      ...(catalog ? { catalog: catalog.report } : {}),
      ...(volume ? { volume_gate: volume } : {}),
      ...(window ? { window } : {}),
      ...(signals ? { signals } : {}),
      durations_ms: { ingest: t1 - t0, validate: t2 - t1, compute: t3 - t2, publish: t4 - t3, total: t4 - t0 },
    };
    env.logger.info({ day, artifacts: result.artifacts, history_seq: result.history_seq }, 'published day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}

/** The canonical partition (SHA-256) of a day whose volume anomaly an operator accepted, if any. */
async function acceptedPartitionOf(env: PipelineEnv, scope: Scope, day: string): Promise<string | undefined> {
  const verdict = await recordedVolumeVerdict(env, scope, day);
  if (verdict?.outcome !== 'accepted') return undefined;
  return (await readIngestReport(env, scope, day).catch(() => undefined))?.canonical.sha256;
}
