import type { HistoryEntryV1, VersionRecordV1 } from '@recsys/contracts';
import { checkScope, type Scope } from '../keys.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { Registry } from '../registry/registry.js';
import { collectStatus, DEFAULT_MAX_AGE_MS, type ScopeStatus } from '../ops/status.js';
import { historyTimeline, previousUris, rollbackCommands, rollbackTargets } from './report-history.js';
import { ingestPart } from './report-ingest.js';
import { neighborsSection, topItemsSection } from './report-top.js';
import { REPORT_DEFAULTS, type LiveArtifact, type ReportDocument, type ReportEnv, type ReportOptions, type ResolvedOptions, type ScopeReport } from './report-types.js';

/*
 * The data of `recsys-pipelines report` (DESIGN §10): what a PM or an SRE
 * needs to see about each tenant/surface, gathered from the registry, the
 * staged ingest reports and the live blobs. It reads only what it shows:
 * the manifest, the newest history entries, the records of the versions it
 * names, the ingest reports of the last N days, and the first rows of the
 * blobs (streamed). The HTML renderer and `--json` both print this model.
 *
 * The model is in report-types.ts; each part is gathered by its own module
 * (report-history.ts, report-top.ts, report-ingest.ts).
 */

async function readRecordSafe(registry: Registry, scope: Scope, type: string, version: string): Promise<VersionRecordV1 | undefined> {
  try {
    return await registry.readRecord(scope, type, version);
  } catch {
    return undefined;
  }
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

  const previous = previousUris(entries, live);
  const rollbackTarget = rollbackTargets(entries, live);
  // Top items and their change against the previous version, and the strongest neighbours of the top items.
  const topItems = await topItemsSection(env.areas.objects, live, previous, o.top);
  const neighbors = await neighborsSection(env.areas.objects, live, topItems, o.neighborItems, o.neighbors);
  // History and per-key timeline (reads the records of the versions it names).
  const { history, timeline } = await historyTimeline(entries, record);
  // Ingest over the last N days, ending with the newest day that was ingested or is live.
  const ingest = await ingestPart(env.areas.artifacts, scope, live, records.values(), o.days, o.limits);

  return {
    tenant: scope.tenant,
    surface: scope.surface,
    manifest_uri: status.manifest_uri,
    freshness,
    live,
    ...(topItems ? { top_items: topItems } : {}),
    ...(neighbors ? { neighbors } : {}),
    history: { total: seqs.length, entries: history },
    timeline,
    ingest,
    rollback: rollbackCommands(scope, live, rollbackTarget, o.configArg),
  };
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
