import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { DEFAULT_SEGMENT, formatUtcSeconds } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import { checkScope, segment as checkSegment, type Scope } from '../keys.js';
import { dayWindow } from '../days.js';
import type { PipelineEnv } from '../storage-areas.js';
import { EventTable } from '../compute/event-table.js';
import { CATALOG_ARTIFACT_TYPES, assertComputable, computeArtifacts, eventTableNeeds, type ArtifactTarget } from '../compute/artifacts.js';
import { catalogForSurface } from '../compute/content-sim.js';
import { loadCatalog, type Catalog, type CatalogFormat, type CatalogProblem, type CatalogSource } from '../catalog/catalog.js';
import { ingestDay, type IngestCounts } from '../ingest/ingest-day.js';
import { checkCanonicalGate, checkCatalogGate, checkTableLimits } from '../validate/gates.js';
import { publishArtifacts, type PublishStepHook } from '../publish/publish.js';
import { CheckpointStore } from '../registry/registry.js';
import { checkWindowKeys, resolveWindowDays } from './window.js';
import { stageArtifacts, stagedBuilt, writeIngestReport } from './staging.js';

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
  readonly artifacts: { type: string; key: string; version: string; uri: string; size: number; new_blob: boolean }[];
  readonly manifest_uri: string;
  readonly history_seq: number;
  readonly catalog?: CatalogReport;
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
  const days = await resolveWindowDays(env, scope, options);
  checkWindowKeys(env, { scope, segment, types }, days);
  return { scope, segment, types, days, incremental: options.incremental === true, ...(needsCatalog && options.catalog ? { catalog: options.catalog } : {}) };
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
export async function runPipeline(env: PipelineEnv, plan: RunPlan, onDay?: (day: DayResult) => void, publishHook?: PublishStepHook): Promise<DayResult[]> {
  const results: DayResult[] = [];
  const checkpoints = new CheckpointStore(env.areas.checkpoints);
  const catalog = plan.catalog && plan.days.length > 0 ? await loadRunCatalog(env, plan, plan.catalog) : undefined;
  for (const day of plan.days) {
    const t0 = performance.now();
    const table = new EventTable(eventTableNeeds(plan.types));
    const ingest = await ingestDay(env, plan.scope, day, table, { pool: env.parsePool });
    await writeIngestReport(env, plan.scope, ingest);
    const t1 = performance.now();
    checkCanonicalGate(day, ingest.counts, env.limits);
    checkTableLimits(day, table, env.limits);
    const t2 = performance.now();
    const target: ArtifactTarget = { scope: plan.scope, segment: plan.segment, window: dayWindow(day) };
    const builtAt = formatUtcSeconds(env.clock.now().getTime());
    const built = computeArtifacts(table, plan.types, target, env.limits, builtAt, env.sha256, { catalog: catalog?.catalog });
    const t3 = performance.now();
    const inputs: InputPartition[] = [{ day, uri: ingest.canonical.uri, sha256: ingest.canonical.sha256, events: ingest.counts.accepted }];
    // Staged like the job-mode steps stage, so `run` and ingest→validate→compute→publish leave the same files.
    const staged = await stageArtifacts(env, target, built, inputs);
    // Publish the staged bytes (streamed back, checked against their hash) rather than serialising twice.
    const published = await publishArtifacts(env, target, staged.map((a) => stagedBuilt(env, a)), inputs, publishHook);
    if (plan.incremental) {
      await checkpoints.advance({ v: 1, ...plan.scope, last_completed_day: day, updated_at: env.clock.now().toISOString(), run_id: env.identity.runId });
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
      ...(catalog ? { catalog: catalog.report } : {}),
      durations_ms: { ingest: t1 - t0, validate: t2 - t1, compute: t3 - t2, publish: t4 - t3, total: t4 - t0 },
    };
    env.logger.info({ day, artifacts: result.artifacts, history_seq: result.history_seq }, 'published day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}
