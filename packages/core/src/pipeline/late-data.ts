import type { Scope } from '../keys.js';
import { dayOfMs, dayStartMs, daysInRange } from '../days.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { rawFingerprint } from '../ingest/raw-source.js';
import { readIngestReport } from './staging.js';

/*
 * Late data (DESIGN §9, docs/explanation/windows.md#late-data): each ingest
 * report records a fingerprint of the day's raw input (`raw_fingerprint`:
 * SHA-256 of the raw objects' keys and sizes, as listed when the day was
 * ingested). `run --incremental` compares the fingerprints of the published
 * days before the checkpoint with the raw input as it is now, reports the
 * days whose input changed and the windows that contain them, and with
 * `--republish-affected` re-runs those days, oldest first.
 *
 * Keys and sizes, not contents: a fingerprint costs one stat per raw object
 * instead of re-reading every byte of every past day on every run. A late
 * delivery appends events (the size changes) or adds a `.gz` next to the
 * plain file (the key set changes); a same-size in-place rewrite is not
 * detected (re-run that day explicitly).
 */

/** A published day whose raw input changed since it was ingested. @since 0.3.0 */
export interface ChangedDay {
  readonly day: string;
  readonly recorded: string;
  /** `null` when the raw input is gone. */
  readonly current: string | null;
}

/** What {@link detectLateData} found. @since 0.3.0 */
export interface LateDataReport {
  /** The days that were compared (ingested, with a recorded fingerprint, up to the checkpoint). */
  readonly checked: number;
  readonly changed: readonly ChangedDay[];
  /** Days up to the checkpoint whose artifacts (windows of `window_days`) contain a changed day, oldest first. */
  readonly affected: readonly string[];
}

/**
 * Compares the recorded raw fingerprints of the days in
 * `[upTo − lookbackDays + 1, upTo]` with the raw input as it is now.
 * @since 0.3.0
 */
export async function detectLateData(env: PipelineEnv, scope: Scope, upTo: string, options: { readonly lookbackDays: number; readonly windowDays: number }): Promise<LateDataReport> {
  const from = dayOfMs(dayStartMs(upTo) - (options.lookbackDays - 1) * 86_400_000);
  const changed: ChangedDay[] = [];
  let checked = 0;
  for (const day of daysInRange(from, upTo)) {
    const report = await readIngestReport(env, scope, day).catch(() => undefined);
    if (!report?.raw_fingerprint) continue;
    checked++;
    const current = env.rawSource ? undefined : await rawFingerprint(env.areas.raw, env.sha256, scope, day);
    if (current !== report.raw_fingerprint) changed.push({ day, recorded: report.raw_fingerprint, current: current ?? null });
  }
  const affected = new Set<string>();
  for (const c of changed) {
    for (let k = 0; k < options.windowDays; k++) {
      const d = dayOfMs(dayStartMs(c.day) + k * 86_400_000);
      if (d <= upTo) affected.add(d);
    }
  }
  return { checked, changed, affected: [...affected].sort() };
}
