import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { IntegrityError, NotFoundError, ValidationGateError } from '../../errors.js';
import { keys } from '../../keys.js';
import type { PipelineEnv } from '../../pipeline-env.js';
import { EventTable } from '../../compute/event-table.js';
import { eventTableNeeds, kindOf } from '../../compute/kinds.js';
import { checkCanonicalGate, checkTableLimits } from '../../validate/gates.js';
import type { ShardSpec } from '../../shard.js';
import type { IngestCounts } from '../../ingest/ingest-day.js';
import { partitionKeyOf, targetOf, type JobPlan } from '../plan.js';
import { assembleShard, type AssembledShard } from '../ingest-parts.js';
import { enterPhase, computeDayStep } from '../day-steps.js';
import { loadRunCatalog } from '../run-catalog.js';
import { readCanonicalPartition } from '../canonical-reader.js';
import { readIngestReport, windowFolderOf, type StagedArtifact } from '../staging.js';
import { PARTIAL_FORMAT, SHARD_HASH, partialConfigHash, partialItems, partialLimits, writePartial } from '../partials.js';
import { refuseFailedValidation } from '../validate-record.js';
import { dayList, shardText } from './messages.js';

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
  /**
   * With `--shard`: what the shard's canonical gates checked (the report `validate --shard` prints),
   * so the compute-only job shape, where no separate validate step runs, still reports it.
   * @since 0.5.0
   */
  readonly validated?: { readonly counts: IngestCounts; readonly canonical: { readonly uri: string; readonly sha256: string; readonly events: number; readonly sessions: number; readonly items: number } };
}

/** Reads a day's (shard's) partition into an event table, checking it against its ingest report when there is one. */
async function loadPartition(env: PipelineEnv, plan: JobPlan, day: string, assembled: AssembledShard | undefined) {
  const table = assembled?.table ?? new EventTable(eventTableNeeds(plan.types));
  const summary = assembled?.summary ?? (await readCanonicalPartition(env, partitionKeyOf(plan, day), { scope: plan.scope, day, shard: plan.shard, check: 'fast', table }));
  if (!summary) throw new NotFoundError(`canonical partition of ${day} disappeared`, { day });
  const report = await readIngestReport(env, plan.scope, day, plan.shard);
  if (report && report.canonical.sha256 !== summary.sha256) {
    throw new IntegrityError(`canonical partition ${summary.uri} changed since it was ingested (sha256 ${summary.sha256}, ingest report ${report.canonical.sha256}); re-run ingest for ${day}`, { day, uri: summary.uri });
  }
  const input: InputPartition = { day, uri: summary.uri, sha256: summary.sha256, events: summary.events };
  return { table, summary, report, input };
}

/** Writes the untruncated partial aggregates of one shard's day, one per type, for `merge`. */
async function writePartials(env: PipelineEnv, plan: JobPlan, shard: ShardSpec, day: string, loaded: Awaited<ReturnType<typeof loadPartition>>): Promise<PartialResult[]> {
  const { table, report, input } = loaded;
  const target = targetOf(plan, day);
  const partials: PartialResult[] = [];
  // Every type's partial lists the same items: their ranks and encoded names are made once.
  const items = plan.types.length > 0 ? partialItems(table) : undefined;
  for (const type of plan.types) {
    const key = keys.partial(plan.scope, plan.segment, type, windowFolderOf(target.window), shard);
    // Pair counts are counted row by row while the partial is written (no pair table).
    const pairs = kindOf(type)!.sharded!.pairs ? env.limits : undefined;
    const header = await writePartial(
      env.areas.objects,
      key,
      {
        format: PARTIAL_FORMAT,
        artifact_type: type,
        tenant: plan.scope.tenant,
        surface: plan.scope.surface,
        segment: plan.segment,
        day,
        window: { start: target.window.start, end: target.window.end },
        shard: { index: shard.index, count: shard.count },
        shard_hash: SHARD_HASH,
        config_hash: partialConfigHash(type, env.limits, env.sha256),
        limits: partialLimits(type, env.limits),
        counts: report!.counts,
        inputs: [input],
      },
      table,
      pairs,
      items,
    );
    partials.push({ type, key, uri: env.areas.objects.uri(key), items: header.items, pairs: header.pairs });
  }
  return partials;
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
  // A sharded day's partition of this shard is assembled from the ingest parts' buckets first.
  // With one day, the events go straight from the buckets into the day's table (no read-back of the
  // partition); with more, each day's table would have to wait in memory, so they are read back.
  const assembled = new Map<string, AssembledShard>();
  if (plan.shard) {
    for (const day of plan.days) {
      const a = await assembleShard(env, plan.scope, day, plan.shard, 'compute', plan.days.length === 1 ? new EventTable(eventTableNeeds(plan.types)) : undefined);
      if (a && plan.days.length === 1) assembled.set(day, a);
    }
  }
  const missing: string[] = [];
  for (const day of plan.days) {
    enterPhase(env, day, 'compute');
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
    const loaded = await loadPartition(env, plan, day, assembled.get(day));
    assembled.delete(day);
    checkTableLimits(day, loaded.table, env.limits);
    const staged = plan.shard ? [] : (await computeDayStep(env, plan, day, loaded.table, [loaded.input], catalog?.catalog)).staged;
    const partials = plan.shard ? await writePartials(env, plan, plan.shard, day, loaded) : [];
    const { summary, table, report } = loaded;
    const validated = plan.shard && report ? { counts: report.counts, canonical: { uri: summary.uri, sha256: summary.sha256, events: summary.events, sessions: table.sessions.size, items: table.items.size } } : undefined;
    const result: ComputeDayResult = { day, ...(plan.shard ? { shard: plan.shard } : {}), events: summary.events, staged, partials, ...(validated ? { validated } : {}) };
    env.logger.info({ day, shard: plan.shard, staged: staged.map((s) => ({ type: s.type, version: s.version })), partials: partials.map((p) => p.uri) }, 'computed day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}
