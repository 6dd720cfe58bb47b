import { NotFoundError, RecsysError, ValidationGateError } from '../../errors.js';
import type { PipelineEnv } from '../../pipeline-env.js';
import type { IngestCounts } from '../../ingest/ingest-day.js';
import { checkCanonicalGate, checkDayLimits } from '../../validate/gates.js';
import type { ShardSpec } from '../../shard.js';
import { partitionKeyOf, type JobPlan } from '../plan.js';
import { readCanonicalPartition, type PartitionSummary } from '../canonical-reader.js';
import { EventTable } from '../../compute/event-table.js';
import { readIngestReport, type StoredIngestReport } from '../staging.js';
import { clearValidateFailure, recordValidateFailure } from '../validate-record.js';
import { dayList, shardText } from './messages.js';
import { applyVolumeGate } from '../volume-gate.js';
import { assembleShard } from '../ingest-parts.js';
import { enterPhase } from '../day-steps.js';

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
  // A sharded day's partition of this shard is assembled from the ingest parts' buckets first.
  // Assembly checks every line and counts as it goes, so the partition is not read back (only the counts are kept).
  const assembled = new Map<string, Seen>();
  if (plan.shard) {
    for (const day of plan.days) {
      const a = await assembleShard(env, plan.scope, day, plan.shard, 'validate');
      if (a) assembled.set(day, { summary: a.summary, sessions: a.table.sessions.size, items: a.table.items.size });
    }
  }
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
    enterPhase(env, day, 'validate');
    const report = reports.get(day)!;
    let result: ValidateDayResult;
    try {
      result = await validateDay(env, plan, day, report, assembled.get(day));
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

/** What reading a partition (or assembling it) saw. */
interface Seen {
  readonly summary: PartitionSummary;
  readonly sessions: number;
  readonly items: number;
}

/**
 * Reads a day's (shard's) partition for validate. An unsharded partition is
 * checked against the contract schema line by line; a shard's partition was
 * assembled from SHA-256-checked buckets of our own ingest and is checked by
 * the fast canonical reader (scope, day, shard, canonical form; failures are
 * still validation gates).
 */
async function readForValidate(env: PipelineEnv, plan: JobPlan, day: string): Promise<Seen> {
  if (plan.shard) {
    const table = new EventTable({ users: false, instants: false });
    const summary = (await readCanonicalPartition(env, partitionKeyOf(plan, day), { scope: plan.scope, day, shard: plan.shard, check: 'fast', failure: 'gate', table }))!;
    return { summary, sessions: table.sessions.size, items: table.items.size };
  }
  const sessions = new Set<string>();
  const items = new Set<string>();
  const summary = (await readCanonicalPartition(env, partitionKeyOf(plan, day), {
    scope: plan.scope,
    day,
    check: 'contract',
    onEvent: (e) => {
      sessions.add(e.session_id);
      items.add(e.item_id);
    },
  }))!;
  return { summary, sessions: sessions.size, items: items.size };
}

/** The checks of {@link validateJob} for one day (shard). */
async function validateDay(env: PipelineEnv, plan: JobPlan, day: string, report: StoredIngestReport, assembled: Seen | undefined): Promise<ValidateDayResult> {
  checkCanonicalGate(day, report.counts, env.limits, { nonEmpty: !plan.shard });
  const seen = assembled ?? (await readForValidate(env, plan, day));
  const summary = seen.summary;
  const sessions = { size: seen.sessions };
  const items = { size: seen.items };
  if (summary.sha256 !== report.canonical.sha256 || summary.events !== report.counts.accepted) {
    throw new ValidationGateError(
      'canonical_integrity',
      `day ${day}: canonical partition ${summary.uri} is not what ingest wrote (${summary.events} events, sha256 ${summary.sha256}; the ingest report says ${report.counts.accepted} events, sha256 ${report.canonical.sha256}); re-run ingest`,
      { day, uri: summary.uri, partition_sha256: summary.sha256 },
    );
  }
  checkDayLimits(day, { events: summary.events, sessions: sessions.size, items: items.size }, env.limits);
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
