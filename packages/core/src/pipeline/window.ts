import { UTC_SECOND_PATTERN } from '@recsys/contracts';
import { RecsysError, UsageError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import { checkLimit } from '../check-limit.js';
import { dayWindow, daysInRange, nextDay, parseDayFlag } from '../days.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { CheckpointStore } from '../registry/registry.js';
import { windowFolderOf } from './staging.js';

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

/** What a window's days will write, for {@link checkWindowKeys}. @since 0.1.0 */
export interface WindowKeyPlan {
  readonly scope: Scope;
  readonly segment: string;
  readonly types: readonly string[];
  readonly shard?: { readonly index: number; readonly count: number } | undefined;
}

/** Stands in for an artifact version (64 hex digits) when checking key shapes. */
const ANY_VERSION = '0'.repeat(64);

/**
 * Checks, before any I/O, that every day of the window has a valid artifact
 * window and that every key its steps will write is accepted by the storage
 * it goes to (`uri` validates without touching storage). A day whose keys
 * cannot be stored would otherwise fail half-way, after its canonical
 * partition was already replaced, while exit 2 promises nothing was written.
 * Throws {@link UsageError} (exit 2) naming the day.
 * @since 0.1.0
 */
export function checkWindowKeys(env: PipelineEnv, plan: WindowKeyPlan, days: readonly string[]): void {
  const { areas } = env;
  const { scope, segment, types, shard } = plan;
  for (const day of days) {
    const window = dayWindow(day);
    if (!UTC_SECOND_PATTERN.test(window.start) || !UTC_SECOND_PATTERN.test(window.end)) {
      throw new UsageError(
        `day ${day} cannot be processed: its artifact window [${window.start}, ${window.end}) does not fit the contract's four-digit years (the last day that can be processed is 9999-12-30); nothing was written`,
        { day, window },
      );
    }
    const folder = windowFolderOf(window);
    try {
      areas.canonical.uri(keys.canonicalPartition(scope, day));
      if (shard) areas.canonical.uri(keys.canonicalShardPartition(scope, day, shard));
      areas.quarantine.uri(keys.quarantine(scope, day));
      areas.artifacts.uri(keys.ingestReport(scope, day, shard));
      for (const type of types) {
        areas.artifacts.uri(keys.staged(scope, segment, type, folder, ANY_VERSION));
        areas.artifacts.uri(keys.stagedMeta(scope, segment, type, folder, ANY_VERSION));
        areas.artifacts.uri(keys.stagedMarker(scope, segment, type, folder));
        if (shard) areas.objects.uri(keys.partial(scope, segment, type, folder, shard));
        areas.objects.uri(keys.blob(scope, type, ANY_VERSION));
        areas.registry.uri(keys.record(scope, type, ANY_VERSION));
      }
    } catch (error) {
      if (!RecsysError.isInstance(error) || error.kind !== 'usage') throw error;
      throw new UsageError(`day ${day} cannot be processed: ${error.message}; nothing was written`, { day, ...error.context }, { cause: error });
    }
  }
}
