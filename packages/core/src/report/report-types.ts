import type { Scope } from '../keys.js';
import type { Clock, ObjectStorage } from '../ports.js';
import type { Limits } from '../limits.js';
import type { ScopeStatus } from '../ops/status.js';
import type { KeyChange } from '../ops/history.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { CountedItem } from './top.js';

/* The model of `recsys-pipelines report` (DESIGN §10): what `buildReport` gathers and the HTML renderer and `--json` print. */

/** Defaults of `buildReport`. @since 0.1.0 */
export const REPORT_DEFAULTS = { days: 14, top: 20, neighborItems: 10, neighbors: 5, historyEntries: 30 } as const;

/** Options of `buildReport`. @since 0.1.0 */
export interface ReportOptions {
  /** One tenant/surface; every scope with a manifest when absent. */
  readonly scope?: Scope | undefined;
  /** Freshness SLO, as `status --max-age`. */
  readonly maxAgeMs?: number | undefined;
  /** Days of ingest shown, ending with the newest ingested or live day. */
  readonly days?: number | undefined;
  /** Top items shown. */
  readonly top?: number | undefined;
  /** How many of the top items get their co-occurrence neighbours listed. */
  readonly neighborItems?: number | undefined;
  /** Neighbours shown per item. */
  readonly neighbors?: number | undefined;
  /** History entries shown (newest first). */
  readonly historyEntries?: number | undefined;
  /** The `--config` argument to put into the printed rollback commands. */
  readonly configArg?: string | undefined;
  /** Limits to evaluate the canonical gate of ingested days with (the configured ones). */
  readonly limits?: Limits | undefined;
}

/** What `buildReport` reads. @since 0.1.0 */
export interface ReportEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage; readonly artifacts: ObjectStorage };
  readonly clock: Clock;
}

/** One live manifest key. @since 0.1.0 */
export interface LiveArtifact {
  readonly key: string;
  readonly type: string;
  readonly segment: string;
  readonly version: string;
  readonly uri: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly built_at?: string;
  readonly published_at?: string;
  /** Payload rows (items, neighbour rows or users). */
  readonly rows?: number;
  /** Blob size in bytes (from the version record). */
  readonly bytes?: number;
  /** Set when the blob cannot be served. */
  readonly problem?: string;
}

/** How a top item moved against the version served before. @since 0.1.0 */
export type RankChange = 'new' | 'up' | 'down' | 'same' | 'unknown';

/** One top item. @since 0.1.0 */
export interface TopItemRow {
  readonly rank: number;
  readonly item_id: string;
  readonly count: number;
  readonly previous_rank?: number;
  readonly previous_count?: number;
  readonly change: RankChange;
  /** Positions gained (positive) or lost (negative). */
  readonly move?: number;
}

/** Top items of the live popularity artifact. @since 0.1.0 */
export interface TopItemsSection {
  readonly key: string;
  readonly version: string;
  /** The version served before the live one, when history names one. */
  readonly previous?: { readonly version: string; readonly uri: string; readonly available: boolean };
  readonly items: readonly TopItemRow[];
  /** Items of the previous top list that left it. */
  readonly dropped: readonly { readonly item_id: string; readonly previous_rank: number; readonly previous_count: number; readonly rank?: number }[];
}

/** Strongest co-occurrence neighbours of top items. @since 0.1.0 */
export interface NeighborsSection {
  readonly key: string;
  readonly version: string;
  readonly rows: readonly { readonly rank: number; readonly item_id: string; readonly neighbors: readonly CountedItem[]; readonly neighbors_total: number }[];
}

/** One history entry. @since 0.1.0 */
export interface ReportHistoryEntry {
  readonly seq: number;
  readonly at: string;
  readonly reason: string;
  readonly message?: string;
  readonly run_id: string;
  readonly actor: { readonly host: string; readonly user: string };
  readonly changes: readonly KeyChange[];
  /**
   * Members of the entry beyond the v1 basics (e.g. an accepted volume
   * anomaly, a deliberate pointer move back), shown as recorded.
   */
  readonly notes?: Readonly<Record<string, unknown>>;
}

/** One pointer move of a key. @since 0.1.0 */
export interface TimelineEvent {
  readonly seq: number;
  readonly at: string;
  readonly reason: string;
  readonly message?: string;
  readonly change: KeyChange['change'];
  readonly from?: string;
  readonly to?: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly notes?: Readonly<Record<string, unknown>>;
}

/** The outcome of an ingested day. @since 0.1.0 */
export type DayOutcome = 'published' | 'blocked' | 'not_published' | 'not_ingested';

/** Ingest of one day. @since 0.1.0 */
export interface IngestDayRow {
  readonly day: string;
  readonly counts?: IngestCounts;
  readonly outcome: DayOutcome;
  /** The gate that blocks the day (by its stored counts and the configured limits). */
  readonly gate?: string;
  readonly message?: string;
  /** Live or earlier published versions whose window ends with this day. */
  readonly published?: readonly string[];
}

/** The report of one tenant/surface. @since 0.1.0 */
export interface ScopeReport {
  readonly tenant: string;
  readonly surface: string;
  readonly manifest_uri: string;
  /** `status`'s verdict for this scope (same rule, same fields, without the artifact list). */
  readonly freshness: Omit<ScopeStatus, 'artifacts' | 'tenant' | 'surface' | 'manifest_uri'>;
  readonly live: readonly LiveArtifact[];
  readonly top_items?: TopItemsSection;
  readonly neighbors?: NeighborsSection;
  readonly history: { readonly total: number; readonly entries: readonly ReportHistoryEntry[] };
  readonly timeline: readonly { readonly key: string; readonly events: readonly TimelineEvent[] }[];
  readonly ingest: { readonly from: string; readonly to: string; readonly days: readonly IngestDayRow[] } | { readonly from?: undefined; readonly days: readonly [] };
  readonly rollback: { readonly all: string; readonly dry_run: string; readonly keys: readonly { readonly key: string; readonly to: string; readonly command: string }[] };
}

/** The whole report. @since 0.1.0 */
export interface ReportDocument {
  readonly v: 1;
  readonly generated_at: string;
  readonly max_age_seconds: number;
  readonly days: number;
  readonly top: number;
  /** True when any scope is stale, or there is none (as `status`). */
  readonly stale: boolean;
  readonly scopes: readonly ScopeReport[];
}

/** {@link ReportOptions} with the defaults applied. */
export interface ResolvedOptions {
  readonly days: number;
  readonly top: number;
  readonly neighborItems: number;
  readonly neighbors: number;
  readonly historyEntries: number;
  readonly limits: Limits;
  readonly configArg: string | undefined;
}
