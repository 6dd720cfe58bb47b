import { parseManifestKey, type HistoryEntryV1, type VersionRecordV1 } from '@recsys/contracts';
import { ValidationGateError } from '../errors.js';
import { checkScope, keys, type Scope } from '../keys.js';
import type { Clock, ObjectStorage } from '../ports.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { Registry } from '../registry/registry.js';
import { dayOfMs, dayStartMs, daysInRange } from '../days.js';
import { collectStatus, DEFAULT_MAX_AGE_MS, type ScopeStatus } from '../ops/status.js';
import { diffCurrent, type KeyChange } from '../ops/history.js';
import { versionOfUri } from '../ops/blob-check.js';
import { checkCanonicalGate } from '../validate/gates.js';
import { StoredIngestReportSchema } from '../pipeline/staging.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import { lookupRanks, readNeighbors, readTopItems, type CountedItem } from './top.js';

/*
 * The data of `recsys-pipelines report` (DESIGN §10): what a PM or an SRE
 * needs to see about each tenant/surface, gathered from the registry, the
 * staged ingest reports and the live blobs. It reads only what it shows:
 * the manifest, the newest history entries, the records of the versions it
 * names, the ingest reports of the last N days, and the first rows of the
 * blobs (streamed). The HTML renderer and `--json` both print this model.
 */

/** Defaults of {@link buildReport}. @since 0.1.0 */
export const REPORT_DEFAULTS = { days: 14, top: 20, neighborItems: 10, neighbors: 5, historyEntries: 30 } as const;

/** Options of {@link buildReport}. @since 0.1.0 */
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

/** What {@link buildReport} reads. @since 0.1.0 */
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

interface ResolvedOptions {
  readonly days: number;
  readonly top: number;
  readonly neighborItems: number;
  readonly neighbors: number;
  readonly historyEntries: number;
  readonly limits: Limits;
  readonly configArg: string | undefined;
}

const BASIC_HISTORY_FIELDS = new Set(['v', 'seq', 'at', 'tenant', 'surface', 'reason', 'message', 'previous', 'next', 'run_id', 'actor']);

function notesOf(entry: HistoryEntryV1): Record<string, unknown> | undefined {
  const extra = Object.entries(entry).filter(([k]) => !BASIC_HISTORY_FIELDS.has(k));
  return extra.length > 0 ? Object.fromEntries(extra) : undefined;
}

/** Quotes a shell word only when needed (the commands are copied into a terminal). */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._/=:@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function rollbackCommands(scope: Scope, live: readonly LiveArtifact[], previous: ReadonlyMap<string, string>, configArg: string | undefined): ScopeReport['rollback'] {
  const base = ['recsys-pipelines', 'rollback', ...(configArg !== undefined ? ['--config', shellWord(configArg)] : []), '--tenant', shellWord(scope.tenant), '--surface', shellWord(scope.surface)].join(' ');
  const keysOut: { key: string; to: string; command: string }[] = [];
  for (const a of live) {
    const to = previous.get(a.key);
    if (to === undefined) continue;
    const segment = a.segment !== '' && a.segment !== 'default' ? ` --segment ${shellWord(a.segment)}` : '';
    keysOut.push({ key: a.key, to, command: `${base}${segment} --type ${shellWord(a.type)} --to ${to.slice(0, 12)} --reason '…'` });
  }
  return { all: `${base} --all --steps 1 --reason '…'`, dry_run: `${base} --all --steps 1 --dry-run`, keys: keysOut };
}

async function readRecordSafe(registry: Registry, scope: Scope, type: string, version: string): Promise<VersionRecordV1 | undefined> {
  try {
    return await registry.readRecord(scope, type, version);
  } catch {
    return undefined;
  }
}

/** Reads every ingest report of the scope's staging area for the given days (whole-day or summed shards). */
async function ingestDays(artifacts: ObjectStorage, scope: Scope, days: readonly string[]): Promise<Map<string, IngestCounts>> {
  const wanted = new Set(days);
  const whole = new Map<string, IngestCounts>();
  const shards = new Map<string, IngestCounts[]>();
  const prefix = keys.ingestReport(scope, '0000-00-00').replace(/0000-00-00\.json$/, '');
  for await (const obj of artifacts.list(prefix)) {
    const m = /([0-9]{4}-[0-9]{2}-[0-9]{2})(\.shard-\d+-of-\d+)?\.json$/.exec(obj.key.slice(prefix.length));
    if (!m || !wanted.has(m[1]!)) continue;
    const data = await artifacts.get(obj.key);
    if (!data) continue;
    let parsed;
    try {
      parsed = StoredIngestReportSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    } catch {
      continue;
    }
    if (!parsed.success) continue;
    const counts = parsed.data.counts as IngestCounts;
    if (m[2] === undefined) whole.set(m[1]!, counts);
    else shards.set(m[1]!, [...(shards.get(m[1]!) ?? []), counts]);
  }
  for (const [day, parts] of shards) {
    if (whole.has(day)) continue;
    whole.set(day, sumCounts(parts));
  }
  return whole;
}

function sumCounts(parts: readonly IngestCounts[]): IngestCounts {
  const byReason: Record<string, number> = {};
  const sum = (k: 'read' | 'accepted' | 'duplicates' | 'out_of_window' | 'other_scope' | 'rejected') => parts.reduce((n, p) => n + p[k], 0);
  for (const p of parts) for (const [r, n] of Object.entries(p.rejected_by_reason)) byReason[r] = (byReason[r] ?? 0) + (n ?? 0);
  // A sharded ingest reads each line once in total; other_shard lines are read by another shard.
  const otherShard = parts.reduce((n, p) => n + (p.other_shard ?? 0), 0);
  return {
    read: sum('read') - otherShard,
    accepted: sum('accepted'),
    duplicates: sum('duplicates'),
    out_of_window: sum('out_of_window'),
    other_scope: sum('other_scope'),
    rejected: sum('rejected'),
    rejected_by_reason: byReason,
  } as IngestCounts;
}

/** The day a window ends with (its last whole day). */
function lastDayOf(window: { readonly end: string }): string {
  return dayOfMs(Date.parse(window.end) - 1);
}

async function scopeReport(env: ReportEnv, registry: Registry, status: ScopeStatus, o: ResolvedOptions): Promise<ScopeReport> {
  const scope = { tenant: status.tenant, surface: status.surface };
  const { artifacts: statusArtifacts, tenant: _t, surface: _s, manifest_uri: _m, ...freshness } = status;

  // History: newest entries only (the audit log can be long).
  const seqs = await registry.historySeqs(scope);
  const entries: HistoryEntryV1[] = [];
  for (const seq of seqs.slice(-o.historyEntries).reverse()) {
    const entry = await registry.readHistory(scope, seq).catch(() => undefined);
    if (entry) entries.push(entry);
  }

  // Records of every version the report names (live and in the shown history), read once.
  const records = new Map<string, VersionRecordV1 | undefined>();
  const record = async (type: string, version: string) => {
    const id = `${type}/${version}`;
    if (!records.has(id)) records.set(id, await readRecordSafe(registry, scope, type, version));
    return records.get(id);
  };

  const live: LiveArtifact[] = [];
  for (const a of statusArtifacts) {
    const rec = await record(a.type, a.version);
    live.push({
      key: a.key,
      type: a.type,
      segment: a.segment,
      version: a.version,
      uri: a.uri,
      ...(a.window ? { window: a.window } : rec ? { window: rec.window } : {}),
      ...(rec ? { built_at: rec.built_at, published_at: rec.published_at, bytes: rec.size_bytes } : a.published_at ? { published_at: a.published_at } : {}),
      ...(a.items !== undefined ? { rows: a.items } : {}),
      ...(a.problem !== undefined ? { problem: a.problem } : {}),
    });
  }

  // The version each live key pointed at before its current version went live.
  const previous = new Map<string, string>();
  const liveUri = new Map(live.map((a) => [a.key, a.uri]));
  for (const entry of entries) {
    for (const [key, uri] of liveUri) {
      if (previous.has(key)) continue;
      const before = entry.previous[key];
      if (entry.next[key] === uri && before !== undefined && before !== uri) previous.set(key, before);
    }
  }
  // A rollback target per key: the newest earlier version that was not itself rolled back from.
  const rolledBackFrom = new Set<string>();
  for (const entry of entries) {
    if (entry.reason !== 'rollback') continue;
    for (const [key, uri] of Object.entries(entry.previous)) if (entry.next[key] !== uri) rolledBackFrom.add(uri);
  }
  const rollbackTarget = new Map<string, string>();
  for (const entry of entries) {
    for (const [key, uri] of liveUri) {
      const before = entry.previous[key];
      if (rollbackTarget.has(key) || before === undefined || before === uri || rolledBackFrom.has(before)) continue;
      if (entry.next[key] !== before) rollbackTarget.set(key, versionOfUri(before));
    }
  }

  // Top items and their change against the previous version.
  let topItems: TopItemsSection | undefined;
  const pop = live.find((a) => a.key === 'popularity') ?? live.find((a) => a.type === 'popularity');
  if (pop && !pop.problem) {
    const items = (await readTopItems(env.areas.objects, pop.uri, o.top)) ?? [];
    const prevUri = previous.get(pop.key);
    let rows: TopItemRow[] = items.map((i) => ({ ...i, change: 'unknown' as const }));
    let dropped: TopItemsSection['dropped'] = [];
    let prevInfo: TopItemsSection['previous'];
    if (prevUri !== undefined) {
      const lookup = await lookupRanks(env.areas.objects, prevUri, new Set(items.map((i) => i.item_id)), o.top).catch(() => undefined);
      prevInfo = { version: versionOfUri(prevUri), uri: prevUri, available: lookup !== undefined };
      if (lookup) {
        rows = items.map((i) => {
          const before = lookup.found.get(i.item_id);
          if (!before) return { ...i, change: lookup.complete ? ('new' as const) : ('unknown' as const) };
          const move = before.rank - i.rank;
          return { ...i, previous_rank: before.rank, previous_count: before.count, change: move > 0 ? ('up' as const) : move < 0 ? ('down' as const) : ('same' as const), move };
        });
        const nowRank = new Map(items.map((i) => [i.item_id, i.rank]));
        dropped = lookup.top.filter((p) => !nowRank.has(p.item_id)).map((p) => ({ item_id: p.item_id, previous_rank: p.rank, previous_count: p.count }));
      }
    }
    topItems = { key: pop.key, version: pop.version, ...(prevInfo ? { previous: prevInfo } : {}), items: rows, dropped };
  }

  // Strongest neighbours of the top items.
  let neighbors: NeighborsSection | undefined;
  const cooc = live.find((a) => a.key === 'cooc') ?? live.find((a) => a.type === 'cooc');
  if (cooc && !cooc.problem && topItems && topItems.items.length > 0 && o.neighborItems > 0) {
    const wanted = topItems.items.slice(0, o.neighborItems);
    const found = (await readNeighbors(env.areas.objects, cooc.uri, wanted.map((i) => i.item_id), o.neighbors)) ?? new Map();
    neighbors = {
      key: cooc.key,
      version: cooc.version,
      rows: wanted.map((i) => {
        const row = found.get(i.item_id);
        return { rank: i.rank, item_id: i.item_id, neighbors: row?.neighbors ?? [], neighbors_total: row?.total ?? 0 };
      }),
    };
  }

  // History and per-key timeline.
  const history: ReportHistoryEntry[] = entries.map((e) => {
    const notes = notesOf(e);
    return {
      seq: e.seq,
      at: e.at,
      reason: e.reason,
      ...(e.message !== undefined ? { message: e.message } : {}),
      run_id: e.run_id,
      actor: { host: e.actor.host, user: e.actor.user },
      changes: diffCurrent(e.previous, e.next),
      ...(notes ? { notes } : {}),
    };
  });
  const timeline = new Map<string, TimelineEvent[]>();
  for (const h of history) {
    for (const c of h.changes) {
      const parts = parseManifestKey(c.key);
      const rec = c.to ? await record(parts?.type ?? c.key, c.to.version) : undefined;
      const events = timeline.get(c.key) ?? [];
      events.push({
        seq: h.seq,
        at: h.at,
        reason: h.reason,
        ...(h.message !== undefined ? { message: h.message } : {}),
        change: c.change,
        ...(c.from ? { from: c.from.version } : {}),
        ...(c.to ? { to: c.to.version } : {}),
        ...(rec ? { window: rec.window } : {}),
        ...(h.notes ? { notes: h.notes } : {}),
      });
      timeline.set(c.key, events);
    }
  }

  // Ingest over the last N days, ending with the newest day that was ingested or is live.
  const published = new Map<string, Set<string>>();
  for (const rec of records.values()) {
    if (!rec) continue;
    const day = lastDayOf(rec.window);
    published.set(day, (published.get(day) ?? new Set()).add(`${rec.artifact_type}${rec.segment !== 'default' ? `@${rec.segment}` : ''} ${rec.version.slice(0, 12)}`));
  }
  let ingest: ScopeReport['ingest'] = { days: [] };
  const reportDays = await ingestRange(env.areas.artifacts, scope, live, o.days);
  if (reportDays) {
    const counts = await ingestDays(env.areas.artifacts, scope, reportDays);
    const rows: IngestDayRow[] = reportDays.map((day) => {
      const c = counts.get(day);
      const pub = published.get(day);
      const pubList = pub ? { published: [...pub].sort() } : {};
      if (!c) return { day, outcome: pub ? 'published' : 'not_ingested', ...pubList };
      try {
        checkCanonicalGate(day, c, o.limits);
      } catch (error) {
        if (ValidationGateError.isInstance(error)) {
          return { day, counts: c, outcome: 'blocked', gate: (error as ValidationGateError).gate, message: error.message, ...pubList };
        }
        throw error;
      }
      return { day, counts: c, outcome: pub ? 'published' : 'not_published', ...pubList };
    });
    ingest = { from: reportDays[0]!, to: reportDays.at(-1)!, days: rows };
  }

  return {
    tenant: scope.tenant,
    surface: scope.surface,
    manifest_uri: status.manifest_uri,
    freshness,
    live,
    ...(topItems ? { top_items: topItems } : {}),
    ...(neighbors ? { neighbors } : {}),
    history: { total: seqs.length, entries: history },
    timeline: [...timeline].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, events]) => ({ key, events })),
    ingest,
    rollback: rollbackCommands(scope, live, rollbackTarget, o.configArg),
  };
}

/** The N days shown: ending with the newest ingested day or live window, whichever is later. */
async function ingestRange(artifacts: ObjectStorage, scope: Scope, live: readonly LiveArtifact[], n: number): Promise<string[] | undefined> {
  if (n <= 0) return undefined;
  let last: string | undefined;
  const prefix = keys.ingestReport(scope, '0000-00-00').replace(/0000-00-00\.json$/, '');
  // Keys list in order, so the last match is the newest day (one LIST, no reads).
  for await (const obj of artifacts.list(prefix)) {
    const m = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[.]/.exec(obj.key.slice(prefix.length));
    if (m && (last === undefined || m[1]! > last)) last = m[1]!;
  }
  for (const a of live) {
    if (!a.window) continue;
    const day = lastDayOf(a.window);
    if (last === undefined || day > last) last = day;
  }
  if (last === undefined) return undefined;
  const first = dayOfMs(dayStartMs(last) - (n - 1) * 86_400_000);
  return daysInRange(first, last);
}

/**
 * Gathers the report of every tenant/surface with a manifest (or of one):
 * freshness by `status`'s rule, what is live, top items with their change
 * against the version served before, neighbours of the top items, history,
 * per-day ingest with gate outcomes, and rollback commands.
 * @since 0.1.0
 */
export async function buildReport(env: ReportEnv, options: ReportOptions = {}): Promise<ReportDocument> {
  const o: ResolvedOptions = {
    days: options.days ?? REPORT_DEFAULTS.days,
    top: options.top ?? REPORT_DEFAULTS.top,
    neighborItems: options.neighborItems ?? REPORT_DEFAULTS.neighborItems,
    neighbors: options.neighbors ?? REPORT_DEFAULTS.neighbors,
    historyEntries: options.historyEntries ?? REPORT_DEFAULTS.historyEntries,
    limits: options.limits ?? DEFAULT_LIMITS,
    configArg: options.configArg,
  };
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const scope = options.scope ? checkScope(options.scope) : undefined;
  // Freshness comes from `status` itself, so the report and the probe never disagree.
  const status = await collectStatus({ areas: env.areas, clock: env.clock }, { scope, maxAgeMs });
  const registry = new Registry(env.areas.registry);
  const scopes: ScopeReport[] = [];
  for (const s of status.scopes) scopes.push(await scopeReport(env, registry, s, o));
  return { v: 1, generated_at: status.checked_at, max_age_seconds: status.max_age_seconds, days: o.days, top: o.top, stale: status.stale, scopes };
}
