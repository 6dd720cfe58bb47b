import type { PipelineEnv } from '../../pipeline-env.js';
import type { IngestPartOutcome, IngestReport } from '../../ingest/ingest-day.js';
import type { ShardSpec } from '../../shard.js';
import type { JobPlan } from '../plan.js';
import { enterPhase, ingestDayStep } from '../day-steps.js';

/** One ingested day. @since 0.1.0 */
export interface IngestDayResult {
  readonly day: string;
  readonly shard?: ShardSpec;
  readonly report: IngestReport;
  /** URI of the stored ingest report (of the part, with a shard). */
  readonly report_uri: string;
  /** With a shard: how the raw input was divided, what this part read and the buckets it wrote. @since 0.4.0 */
  readonly part?: IngestPartOutcome;
}

/**
 * `ingest`: per day, raw → canonical partition + quarantine, and the ingest
 * report in the staging area. With `--shard i/n`: part i of the raw input →
 * n session-hash buckets + the part's quarantine and report
 * (pipeline/ingest-parts.ts).
 * @since 0.1.0
 */
export async function ingestJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: IngestDayResult) => void): Promise<IngestDayResult[]> {
  const results: IngestDayResult[] = [];
  for (const day of plan.days) {
    enterPhase(env, day, 'ingest');
    const { report, reportKey, part } = await ingestDayStep(env, plan, day);
    const result: IngestDayResult = { day, ...(plan.shard ? { shard: plan.shard } : {}), report, report_uri: env.areas.artifacts.uri(reportKey), ...(part ? { part } : {}) };
    results.push(result);
    onDay?.(result);
  }
  return results;
}
