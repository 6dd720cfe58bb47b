import { IntegrityError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { ShardSpec } from '../shard.js';
import {
  acceptVolumeAnomaly,
  evaluateVolumeGate,
  volumeGateError,
  volumeLookbackDays,
  describeMeasureCheck,
  type DayVolume,
  type VolumeAnomalyConfig,
  type VolumeGateResult,
  type VolumeHistoryDay,
} from '../validate/volume-anomaly.js';
import { StoredIngestReportSchema, readIngestReport, type StoredIngestReport } from './staging.js';

/*
 * The volume-anomaly gate over storage (DESIGN §9): the history of a day is
 * the `volume_gate` verdicts recorded in the ingest reports of the days
 * before it (`artifacts/<tenant>/<surface>/_ingest/<day>[.shard-i-of-n].json`),
 * and the day's own verdict is recorded in its ingest report(s) in turn.
 * Re-ingesting a day rewrites its report without a verdict, so a day counts
 * as history only once its current canonical partition has been judged.
 */

const decoder = new TextDecoder();

/**
 * The recorded verdicts of the days in a day's lookback (only days that
 * were judged; the gate keeps the passed ones).
 * @since 0.3.0
 */
export async function readVolumeHistory(env: PipelineEnv, scope: Scope, day: string, config: VolumeAnomalyConfig): Promise<VolumeHistoryDay[]> {
  const out: VolumeHistoryDay[] = [];
  for (const d of volumeLookbackDays(day, config)) {
    const verdict = await recordedVolumeVerdict(env, scope, d);
    if (verdict) out.push({ day: d, volume: verdict.observed, outcome: verdict.outcome });
  }
  return out;
}

/** Writes the verdict into the day's ingest report (each shard's, for a sharded day). */
async function recordVerdict(env: PipelineEnv, scope: Scope, day: string, shards: readonly (ShardSpec | undefined)[], result: VolumeGateResult): Promise<void> {
  for (const shard of shards) {
    const report = await readIngestReport(env, scope, day, shard);
    if (!report) throw new IntegrityError(`ingest report of ${day}${shard ? ` (shard ${shard.index}/${shard.count})` : ''} disappeared while validating`, { day });
    const { volume_gate: _old, ...rest } = report;
    const stored: StoredIngestReport = {
      ...rest,
      volume_gate: {
        day: result.day,
        outcome: result.outcome,
        observed: { ...result.observed },
        history_days: [...result.history_days],
        checks: result.checks.map((c) => ({ ...c, expected: { ...c.expected } })),
        ...(result.note !== undefined ? { note: result.note } : {}),
      },
    };
    await env.areas.artifacts.put(keys.ingestReport(scope, day, shard), JSON.stringify(stored, null, 2) + '\n');
  }
}

/** Options of {@link applyVolumeGate}. @since 0.3.0 */
export interface VolumeGateOptions {
  readonly config: VolumeAnomalyConfig;
  /** Publish the day even when it is outside the range (`--accept-anomaly`); recorded as `accepted`. */
  readonly accept?: boolean | undefined;
  /** The ingest reports that hold the day's verdict: the whole day's (default) or each shard's. */
  readonly shards?: readonly (ShardSpec | undefined)[] | undefined;
}

/**
 * Judges a day's volume against its recorded history, records the verdict
 * in the day's ingest report(s) and throws the exit-3 error when the day is
 * blocked. Call it after the canonical gate passed and before anything of
 * the day is published.
 * @since 0.3.0
 */
export async function applyVolumeGate(env: PipelineEnv, scope: Scope, day: string, observed: DayVolume, options: VolumeGateOptions): Promise<VolumeGateResult> {
  const history = await readVolumeHistory(env, scope, day, options.config);
  let result = evaluateVolumeGate(day, observed, history, options.config);
  if (result.outcome === 'blocked' && options.accept) result = acceptVolumeAnomaly(result);
  await recordVerdict(env, scope, day, options.shards ?? [undefined], result);
  const fields = { day, outcome: result.outcome, observed: result.observed, history_days: result.history_days.length };
  if (result.outcome === 'blocked') {
    env.logger.error(fields, 'volume-anomaly gate blocked the day');
    throw volumeGateError(result, options.config);
  }
  if (result.outcome === 'accepted') env.logger.warn({ ...fields, checks: result.checks }, 'volume anomaly accepted (--accept-anomaly)');
  else if (result.outcome === 'insufficient_history') env.logger.info({ ...fields, note: result.note }, 'volume-anomaly gate: not enough history, passed');
  else env.logger.debug(fields, 'volume-anomaly gate');
  return result;
}

/**
 * The history-entry message of a day published by `--accept-anomaly`, or
 * `undefined` when the day was not an accepted anomaly.
 * @since 0.3.0
 */
export function acceptedAnomalyMessage(result: Pick<VolumeGateResult, 'day' | 'outcome' | 'checks'> | undefined): string | undefined {
  if (result?.outcome !== 'accepted') return undefined;
  return `--accept-anomaly: day ${result.day} published outside the volume-anomaly range: ${result.checks.filter((c) => !c.ok).map(describeMeasureCheck).join('; ')}`;
}

/**
 * The verdict recorded for a day (whole or any shard), for steps that run
 * after `validate` (job-mode `publish` writes the acceptance into history).
 * @since 0.3.0
 */
export async function recordedVolumeVerdict(env: PipelineEnv, scope: Scope, day: string): Promise<VolumeGateResult | undefined> {
  // An unreadable report is no history (and not this gate's problem: the step that reads it for itself says so).
  const whole = await readIngestReport(env, scope, day).catch(() => undefined);
  if (whole) return whole.volume_gate?.day === day ? whole.volume_gate : undefined;
  const prefix = keys.ingestReport(scope, day).replace(/\.json$/, '.shard-');
  for await (const obj of env.areas.artifacts.list(prefix)) {
    const data = await env.areas.artifacts.get(obj.key);
    if (!data) continue;
    let parsed;
    try {
      parsed = StoredIngestReportSchema.safeParse(JSON.parse(decoder.decode(data)));
    } catch {
      continue;
    }
    if (parsed.success && parsed.data.volume_gate?.day === day) return parsed.data.volume_gate;
  }
  return undefined;
}
