import { z } from 'zod';
import { ValidationGateError } from '../errors.js';
import { dayOfMs, dayStartMs } from '../days.js';

/*
 * Volume-anomaly gate (DESIGN §9, docs/explanation/volume-anomaly-gate.md).
 *
 * A day's accepted events and distinct items are compared with the median of
 * the same tenant/surface's days that passed within the `lookback_days`
 * calendar days before it. The history is what the pipeline already records
 * per day, the ingest report (`_ingest/<day>.json`: counts, distinct items
 * and the gate outcome of that day), so there is no second bookkeeping
 * system; this module only judges, it reads and writes nothing.
 *
 * Calendar lookback rather than "the last N passed days, however old": a
 * pipeline that was paused for a month should not compare today with last
 * month's traffic, and a backfill of an old day compares with the days
 * around it, not with the newest ones.
 */

/** The measures the gate compares, in the order they are checked and reported. @since 0.3.0 */
export const VOLUME_MEASURES = ['accepted_events', 'distinct_items'] as const;

/** A measure of the volume-anomaly gate. @since 0.3.0 */
export type VolumeMeasure = (typeof VOLUME_MEASURES)[number];

/** The measures of one day. @since 0.3.0 */
export type DayVolume = Readonly<Record<VolumeMeasure, number>>;

/** Config `gates.volume_anomaly`, resolved. @since 0.3.0 */
export interface VolumeAnomalyConfig {
  /** `false` switches the gate off (the measures are still recorded). */
  readonly enabled: boolean;
  /** Calendar days before the day whose passed days form the history. */
  readonly lookback_days: number;
  /** Lower bound of the expected range, as a fraction of the median. */
  readonly min_ratio: number;
  /** Upper bound of the expected range, as a multiple of the median. */
  readonly max_ratio: number;
  /** With fewer passed days in the lookback, the day passes (noted as `insufficient_history`). */
  readonly min_history_days: number;
}

/** Defaults of `gates.volume_anomaly` (DESIGN §9). @since 0.3.0 */
export const DEFAULT_VOLUME_ANOMALY: VolumeAnomalyConfig = Object.freeze({
  enabled: true,
  lookback_days: 7,
  min_ratio: 0.5,
  max_ratio: 3.0,
  min_history_days: 3,
});

/**
 * Config `gates.volume_anomaly` as written (every key optional; defaults in
 * {@link DEFAULT_VOLUME_ANOMALY}). `enabled: false` switches the gate off.
 * @since 0.3.0
 */
export const VolumeAnomalyConfigSchema = z
  .strictObject({
    enabled: z.boolean().optional(),
    lookback_days: z.int().min(1).max(366).optional(),
    min_ratio: z.number().min(0).max(1).optional(),
    max_ratio: z.number().min(1).optional(),
    min_history_days: z.int().min(1).optional(),
  })
  .refine((c) => (c.min_history_days ?? DEFAULT_VOLUME_ANOMALY.min_history_days) <= (c.lookback_days ?? DEFAULT_VOLUME_ANOMALY.lookback_days), {
    message: 'min_history_days must not exceed lookback_days (the gate could never compare)',
    path: ['min_history_days'],
  });

/**
 * Config `gates` (ours; not in the Go config): gates that can be tuned or
 * switched off. The canonical and artifact gates of DESIGN §5.3 cannot.
 * @since 0.3.0
 */
export const GatesConfigSchema = z.strictObject({
  volume_anomaly: VolumeAnomalyConfigSchema.optional(),
});

/** Config `gates` as written. @since 0.3.0 */
export type GatesConfig = z.infer<typeof GatesConfigSchema>;

/** Resolves `gates.volume_anomaly` against the defaults. @since 0.3.0 */
export function resolveVolumeAnomaly(config: GatesConfig['volume_anomaly'] = {}): VolumeAnomalyConfig {
  const out: Record<string, unknown> = { ...DEFAULT_VOLUME_ANOMALY };
  for (const [key, value] of Object.entries(config)) if (value !== undefined) out[key] = value;
  return Object.freeze(out) as unknown as VolumeAnomalyConfig;
}

/**
 * How a day fared at the gate, as recorded in its ingest report:
 * - `pass`: inside the expected range;
 * - `blocked`: outside it, nothing was published;
 * - `accepted`: outside it, published anyway by `--accept-anomaly`;
 * - `insufficient_history`: fewer than `min_history_days` passed days to compare with;
 * - `off`: the gate is switched off.
 * @since 0.3.0
 */
export type VolumeOutcome = 'pass' | 'blocked' | 'accepted' | 'insufficient_history' | 'off';

/** Outcomes of days that went on to publish, so count as history for later days. @since 0.3.0 */
export const PASSED_VOLUME_OUTCOMES: readonly VolumeOutcome[] = ['pass', 'accepted', 'insufficient_history', 'off'];

/** A recorded day the gate can compare with. @since 0.3.0 */
export interface VolumeHistoryDay {
  readonly day: string;
  readonly volume: DayVolume;
  readonly outcome: VolumeOutcome;
}

/** One measure judged against the history. @since 0.3.0 */
export interface MeasureCheck {
  readonly measure: VolumeMeasure;
  readonly observed: number;
  readonly median: number;
  /** Expected range, inclusive: `[median × min_ratio, median × max_ratio]`. */
  readonly expected: { readonly min: number; readonly max: number };
  readonly ok: boolean;
}

/** The gate's verdict on one day, as recorded in the day's ingest report. @since 0.3.0 */
export interface VolumeGateResult {
  readonly day: string;
  readonly outcome: VolumeOutcome;
  readonly observed: DayVolume;
  /** The passed days it was compared with, oldest first. */
  readonly history_days: readonly string[];
  /** Empty when there was nothing to compare with or the gate is off. */
  readonly checks: readonly MeasureCheck[];
  /** Why the day passed without a comparison, when it did. */
  readonly note?: string;
}

/**
 * The calendar days whose records form a day's history: the
 * `lookback_days` days before it, oldest first.
 * @since 0.3.0
 */
export function volumeLookbackDays(day: string, config: Pick<VolumeAnomalyConfig, 'lookback_days'>): string[] {
  const out: string[] = [];
  const start = dayStartMs(day);
  for (let k = config.lookback_days; k >= 1; k--) out.push(dayOfMs(start - k * 86_400_000));
  return out;
}

/** The median (the mean of the two middle values for an even count). @since 0.3.0 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Judges a day's volume against its history (records of any days; only the
 * passed ones inside the lookback count). Pure: the caller reads the
 * records and decides what to do with a `blocked` verdict
 * ({@link volumeGateError}, or `accepted` by {@link acceptVolumeAnomaly}).
 * @since 0.3.0
 */
export function evaluateVolumeGate(day: string, observed: DayVolume, history: readonly VolumeHistoryDay[], config: VolumeAnomalyConfig): VolumeGateResult {
  const lookback = new Set(volumeLookbackDays(day, config));
  const passed = history
    .filter((h) => lookback.has(h.day) && PASSED_VOLUME_OUTCOMES.includes(h.outcome))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  // One record per day: the caller should not pass two, but a duplicate must not weigh twice.
  const unique = passed.filter((h, k) => k === 0 || passed[k - 1]!.day !== h.day);
  const historyDays = unique.map((h) => h.day);
  const base = { day, observed: { accepted_events: observed.accepted_events, distinct_items: observed.distinct_items }, history_days: historyDays };
  if (!config.enabled) return { ...base, outcome: 'off', checks: [], note: 'gates.volume_anomaly.enabled is false' };
  if (unique.length < config.min_history_days) {
    return {
      ...base,
      outcome: 'insufficient_history',
      checks: [],
      note: `${unique.length} passed day(s) in the ${config.lookback_days} days before ${day}; the gate compares from ${config.min_history_days} (gates.volume_anomaly.min_history_days)`,
    };
  }
  const checks = VOLUME_MEASURES.map((measure): MeasureCheck => {
    const m = median(unique.map((h) => h.volume[measure]));
    const min = m * config.min_ratio;
    const max = m * config.max_ratio;
    const value = observed[measure];
    return { measure, observed: value, median: m, expected: { min, max }, ok: value >= min && value <= max };
  });
  return { ...base, outcome: checks.every((c) => c.ok) ? 'pass' : 'blocked', checks };
}

/** The verdict of a blocked day that an operator accepted (`--accept-anomaly`). @since 0.3.0 */
export function acceptVolumeAnomaly(result: VolumeGateResult): VolumeGateResult {
  return result.outcome === 'blocked' ? { ...result, outcome: 'accepted' } : result;
}

/** A number for a message: integers as such, others with at most two decimals. */
function num(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
}

/** One failed measure, e.g. `accepted_events 120 outside the expected range [250, 1500]`. @since 0.3.0 */
export function describeMeasureCheck(check: MeasureCheck): string {
  return `${check.measure} ${num(check.observed)} outside the expected range [${num(check.expected.min)}, ${num(check.expected.max)}] (median ${num(check.median)})`;
}

/**
 * The exit-3 error of a blocked day: names every measure out of range, its
 * observed value and expected range, the days compared with, and the two
 * ways forward.
 * @since 0.3.0
 */
export function volumeGateError(result: VolumeGateResult, config: VolumeAnomalyConfig): ValidationGateError {
  const failed = result.checks.filter((c) => !c.ok);
  const days = result.history_days;
  const range = days.length > 0 ? `${days[0]}..${days.at(-1)}` : 'none';
  return new ValidationGateError(
    'volume_anomaly',
    `day ${result.day}: ${failed.map(describeMeasureCheck).join('; ')}; expected range = ${num(config.min_ratio)}–${num(config.max_ratio)} × the median of ${days.length} passed day(s) ${range} (gates.volume_anomaly). Nothing was published. If the change is real, publish the day with --accept-anomaly (recorded in history); if it is not, fix the raw input and re-run`,
    {
      day: result.day,
      measures: failed.map((c) => ({ measure: c.measure, observed: c.observed, expected: c.expected, median: c.median })),
      history_days: days,
      config_key: 'gates.volume_anomaly',
    },
  );
}
