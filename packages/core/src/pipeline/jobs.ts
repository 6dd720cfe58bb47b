import { DEFAULT_SEGMENT, formatUtcSeconds, type ArtifactType, type InputPartition } from '@recsys/contracts';
import { IntegrityError, NotFoundError, RecsysError, UsageError, ValidationGateError } from '../errors.js';
import { checkScope, keys, segment as checkSegment, type Scope } from '../keys.js';
import { checkLimit } from '../limits.js';
import { dayWindow } from '../days.js';
import type { PipelineEnv } from '../storage-areas.js';
import { EventTable } from '../compute/event-table.js';
import { CATALOG_ARTIFACT_TYPES, assertComputable, computeArtifacts, eventTableNeeds, finishArtifact, type ArtifactTarget, type Payload } from '../compute/artifacts.js';
import { computePopularityRows, popularityPayload, type ItemExposure } from '../compute/popularity.js';
import { countSessionPairs, coocPayload, coocRowsFromPairs } from '../compute/cooc.js';
import type { CatalogSource } from '../catalog/catalog.js';
import { ingestDay, type IngestCounts, type IngestReport } from '../ingest/ingest-day.js';
import { checkCanonicalGate, checkTableLimits } from '../validate/gates.js';
import { acceptedAnomalyMessage, applyVolumeGate, recordedVolumeVerdict } from './volume-gate.js';
import { assertWindowable, buildWindowArtifacts, ownDayAggregate, windowNeedsPairs } from './window-artifacts.js';
import { dayAggregateOfCounts, rollingWindow } from '../compute/day-aggregate.js';
import { dayArtifactReports, publishArtifacts, type DayArtifactReport, type PublishStepHook } from '../publish/publish.js';
import { CheckpointStore } from '../registry/registry.js';
import { parseShardSpec, type ShardSpec } from '../shard.js';
import { loadRunCatalog } from './run.js';
import { checkWindowKeys, resolveWindowDays, type WindowOptions } from './window.js';
import { readCanonicalPartition } from './canonical-reader.js';
import { daysWithoutRawInput, noRawInputError } from '../ingest/raw-source.js';
import { loadStaged, readIngestReport, stageArtifacts, stagedVersion, windowFolderOf, writeIngestReport, type StagedArtifact, type StoredIngestReport } from './staging.js';
import { clearValidateFailure, recordValidateFailure, refuseFailedValidation } from './validate-record.js';
import {
  PARTIAL_FORMAT,
  SHARD_HASH,
  assertShardable,
  mergePartials,
  partialConfigHash,
  partialLimits,
  readPartialHeader,
  shardOfPartialKey,
  writePartial,
  type PartialHeader,
} from './partials.js';

/*
 * Job mode (DESIGN §6): `run` split into steps that share the staging area,
 * so a scheduler (Airflow, Argo, Kubernetes) can run and retry each step on
 * its own. Every step works per UTC day of the window, exactly like `run`,
 * and re-running a step rewrites the same result:
 *
 *   ingest     raw → canonical partition + quarantine + ingest report
 *   validate   canonical gates from the report and the partition read back
 *   compute    partition → staged artifact (or, with --shard, a partial)
 *   merge      n partials → staged artifact (sharded runs)
 *   publish    staged artifacts → blobs, records, pointer (last)
 *
 * `run` does the same writes in one pass, so both leave identical files.
 */

/** Options shared by the job-mode steps (the same flags as `run`). @since 0.1.0 */
export interface JobOptions extends WindowOptions {
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  /** Artifact types (compute, merge, publish). */
  readonly types?: readonly string[] | undefined;
  /** Process one shard of the sessions (ingest, validate, compute). */
  readonly shard?: ShardSpec | undefined;
  /** Expected number of shards (merge); inferred from the partials when absent. */
  readonly shardCount?: number | undefined;
  /** Item catalog (compute content_sim). */
  readonly catalog?: CatalogSource | undefined;
  /** publish: move a key's pointer even to a window ending before the live one (audited in history). */
  readonly movePointerBack?: boolean | undefined;
  /** validate, merge: let the (one) day through the volume-anomaly gate; recorded in its ingest report and history. @since 0.3.0 */
  readonly acceptAnomaly?: boolean | undefined;
  /** compute, merge, publish: artifacts over the N days ending with each day (DESIGN §9). @since 0.3.0 */
  readonly windowDays?: number | undefined;
}

/** A validated job-mode invocation. @since 0.1.0 */
export interface JobPlan {
  readonly scope: Scope;
  readonly segment: string;
  readonly days: string[];
  readonly incremental: boolean;
  readonly types: ArtifactType[];
  readonly shard?: ShardSpec;
  readonly shardCount?: number;
  readonly catalog?: CatalogSource;
  readonly movePointerBack?: boolean;
  readonly acceptAnomaly?: boolean;
  /** Absent means 1. */
  readonly windowDays?: number;
}

/** The job-mode steps. @since 0.1.0 */
export type JobStep = 'ingest' | 'validate' | 'compute' | 'merge' | 'publish';

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
 * Validates a job-mode invocation and resolves its days, before any write.
 * @since 0.1.0
 */
export async function planJob(env: PipelineEnv, step: JobStep, options: JobOptions): Promise<JobPlan> {
  const scope = checkScope({ tenant: options.tenant, surface: options.surface });
  const segment = checkSegment('segment', options.segment ?? DEFAULT_SEGMENT);
  let types: ArtifactType[] = [];
  if (step === 'compute' || step === 'merge' || step === 'publish') {
    types = assertComputable(options.types ?? []);
    if (types.length === 0) throw new UsageError(`${step}: no artifact types selected`);
  }
  if (options.shard && step !== 'ingest' && step !== 'validate' && step !== 'compute') throw new UsageError(`${step} does not take --shard`);
  if (options.shardCount !== undefined && step !== 'merge') throw new UsageError(`${step}: an expected shard count applies to merge only; give the step its shard instead`);
  if (step === 'merge' || (step === 'compute' && options.shard)) assertShardable(types);
  const needsCatalog = step === 'compute' && types.some((t) => CATALOG_ARTIFACT_TYPES.includes(t));
  if (needsCatalog && !options.catalog) {
    throw new UsageError('content_sim needs an item catalog: set "catalog": {"path": …} in the config or pass --catalog <file>', { types });
  }
  const windowDays = options.windowDays ?? 1;
  if (step === 'compute' || step === 'merge' || step === 'publish') assertWindowable(types, windowDays);
  const days = await resolveWindowDays(env, scope, options);
  checkWindowKeys(env, { scope, segment, types, shard: options.shard }, days);
  if (options.acceptAnomaly) {
    if (step !== 'validate' && step !== 'merge') throw new UsageError(`${step} does not take --accept-anomaly (validate and merge apply the volume-anomaly gate)`);
    if (days.length !== 1) throw new UsageError(`--accept-anomaly accepts one day: give the day as both --start and --end (this ${step} covers ${days.length} days)`, { days: days.length });
  }
  if (step === 'ingest' && !env.rawSource) {
    const missing = await daysWithoutRawInput(env.areas.raw, scope, days);
    if (missing.length > 0) throw noRawInputError(env.areas.raw, scope, missing, env.rawSourceKey);
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
    ...(options.acceptAnomaly ? { acceptAnomaly: true } : {}),
    ...(windowDays > 1 && step !== 'ingest' && step !== 'validate' ? { windowDays } : {}),
  };
}

/** The day's own target (its canonical data, its partials). */
function targetOf(plan: JobPlan, day: string): ArtifactTarget {
  return { scope: plan.scope, segment: plan.segment, window: dayWindow(day) };
}

/** The target of a day's artifacts: its rolling window with `window_days` > 1, else the day. */
function artifactTargetOf(plan: JobPlan, day: string): ArtifactTarget {
  return { scope: plan.scope, segment: plan.segment, window: plan.windowDays !== undefined && plan.windowDays > 1 ? rollingWindow(day, plan.windowDays) : dayWindow(day) };
}

function partitionKeyOf(plan: JobPlan, day: string): string {
  return plan.shard ? keys.canonicalShardPartition(plan.scope, day, plan.shard) : keys.canonicalPartition(plan.scope, day);
}

function shardText(plan: JobPlan): string {
  return plan.shard ? ` --shard ${plan.shard.index}/${plan.shard.count}` : '';
}

/** Lists days as `a, b, c` or a range when they are many. */
function dayList(days: readonly string[]): string {
  return days.length <= 10 ? days.join(', ') : `${days.slice(0, 5).join(', ')}, … ${days.at(-1)} (${days.length} days)`;
}

// ---------------------------------------------------------------- ingest

/** One ingested day. @since 0.1.0 */
export interface IngestDayResult {
  readonly day: string;
  readonly shard?: ShardSpec;
  readonly report: IngestReport;
  /** URI of the stored ingest report. */
  readonly report_uri: string;
}

/**
 * `ingest`: per day, raw → canonical partition (of the shard, with
 * `--shard`) + quarantine, and the ingest report in the staging area.
 * @since 0.1.0
 */
export async function ingestJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: IngestDayResult) => void): Promise<IngestDayResult[]> {
  const results: IngestDayResult[] = [];
  for (const day of plan.days) {
    const report = await ingestDay(env, plan.scope, day, undefined, { pool: env.parsePool, shard: plan.shard, partitionKey: plan.shard ? partitionKeyOf(plan, day) : undefined });
    const key = await writeIngestReport(env, plan.scope, report, plan.shard);
    const result: IngestDayResult = { day, ...(plan.shard ? { shard: plan.shard } : {}), report, report_uri: env.areas.artifacts.uri(key) };
    results.push(result);
    onDay?.(result);
  }
  return results;
}

// -------------------------------------------------------------- validate

/** One validated day. @since 0.1.0 */
export interface ValidateDayResult {
  readonly day: string;
  readonly shard?: ShardSpec;
  readonly counts: IngestCounts;
  readonly canonical: { readonly uri: string; readonly sha256: string; readonly events: number; readonly sessions: number; readonly items: number };
}

/**
 * `validate`: the canonical gates of DESIGN §5.3 per day — bad-line ratio
 * and non-empty from the ingest report (a single shard may be empty; the
 * merge checks the whole day), then the partition read back: every event
 * valid per the contract, of this tenant/surface, inside its day (and
 * shard), no exact duplicates, the bytes those ingest reported, and the
 * per-run limits on events, sessions and distinct items. Writes nothing.
 * @since 0.1.0
 */
export async function validateJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: ValidateDayResult) => void): Promise<ValidateDayResult[]> {
  const reports = new Map<string, Awaited<ReturnType<typeof readIngestReport>>>();
  const missing: string[] = [];
  for (const day of plan.days) {
    const report = await readIngestReport(env, plan.scope, day, plan.shard);
    if (!report || !(await env.areas.canonical.stat(partitionKeyOf(plan, day)))) missing.push(day);
    reports.set(day, report);
  }
  if (missing.length > 0) {
    throw new NotFoundError(
      `nothing ingested for ${plan.scope.tenant}/${plan.scope.surface}${shardText(plan)} on ${dayList(missing)}; run \`recsys-pipelines ingest${shardText(plan)}\` for ${missing.length === 1 ? 'that day' : 'those days'} first`,
      { missing_days: missing },
    );
  }
  const results: ValidateDayResult[] = [];
  for (const day of plan.days) {
    const report = reports.get(day)!;
    let result: ValidateDayResult;
    try {
      result = await validateDay(env, plan, day, report);
    } catch (error) {
      // Recorded so compute/merge refuse this partition (see validate-record.ts): the one the ingest
      // report names, or, when the partition no longer matches the report, the one validate read
      // (compute then refuses it for not matching the report, exit 1, as before).
      if (RecsysError.isInstance(error) && (error.kind === 'validation' || error.kind === 'limit')) {
        const judged = typeof error.context.partition_sha256 === 'string' ? error.context.partition_sha256 : report.canonical.sha256;
        await recordValidateFailure(env, plan.scope, day, plan.shard, judged, error);
      }
      throw error;
    }
    await clearValidateFailure(env, plan.scope, day, plan.shard);
    env.logger.info({ day, shard: plan.shard, events: result.canonical.events }, 'validated day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}

/** The checks of {@link validateJob} for one day (shard). */
async function validateDay(env: PipelineEnv, plan: JobPlan, day: string, report: StoredIngestReport): Promise<ValidateDayResult> {
  checkCanonicalGate(day, report.counts, env.limits, { nonEmpty: !plan.shard });
  const sessions = new Set<string>();
  const items = new Set<string>();
  const summary = (await readCanonicalPartition(env, partitionKeyOf(plan, day), {
    scope: plan.scope,
    day,
    shard: plan.shard,
    check: 'contract',
    onEvent: (e) => {
      sessions.add(e.session_id);
      items.add(e.item_id);
    },
  }))!;
  if (summary.sha256 !== report.canonical.sha256 || summary.events !== report.counts.accepted) {
    throw new ValidationGateError(
      'canonical_integrity',
      `day ${day}: canonical partition ${summary.uri} is not what ingest wrote (${summary.events} events, sha256 ${summary.sha256}; the ingest report says ${report.counts.accepted} events, sha256 ${report.canonical.sha256}); re-run ingest`,
      { day, uri: summary.uri, partition_sha256: summary.sha256 },
    );
  }
  checkLimit(env.limits, 'max_events_per_run', summary.events, `day ${day}`);
  checkLimit(env.limits, 'max_sessions_per_run', sessions.size, `day ${day}`);
  checkLimit(env.limits, 'max_distinct_items_per_run', items.size, `day ${day}`);
  // A shard sees part of the day: the merge judges the whole day's volume.
  if (env.volumeAnomaly && !plan.shard) {
    const accept = plan.acceptAnomaly === true || (report.volume_gate?.outcome === 'accepted' && report.volume_gate.day === day);
    await applyVolumeGate(env, plan.scope, day, { accepted_events: summary.events, distinct_items: items.size }, { config: env.volumeAnomaly, accept });
  }
  return {
    day,
    ...(plan.shard ? { shard: plan.shard } : {}),
    counts: report.counts,
    canonical: { uri: summary.uri, sha256: summary.sha256, events: summary.events, sessions: sessions.size, items: items.size },
  };
}

// --------------------------------------------------------------- compute

/** A partial aggregate written by a sharded compute. @since 0.1.0 */
export interface PartialResult {
  readonly type: ArtifactType;
  readonly key: string;
  readonly uri: string;
  readonly items: number;
  readonly pairs: number;
}

/** One computed day: staged artifacts, or partials with `--shard`. @since 0.1.0 */
export interface ComputeDayResult {
  readonly day: string;
  readonly shard?: ShardSpec;
  readonly events: number;
  readonly staged: StagedArtifact[];
  readonly partials: PartialResult[];
}

/** Reads a day's (shard's) partition into an event table, checking it against its ingest report when there is one. */
async function loadPartition(env: PipelineEnv, plan: JobPlan, day: string) {
  const table = new EventTable(eventTableNeeds(plan.types));
  const summary = await readCanonicalPartition(env, partitionKeyOf(plan, day), { scope: plan.scope, day, shard: plan.shard, check: 'fast', onEvent: (e) => table.add(e) });
  if (!summary) throw new NotFoundError(`canonical partition of ${day} disappeared`, { day });
  const report = await readIngestReport(env, plan.scope, day, plan.shard);
  if (report && report.canonical.sha256 !== summary.sha256) {
    throw new IntegrityError(`canonical partition ${summary.uri} changed since it was ingested (sha256 ${summary.sha256}, ingest report ${report.canonical.sha256}); re-run ingest for ${day}`, { day, uri: summary.uri });
  }
  const input: InputPartition = { day, uri: summary.uri, sha256: summary.sha256, events: summary.events };
  return { table, summary, report, input };
}

/**
 * Refuses (exit 3) to compute a day (shard) whose canonical partition did not
 * pass the canonical gate: `validate` recorded a failure for it, or its
 * ingest counts fail the gate now (an empty day, too many bad lines), which
 * is what `run` checks before computing. Without this, compute after a failed
 * validate would stage zero-row artifacts that publish then serves.
 */
async function checkComputable(env: PipelineEnv, plan: JobPlan, day: string): Promise<void> {
  const report = await readIngestReport(env, plan.scope, day, plan.shard);
  // validate needs the ingest report, so without one it cannot have recorded anything.
  if (!report) return;
  await refuseFailedValidation(env, 'compute', plan.scope, day, plan.shard, report.canonical.sha256);
  try {
    checkCanonicalGate(day, report.counts, env.limits, { nonEmpty: !plan.shard });
  } catch (error) {
    if (!(error instanceof ValidationGateError)) throw error;
    const shardFlag = shardText(plan);
    throw new ValidationGateError(
      error.gate,
      `compute refuses ${error.message.replace(/^validation gate "[^"]*" failed: /, '')}. Fix the raw input or the limit, then re-run \`recsys-pipelines ingest${shardFlag}\` and \`validate${shardFlag}\` for ${day}`,
      { ...error.context },
      { cause: error },
    );
  }
}

/**
 * `compute <type…>`: per day, reads the canonical partition back into an
 * event table and computes the artifacts exactly as `run` does, then stages
 * them. With `--shard i/n` it computes untruncated partial aggregates of the
 * shard's sessions instead and writes them to the object store for `merge`.
 * Fails before computing anything when a day has no canonical data.
 * @since 0.1.0
 */
export async function computeJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: ComputeDayResult) => void): Promise<ComputeDayResult[]> {
  const missing: string[] = [];
  for (const day of plan.days) {
    const present = (await env.areas.canonical.stat(partitionKeyOf(plan, day))) && (!plan.shard || (await readIngestReport(env, plan.scope, day, plan.shard)));
    if (!present) missing.push(day);
  }
  if (missing.length > 0) {
    throw new NotFoundError(
      `no canonical data for ${plan.scope.tenant}/${plan.scope.surface}${shardText(plan)} on ${dayList(missing)}; run \`recsys-pipelines ingest${shardText(plan)}\` for ${missing.length === 1 ? 'that day' : 'those days'} first`,
      { missing_days: missing },
    );
  }
  // The canonical gate, for every day before computing any, exactly as `run` applies it.
  for (const day of plan.days) await checkComputable(env, plan, day);
  const catalog = plan.catalog && plan.days.length > 0 ? await loadRunCatalog(env, plan, plan.catalog) : undefined;
  const results: ComputeDayResult[] = [];
  for (const day of plan.days) {
    const { table, summary, report, input } = await loadPartition(env, plan, day);
    checkTableLimits(day, table, env.limits);
    const target = targetOf(plan, day);
    let staged: StagedArtifact[] = [];
    const partials: PartialResult[] = [];
    if (plan.shard) {
      for (const type of plan.types) {
        const key = keys.partial(plan.scope, plan.segment, type, windowFolderOf(target.window), plan.shard);
        const pairs = type === 'cooc' ? countSessionPairs(table, env.limits) : undefined;
        const header = await writePartial(env.areas.objects, key, {
          format: PARTIAL_FORMAT,
          artifact_type: type,
          tenant: plan.scope.tenant,
          surface: plan.scope.surface,
          segment: plan.segment,
          day,
          window: { start: target.window.start, end: target.window.end },
          shard: { index: plan.shard.index, count: plan.shard.count },
          shard_hash: SHARD_HASH,
          config_hash: partialConfigHash(type, env.limits, env.sha256),
          limits: partialLimits(type, env.limits),
          counts: report!.counts,
          inputs: [input],
        }, table, pairs);
        partials.push({ type, key, uri: env.areas.objects.uri(key), items: header.items, pairs: header.pairs });
      }
    } else if (plan.windowDays !== undefined && plan.windowDays > 1) {
      const builtAt = formatUtcSeconds(env.clock.now().getTime());
      const w = await buildWindowArtifacts(env, target, day, plan.windowDays, plan.types, { inputs: [input], aggregate: ownDayAggregate(env, day, table, plan.types) }, builtAt);
      staged = await stageArtifacts(env, w.target, w.built, w.inputs);
    } else {
      const builtAt = formatUtcSeconds(env.clock.now().getTime());
      const built = computeArtifacts(table, plan.types, target, env.limits, builtAt, env.sha256, { catalog: catalog?.catalog });
      staged = await stageArtifacts(env, target, built, [input]);
    }
    const result: ComputeDayResult = { day, ...(plan.shard ? { shard: plan.shard } : {}), events: summary.events, staged, partials };
    env.logger.info({ day, shard: plan.shard, staged: staged.map((s) => ({ type: s.type, version: s.version })), partials: partials.map((p) => p.uri) }, 'computed day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}

// ----------------------------------------------------------------- merge

/** One merged day. @since 0.1.0 */
export interface MergeDayResult {
  readonly day: string;
  readonly shards: number;
  readonly events: number;
  readonly staged: StagedArtifact[];
}

interface CheckedPartials {
  readonly type: ArtifactType;
  readonly day: string;
  readonly keys: string[];
  readonly headers: PartialHeader[];
}

function describeLimits(limits: Record<string, unknown>): string {
  return Object.entries(limits).map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/**
 * The partials of one type and day, checked to form one complete,
 * consistent set; otherwise a usage error (exit 2) naming every problem.
 */
async function checkPartials(env: PipelineEnv, plan: JobPlan, type: ArtifactType, day: string): Promise<CheckedPartials> {
  const storage = env.areas.objects;
  const target = targetOf(plan, day);
  const prefix = keys.partialPrefix(plan.scope, plan.segment, type, windowFolderOf(target.window));
  const configHash = partialConfigHash(type, env.limits, env.sha256);
  const ownLimits = partialLimits(type, env.limits);
  const problems: string[] = [];
  const found: { key: string; header: PartialHeader }[] = [];
  for await (const obj of storage.list(prefix)) {
    const name = obj.key.slice(prefix.length);
    const named = shardOfPartialKey(name);
    if (!named || name.includes('/')) {
      problems.push(`unexpected object ${name} among the partials`);
      continue;
    }
    const header = await readPartialHeader(storage, obj.key);
    if (!header) continue;
    found.push({ key: obj.key, header });
    const where = `partial ${name}`;
    if (header.shard.index !== named.index || header.shard.count !== named.count) problems.push(`${where} holds shard ${header.shard.index}/${header.shard.count}, not ${named.index}/${named.count} as its name says`);
    const scopeOf = (h: { artifact_type: string; tenant: string; surface: string; segment: string }) => `${h.artifact_type} of ${h.tenant}/${h.surface} segment ${h.segment}`;
    const expected = { artifact_type: type, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment };
    if (scopeOf(header) !== scopeOf(expected)) problems.push(`${where} is ${scopeOf(header)}, not ${scopeOf(expected)}`);
    if (header.day !== day || header.window.start !== target.window.start || header.window.end !== target.window.end) {
      problems.push(`mismatched window: ${where} covers ${header.window.start}..${header.window.end}, expected ${target.window.start}..${target.window.end}`);
    }
    if (header.shard_hash !== SHARD_HASH) problems.push(`${where} was sharded with ${header.shard_hash}, this build uses ${SHARD_HASH}`);
    if (header.config_hash !== configHash) {
      problems.push(`mismatched config hash: ${where} was computed with ${describeLimits(header.limits)} (config hash ${header.config_hash.slice(0, 12)}), this merge uses ${describeLimits(ownLimits)} (${configHash.slice(0, 12)})`);
    }
  }
  const counts = [...new Set(found.map((f) => f.header.shard.count))].sort((a, b) => a - b);
  const n = plan.shardCount ?? (counts.length === 1 ? counts[0]! : undefined);
  if (found.length === 0) {
    problems.push(`no partials found${plan.shardCount !== undefined ? ` (expected ${plan.shardCount})` : ''}; run \`compute ${type} --shard i/n\` for every shard first`);
  } else if (n === undefined) {
    problems.push(`mismatched n: the partials disagree on the shard count (${counts.join(' vs ')}): ${found.map((f) => `${f.key.slice(prefix.length)}`).join(', ')}; remove the stale ones or pass --shard-count`);
  }
  const byIndex = new Map<number, { key: string; header: PartialHeader }[]>();
  if (n !== undefined) {
    for (const f of found) {
      if (f.header.shard.count !== n) {
        problems.push(`mismatched n: partial ${f.key.slice(prefix.length)} is shard ${f.header.shard.index} of ${f.header.shard.count}, expected ${n} shards`);
        continue;
      }
      const list = byIndex.get(f.header.shard.index) ?? [];
      list.push(f);
      byIndex.set(f.header.shard.index, list);
    }
    for (const [index, list] of [...byIndex].sort((a, b) => a[0] - b[0])) {
      if (list.length > 1) problems.push(`duplicate shard ${index}: ${list.map((f) => f.key.slice(prefix.length)).join(' and ')} both hold it`);
    }
    const missingShards: number[] = [];
    for (let i = 0; i < n; i++) if (!byIndex.has(i)) missingShards.push(i);
    if (found.length > 0 && missingShards.length > 0) problems.push(`missing shard${missingShards.length > 1 ? 's' : ''} ${missingShards.join(', ')} of ${n}`);
  }
  const ordered = n === undefined ? [] : Array.from({ length: n }, (_, i) => byIndex.get(i)?.[0]).filter((f) => f !== undefined);
  if (problems.length === 0 && ordered.length > 0) {
    const first = ordered[0]!.header.counts;
    const differs = ordered.filter((f) => f.header.counts.read !== first.read || f.header.counts.rejected !== first.rejected || f.header.counts.other_scope !== first.other_scope || f.header.counts.out_of_window !== first.out_of_window);
    if (differs.length > 0) {
      problems.push(
        `the shards ingested different raw input (lines read: ${ordered.map((f) => `shard ${f.header.shard.index}: ${f.header.counts.read}`).join(', ')}); re-run ingest and compute for every shard`,
      );
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`merge ${type} ${plan.scope.tenant}/${plan.scope.surface} ${day}: refusing to merge the partials in ${storage.uri(prefix.slice(0, -1))}: ${problems.join('; ')}`, { type, day, problems });
  }
  return { type, day, keys: ordered.map((f) => f.key), headers: ordered.map((f) => f.header) };
}

/**
 * `merge <type…>`: per day, checks that the partials of every requested
 * type form one complete set (same n, every shard exactly once, same window,
 * scope and config hash, same raw input) — all days before merging any —
 * then sums them, applies the canonical gate and the per-run limits to the
 * whole day, applies top-N / min-support / neighbour caps with the same
 * functions as the single-process path, and stages the final artifact.
 * @since 0.1.0
 */
export async function mergeJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: MergeDayResult) => void): Promise<MergeDayResult[]> {
  const checked = new Map<string, CheckedPartials[]>();
  for (const day of plan.days) {
    const sets: CheckedPartials[] = [];
    for (const type of plan.types) sets.push(await checkPartials(env, plan, type, day));
    checked.set(day, sets);
    // A shard whose partition failed validate must not reach the day's artifact.
    const judged = new Set<string>();
    for (const header of sets.flatMap((set) => set.headers)) {
      for (const input of header.inputs) {
        const id = `${header.shard.index}/${header.shard.count}/${input.sha256}`;
        if (judged.has(id)) continue;
        judged.add(id);
        await refuseFailedValidation(env, 'merge', plan.scope, day, header.shard, input.sha256);
      }
    }
  }
  const results: MergeDayResult[] = [];
  for (const day of plan.days) {
    const target = targetOf(plan, day);
    const builtAt = formatUtcSeconds(env.clock.now().getTime());
    const staged: StagedArtifact[] = [];
    let events = 0;
    let shards = 0;
    const sets = checked.get(day)!;
    const merged: { set: CheckedPartials; merged: Awaited<ReturnType<typeof mergePartials>> }[] = [];
    for (const set of sets) {
      const m = await mergePartials(env.areas.objects, set.keys, set.headers);
      checkCanonicalGate(day, m.counts, env.limits);
      checkLimit(env.limits, 'max_events_per_run', m.events, `day ${day}`);
      checkLimit(env.limits, 'max_sessions_per_run', m.sessions, `day ${day}`);
      checkLimit(env.limits, 'max_distinct_items_per_run', m.items.size, `day ${day}`);
      merged.push({ set, merged: m });
      events = m.events;
      shards = set.keys.length;
    }
    // The merge is the first step that sees the whole day of a sharded run: it judges its volume.
    if (env.volumeAnomaly && merged.length > 0) {
      const { set, merged: m } = merged[0]!;
      const verdict = await recordedVolumeVerdict(env, plan.scope, day);
      const accept = plan.acceptAnomaly === true || (verdict?.outcome === 'accepted' && sameVolume(verdict.observed, m.counts.accepted, m.items.size));
      await applyVolumeGate(env, plan.scope, day, { accepted_events: m.counts.accepted, distinct_items: m.items.size }, { config: env.volumeAnomaly, accept, shards: set.headers.map((h) => h.shard) });
    }
    if (plan.windowDays !== undefined && plan.windowDays > 1) {
      // One aggregate of the day: from the cooc partials when there are (they also hold the exposures).
      const source = merged.find((x) => x.set.type === 'cooc') ?? merged[0]!;
      const m = source.merged;
      const aggregate = dayAggregateOfCounts(day, m.items, m.exposures, windowNeedsPairs(plan.types) ? m.pairs : undefined, m.events, m.sessions);
      const w = await buildWindowArtifacts(env, target, day, plan.windowDays, plan.types, { inputs: m.inputs, aggregate }, builtAt);
      staged.push(...(await stageArtifacts(env, w.target, w.built, w.inputs, { shards })));
    } else {
      for (const { set, merged: m } of merged) {
        const exposure: ItemExposure = { names: m.items.values, counts: m.exposures.data, ranks: m.items.utf8Ranks() };
        let payload: Payload;
        if (set.type === 'popularity') {
          const rows = computePopularityRows(exposure, env.limits.max_items_per_artifact);
          payload = { members: [popularityPayload(rows)], size: rows.ids.length };
        } else {
          const rows = coocRowsFromPairs(exposure, m.pairs, env.limits);
          payload = { members: [coocPayload(rows)], size: rows.rowIds.length };
        }
        const built = finishArtifact(set.type, target, payload, builtAt, env.sha256);
        staged.push(...(await stageArtifacts(env, target, [built], m.inputs, { shards: set.keys.length })));
      }
    }
    const result: MergeDayResult = { day, shards, events, staged };
    env.logger.info({ day, shards, staged: staged.map((s) => ({ type: s.type, version: s.version })) }, 'merged day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}

// --------------------------------------------------------------- publish

/** One published day. @since 0.1.0 */
export interface PublishDayResult {
  readonly day: string;
  readonly artifacts: DayArtifactReport[];
  /** False when every key already served its blob or kept a newer window: no history entry was appended. */
  readonly pointer_moved: boolean;
  readonly manifest_uri: string;
  readonly history_seq: number;
}

function sameInputs(a: readonly InputPartition[], b: readonly InputPartition[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `publish`: per day, publishes the staged artifacts of the requested
 * types with the pointer last (DESIGN §5.5), all types of a day in one
 * manifest change, exactly as `run` does; advances the checkpoint with
 * `--incremental`. Fails (exit 1) before publishing anything when a
 * requested type is not staged for a day.
 * @since 0.1.0
 */
export async function publishJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: PublishDayResult) => void, hook?: PublishStepHook): Promise<PublishDayResult[]> {
  const missing: { day: string; types: ArtifactType[] }[] = [];
  let stagedAny = false;
  for (const day of plan.days) {
    const absent: ArtifactType[] = [];
    for (const type of plan.types) {
      if ((await stagedVersion(env, artifactTargetOf(plan, day), type)) === undefined) absent.push(type);
      else stagedAny = true;
    }
    if (absent.length > 0) missing.push({ day, types: absent });
  }
  const where = `${plan.scope.tenant}/${plan.scope.surface} segment ${plan.segment}`;
  if (plan.days.length > 0 && !stagedAny) {
    throw new NotFoundError(
      `nothing staged to publish for ${where} on ${dayList(plan.days)} (looked for ${plan.types.join(', ')} under ${env.areas.artifacts.uri(`${plan.scope.tenant}/${plan.scope.surface}/${plan.segment}`)}); run \`recsys-pipelines compute\` (or \`merge\`) first`,
      { days: plan.days, types: plan.types },
    );
  }
  if (missing.length > 0) {
    const list = missing.map((m) => `${m.day}: ${m.types.join(', ')}`).join('; ');
    throw new NotFoundError(`not staged for ${where}: ${list}; compute them first or publish only the staged types with --artifacts`, { missing });
  }
  const checkpoints = new CheckpointStore(env.areas.checkpoints);
  const results: PublishDayResult[] = [];
  for (const day of plan.days) {
    const target = artifactTargetOf(plan, day);
    const loaded = [];
    for (const type of plan.types) loaded.push((await loadStaged(env, target, type))!);
    const inputs = loaded[0]!.meta.inputs;
    const stale = loaded.filter((l) => !sameInputs(l.meta.inputs, inputs));
    if (stale.length > 0) {
      throw new ValidationGateError(
        'staged_inputs',
        `day ${day}: the staged artifacts were computed from different canonical data (${loaded.map((l) => `${l.built.type} from ${l.meta.inputs.map((i) => i.sha256.slice(0, 12)).join('+')}`).join(', ')}); re-run compute for every type`,
        { day },
      );
    }
    const verdict = env.volumeAnomaly ? await recordedVolumeVerdict(env, plan.scope, day) : undefined;
    const published = await publishArtifacts(env, target, loaded.map((l) => l.built), inputs, hook, { movePointerBack: plan.movePointerBack, note: acceptedAnomalyMessage(verdict) });
    if (plan.incremental) {
      await checkpoints.advance({ v: 1, ...plan.scope, last_completed_day: day, updated_at: env.clock.now().toISOString(), run_id: env.identity.runId });
    }
    const result: PublishDayResult = {
      day,
      artifacts: dayArtifactReports(published.artifacts),
      pointer_moved: published.commit.noop !== true,
      manifest_uri: published.commit.manifestUri,
      history_seq: published.commit.entry.seq,
    };
    env.logger.info({ day, artifacts: result.artifacts, history_seq: result.history_seq }, 'published day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}

/** Whether a recorded verdict judged these very numbers (a merge rerun of the same partials). */
function sameVolume(observed: { accepted_events: number; distinct_items: number }, events: number, items: number): boolean {
  return observed.accepted_events === events && observed.distinct_items === items;
}
