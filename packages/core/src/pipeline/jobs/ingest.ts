import type { PipelineEnv } from '../../pipeline-env.js';
import type { IngestReport } from '../../ingest/ingest-day.js';
import type { ShardSpec } from '../../shard.js';
import type { JobPlan } from '../plan.js';
import { enterPhase, ingestDayStep } from '../day-steps.js';

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
    enterPhase(env, day, 'ingest');
    const { report, reportKey } = await ingestDayStep(env, plan, day);
    const result: IngestDayResult = { day, ...(plan.shard ? { shard: plan.shard } : {}), report, report_uri: env.areas.artifacts.uri(reportKey) };
    results.push(result);
    onDay?.(result);
  }
  return results;
}
