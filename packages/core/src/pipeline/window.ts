import { UsageError } from '../errors.js';
import type { Scope } from '../keys.js';
import { checkLimit } from '../limits.js';
import { daysInRange, nextDay, parseDayFlag } from '../days.js';
import type { PipelineEnv } from '../storage-areas.js';
import { CheckpointStore } from '../registry/registry.js';

/** The window flags shared by `run` and the job-mode steps. @since 0.1.0 */
export interface WindowOptions {
  /** First day (inclusive); optional with `incremental`. */
  readonly start?: string | undefined;
  /** Last day (inclusive). */
  readonly end: string;
  /** Start the day after the checkpoint. */
  readonly incremental?: boolean | undefined;
}

/**
 * The UTC days of a window (DESIGN §5.1): `--start..--end`, or with
 * `--incremental` from the day after the checkpoint (which only `run` and
 * `publish` advance, so every step of one incremental run sees the same
 * days). Bounded by `limits.max_days_backfill`.
 * @since 0.1.0
 */
export async function resolveWindowDays(env: PipelineEnv, scope: Scope, options: WindowOptions): Promise<string[]> {
  const end = parseDayFlag('--end', options.end);
  let start: string;
  if (options.incremental) {
    const checkpoint = await new CheckpointStore(env.areas.checkpoints).read(scope);
    if (checkpoint) start = nextDay(checkpoint.last_completed_day);
    else if (options.start !== undefined) start = parseDayFlag('--start', options.start);
    else throw new UsageError(`--incremental: no checkpoint for ${scope.tenant}/${scope.surface} yet; give --start for the first run`, { ...scope });
  } else {
    if (options.start === undefined) throw new UsageError('--start is required (or use --incremental)');
    start = parseDayFlag('--start', options.start);
    if (start > end) throw new UsageError(`--start ${start} is after --end ${end}`);
  }
  const days = start > end ? [] : daysInRange(start, end);
  const max = env.limits.max_days_backfill;
  checkLimit(env.limits, 'max_days_backfill', days.length, `${start}..${end}; split the range into runs of at most ${max} days (e.g. --start ${start} --end ${days[Math.min(max, days.length) - 1] ?? end}), use --incremental to continue from the checkpoint, or raise limits.max_days_backfill`);
  return days;
}
