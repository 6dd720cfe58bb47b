import { z } from 'zod';

const positiveInt = z.int().min(0);

/**
 * Guardrails (config `limits`), with the Go implementation's key names
 * (DESIGN §5.4). A value of 0 or an absent key means "use the default", and
 * the defaults are the Go implementation's where it has one; for
 * `max_*_per_run` the default is "no limit". `max_artifact_bytes` is ours:
 * 0 there means "no limit".
 * @since 0.1.0
 */
export const LimitsSchema = z.strictObject({
  max_days_backfill: positiveInt.optional(),
  max_events_per_run: positiveInt.optional(),
  max_sessions_per_run: positiveInt.optional(),
  max_items_per_session: positiveInt.optional(),
  max_distinct_items_per_run: positiveInt.optional(),
  max_neighbors_per_item: positiveInt.optional(),
  max_items_per_artifact: positiveInt.optional(),
  min_cooc_support: positiveInt.optional(),
  max_users_per_run: positiveInt.optional(),
  max_items_per_user: positiveInt.optional(),
  max_bad_event_ratio: z.number().min(0).max(1).optional(),
  max_artifact_bytes: positiveInt.optional(),
});

/** Limits as written in config. @since 0.1.0 */
export type LimitsConfig = z.infer<typeof LimitsSchema>;

/** Effective limits; `Infinity` means unlimited. @since 0.1.0 */
export interface Limits {
  readonly max_days_backfill: number;
  readonly max_events_per_run: number;
  readonly max_sessions_per_run: number;
  readonly max_items_per_session: number;
  readonly max_distinct_items_per_run: number;
  readonly max_neighbors_per_item: number;
  readonly max_items_per_artifact: number;
  readonly min_cooc_support: number;
  readonly max_users_per_run: number;
  readonly max_items_per_user: number;
  readonly max_bad_event_ratio: number;
  /** Largest blob the artifact gate lets through (recsys-service's `RECSYS_ARTIFACT_MAX_BYTES`). */
  readonly max_artifact_bytes: number;
}

/** recsys-service's default `RECSYS_ARTIFACT_MAX_BYTES`: it refuses to load any larger artifact. @since 0.1.0 */
export const SERVICE_ARTIFACT_MAX_BYTES = 10_000_000;

/** Defaults applied when a limit is absent or 0. @since 0.1.0 */
export const DEFAULT_LIMITS: Limits = {
  max_days_backfill: 90,
  max_events_per_run: Infinity,
  max_sessions_per_run: Infinity,
  max_items_per_session: 1000,
  max_distinct_items_per_run: Infinity,
  // The Go implementation's defaults: they keep a cooc blob well under the service's byte limit.
  max_neighbors_per_item: 50,
  max_items_per_artifact: 1000,
  min_cooc_support: 1,
  max_users_per_run: Infinity,
  max_items_per_user: 200,
  max_bad_event_ratio: 0.001,
  max_artifact_bytes: SERVICE_ARTIFACT_MAX_BYTES,
};

/** Resolves configured limits against the defaults. @since 0.1.0 */
export function resolveLimits(config: LimitsConfig = {}): Limits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    // 0 means "unset" for counts (Go zero value), but is a real value for the ratio,
    // and "no limit" for the byte limit (ours, so no Go zero-value convention to keep).
    if (value === 0 && key === 'max_artifact_bytes') {
      out[key] = Infinity;
      continue;
    }
    if (value === 0 && key !== 'max_bad_event_ratio') continue;
    out[key] = value;
  }
  return out as unknown as Limits;
}
