import { DEFAULT_SEGMENT, manifestKey, parseVersionRecord, type VersionRecordV1 } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import { checkScope, keys, type Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';
import { Registry } from '../registry/registry.js';
import { parseBlobKey } from './blob-check.js';
import { ArtifactSyntaxError, readArtifactHeader } from '../validate/artifact-stream.js';
import type { OpsEnv } from './env.js';
import { collectParts, type GcPartsItem } from './gc-parts.js';
import { acquireMarker, MARKER_TTL_MS, PIN_TTL_MS, readPins, writeTombstone } from './gc-fence.js';

const decoder = new TextDecoder();

/** Default of `--older-than`. @since 0.1.0 */
export const DEFAULT_GC_OLDER_THAN_MS = 30 * 86_400_000;
/** Default of `--keep-history`. @since 0.1.0 */
export const DEFAULT_GC_KEEP_HISTORY = 10;

/** Options of {@link collectGarbage} (the `gc` command). @since 0.1.0 */
export interface GcOptions {
  /** Keep at least this many newest versions per artifact key (type and segment), by publish time. */
  readonly keepVersions: number;
  /** Never delete a version published more recently than this. */
  readonly olderThanMs?: number | undefined;
  /** Keep every version referenced (previous or next) by the newest K history entries. */
  readonly keepHistory?: number | undefined;
  readonly dryRun?: boolean | undefined;
  /** One tenant/surface; every one with blobs or records when absent. */
  readonly scope?: Scope | undefined;
  readonly pinTtlMs?: number | undefined;
  readonly markerTtlMs?: number | undefined;
  /** Candidates per marker (one re-read of the references per batch). */
  readonly batchSize?: number | undefined;
}

/** A version gc deleted (or would delete). @since 0.1.0 */
export interface GcItem {
  readonly type: string;
  /** Manifest key (`type` or `type@segment`); absent when the blob is unreadable. */
  readonly key?: string;
  readonly version: string;
  readonly uri?: string;
  readonly has_blob: boolean;
  readonly has_record: boolean;
  /** Publish time (record), else build time (blob). */
  readonly published_at?: string;
  readonly size_bytes?: number;
}

/** gc result of one tenant/surface. @since 0.1.0 */
export interface GcScopeReport {
  readonly tenant: string;
  readonly surface: string;
  /** Deleted (or, in a dry run, would be deleted). */
  readonly deleted: GcItem[];
  /** Candidates that became referenced while gc ran (a concurrent publish or rollback): kept. */
  readonly spared: GcItem[];
  /** Versions kept, by reason. */
  readonly kept: { referenced: number; newest: number; young: number; undated: number };
  /** Ingest parts of published sharded days deleted (or, in a dry run, that would be); see gc-parts.ts. */
  readonly deleted_parts?: GcPartsItem[];
}

/** Result of {@link collectGarbage}. @since 0.1.0 */
export interface GcReport {
  readonly dry_run: boolean;
  readonly keep_versions: number;
  readonly keep_history: number;
  readonly older_than_seconds: number;
  readonly scopes: GcScopeReport[];
  readonly deleted_versions: number;
  readonly deleted_bytes: number;
}

interface Version {
  type: string;
  version: string;
  segment?: string;
  record?: VersionRecordV1;
  recordKey?: string;
  recordUnreadable?: boolean;
  blobKey?: string;
  blobSize?: number;
  time?: number;
}

/** References that protect a version: URIs and the blob keys they resolve to. */
interface Refs {
  readonly uris: Set<string>;
  readonly blobKeys: Set<string>;
}

async function readRefs(env: OpsEnv, registry: Registry, scope: Scope, keepHistory: number, pinTtlMs: number): Promise<Refs & { expiredPins: string[] }> {
  const uris = new Set<string>();
  // Pins first, then the pointer: a publisher drops its pin only after its commit, so a pin missing
  // here means that commit is already in the manifest/history read below (see gc-fence.ts).
  const pins = await readPins(env.areas.registry, env.clock, scope, pinTtlMs);
  for (const uri of pins.uris) uris.add(uri);
  const stored = await registry.readManifest(scope);
  for (const uri of Object.values(stored?.manifest.current ?? {})) uris.add(uri);
  const seqs = await registry.historySeqs(scope);
  // The newest entry always counts: it is the pointer even when the manifest lags it.
  const recent = seqs.slice(-Math.max(1, keepHistory));
  for (const seq of recent) {
    const entry = await registry.readHistory(scope, seq);
    if (!entry) continue;
    if (seq === seqs.at(-1) || keepHistory > 0) for (const uri of Object.values(entry.next)) uris.add(uri);
    if (keepHistory > 0) for (const uri of Object.values(entry.previous)) uris.add(uri);
  }
  const blobKeys = new Set<string>();
  for (const uri of uris) {
    const key = env.areas.objects.keyOfUri(uri);
    if (key !== undefined) blobKeys.add(key);
  }
  return { uris, blobKeys, expiredPins: pins.expired };
}

function isReferenced(env: OpsEnv, refs: Refs, v: Version): boolean {
  if (v.blobKey !== undefined && (refs.blobKeys.has(v.blobKey) || refs.uris.has(env.areas.objects.uri(v.blobKey)))) return true;
  if (v.record && refs.uris.has(v.record.uri)) return true;
  const recordBlob = v.record ? env.areas.objects.keyOfUri(v.record.uri) : undefined;
  return recordBlob !== undefined && refs.blobKeys.has(recordBlob);
}

/** Every version of a scope known from its records and its blobs. */
async function inventory(env: OpsEnv, registry: Registry, scope: Scope): Promise<Version[]> {
  const byId = new Map<string, Version>();
  const get = (type: string, version: string) => {
    const id = `${type}/${version}`;
    let v = byId.get(id);
    if (!v) byId.set(id, (v = { type, version }));
    return v;
  };
  const recordPrefix = keys.recordPrefix(scope);
  for await (const obj of registry.storage.list(recordPrefix)) {
    const m = /^([^/]+)\/([^/]+)\.json$/.exec(obj.key.slice(recordPrefix.length));
    if (!m) continue;
    const v = get(m[1]!, m[2]!);
    v.recordKey = obj.key;
    try {
      v.record = parseVersionRecord(JSON.parse(decoder.decode((await registry.storage.get(obj.key)) ?? new Uint8Array())));
      v.segment = v.record.segment;
      v.time = Date.parse(v.record.published_at);
    } catch {
      v.recordUnreadable = true;
    }
  }
  const objects: ObjectStorage = env.areas.objects;
  for await (const obj of objects.list(keys.blobPrefix(scope))) {
    const parts = parseBlobKey(obj.key);
    if (!parts || parts.tenant !== scope.tenant || parts.surface !== scope.surface) continue;
    const v = get(parts.type, parts.version);
    v.blobKey = obj.key;
    v.blobSize = obj.size;
    if (v.record) continue;
    // A blob without a record (a publish that stopped before its record): date it by its build time.
    // `build` follows the payload, so the blob is streamed through (never decoded whole: it may exceed a string).
    try {
      const artifact = (await readArtifactHeader(() => objects.read(obj.key)))?.values as { segment?: unknown; build?: { built_at?: unknown } } | undefined;
      if (typeof artifact?.segment === 'string') v.segment = artifact.segment;
      const t = typeof artifact?.build?.built_at === 'string' ? Date.parse(artifact.build.built_at) : Number.NaN;
      if (!Number.isNaN(t)) v.time = t;
    } catch (error) {
      // Undatable (not JSON): kept. A failing read is not a verdict on the blob.
      if (!(error instanceof ArtifactSyntaxError)) throw error;
    }
  }
  return [...byId.values()];
}

function item(env: OpsEnv, v: Version): GcItem {
  const uri = v.record?.uri ?? (v.blobKey !== undefined ? env.areas.objects.uri(v.blobKey) : undefined);
  return {
    type: v.type,
    ...(v.segment !== undefined ? { key: manifestKey(v.type, v.segment) } : {}),
    version: v.version,
    ...(uri !== undefined ? { uri } : {}),
    has_blob: v.blobKey !== undefined,
    has_record: v.recordKey !== undefined,
    ...(v.time !== undefined ? { published_at: new Date(v.time).toISOString() } : {}),
    ...(v.blobSize !== undefined ? { size_bytes: v.blobSize } : {}),
  };
}

async function scopesWithData(env: OpsEnv): Promise<Scope[]> {
  const found = new Map<string, Scope>();
  const add = (t: string, s: string) => found.set(`${t}/${s}`, { tenant: t, surface: s });
  for await (const obj of env.areas.registry.list('records/')) {
    const m = /^records\/([^/]+)\/([^/]+)\//.exec(obj.key);
    if (m) add(m[1]!, m[2]!);
  }
  for await (const obj of env.areas.objects.list('')) {
    const parts = parseBlobKey(obj.key);
    if (parts) add(parts.tenant, parts.surface);
  }
  return [...found.values()];
}

/** The scope's published sharded days' ingest parts, collected (when the env has the staging and canonical areas). */
async function partsOf(env: OpsEnv, scope: Scope, versions: readonly Version[], dryRun: boolean): Promise<{ deleted_parts?: GcPartsItem[] }> {
  const { artifacts, canonical } = env.areas;
  if (!artifacts || !canonical) return {};
  const published = new Set<string>();
  for (const v of versions) for (const input of v.record?.inputs ?? []) published.add(`${input.uri}\n${input.sha256}`);
  return { deleted_parts: await collectParts({ areas: { artifacts, canonical }, sha256: env.sha256, logger: env.logger }, scope, published, dryRun) };
}

interface ResolvedGcOptions {
  readonly keepVersions: number;
  readonly keepHistory: number;
  readonly olderThanMs: number;
  readonly dryRun: boolean;
  readonly pinTtlMs: number;
  readonly markerTtlMs: number;
  readonly batchSize: number;
}

async function gcScope(env: OpsEnv, scope: Scope, options: ResolvedGcOptions): Promise<GcScopeReport> {
  const registry = new Registry(env.areas.registry);
  const now = env.clock.now().getTime();
  const refs = await readRefs(env, registry, scope, options.keepHistory, options.pinTtlMs);
  const versions = await inventory(env, registry, scope);
  const kept = { referenced: 0, newest: 0, young: 0, undated: 0 };
  const candidates: Version[] = [];
  const groups = new Map<string, Version[]>();
  for (const v of versions) {
    if (v.time === undefined || v.recordUnreadable) {
      kept.undated++;
      continue;
    }
    const group = manifestKey(v.type, v.segment ?? DEFAULT_SEGMENT);
    groups.set(group, [...(groups.get(group) ?? []), v]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => b.time! - a.time! || (a.version < b.version ? -1 : 1));
    group.forEach((v, i) => {
      if (i < options.keepVersions) kept.newest++;
      else if (isReferenced(env, refs, v)) kept.referenced++;
      else if (now - v.time! < options.olderThanMs) kept.young++;
      else candidates.push(v);
    });
  }
  candidates.sort((a, b) => a.time! - b.time!);
  const report: GcScopeReport = { tenant: scope.tenant, surface: scope.surface, deleted: [], spared: [], kept, ...(await partsOf(env, scope, versions, options.dryRun)) };
  if (options.dryRun) {
    report.deleted.push(...candidates.map((v) => item(env, v)));
    return report;
  }
  for (let i = 0; i < candidates.length; i += options.batchSize) {
    const batch = candidates.slice(i, i + options.batchSize);
    const uris = new Set<string>();
    for (const v of batch) {
      if (v.record) uris.add(v.record.uri);
      if (v.blobKey !== undefined) uris.add(env.areas.objects.uri(v.blobKey));
    }
    // Marker first, then the references: see gc-fence.ts for why this order makes concurrent publishes safe.
    const marker = await acquireMarker(env, scope, [...uris].sort(), options.markerTtlMs);
    try {
      const fresh = await readRefs(env, registry, scope, options.keepHistory, options.pinTtlMs);
      for (const v of batch) {
        if (isReferenced(env, fresh, v)) {
          report.spared.push(item(env, v));
          continue;
        }
        await marker.keepAlive();
        await writeTombstone(env.areas.registry, {
          v: 1,
          tenant: scope.tenant,
          surface: scope.surface,
          artifact_type: v.type,
          version: v.version,
          ...(v.record ? { uri: v.record.uri } : v.blobKey !== undefined ? { uri: env.areas.objects.uri(v.blobKey) } : {}),
          deleted_at: env.clock.now().toISOString(),
          run_id: env.identity.runId,
          actor: { host: env.identity.host, user: env.identity.user },
          ...(v.record ? { record: v.record } : {}),
        });
        // Record before blob: a crash in between leaves an orphan blob (collected next time), never a record without its blob.
        if (v.recordKey !== undefined) await env.areas.registry.delete(v.recordKey);
        if (v.blobKey !== undefined) await env.areas.objects.delete(v.blobKey);
        report.deleted.push(item(env, v));
        env.logger.info({ ...scope, type: v.type, version: v.version }, 'gc deleted version');
      }
    } finally {
      // What gc did (or the error that stopped it) is the outcome; a marker left behind only makes
      // publishers of these candidates wait until it expires.
      await marker.release().catch((error: unknown) => {
        env.logger.warn({ ...scope, err: (error as Error).message }, `could not delete the gc marker; it expires after ${options.markerTtlMs / 60_000} minutes`);
      });
    }
  }
  for (const key of refs.expiredPins) await env.areas.registry.delete(key);
  return report;
}

/**
 * Deletes published versions (blob and version record) that nothing needs
 * any more (DESIGN §5.6): not referenced by the manifest, the newest
 * `keepHistory` history entries or a publish in flight, not among the
 * `keepVersions` newest of their type and segment, and published longer ago
 * than `olderThanMs`. Leaves a tombstone per deleted version, so `verify` and
 * `rollback` can tell "collected" from "lost". Safe against concurrent
 * publishes and rollbacks: see docs/explanation/publish-protocol.md.
 * @since 0.1.0
 */
export async function collectGarbage(env: OpsEnv, options: GcOptions): Promise<GcReport> {
  const keepVersions = options.keepVersions;
  const keepHistory = options.keepHistory ?? DEFAULT_GC_KEEP_HISTORY;
  const olderThanMs = options.olderThanMs ?? DEFAULT_GC_OLDER_THAN_MS;
  if (!Number.isSafeInteger(keepVersions) || keepVersions < 0) throw new UsageError(`--keep-versions must be an integer ≥ 0, got ${keepVersions}`);
  if (!Number.isSafeInteger(keepHistory) || keepHistory < 0) throw new UsageError(`--keep-history must be an integer ≥ 0, got ${keepHistory}`);
  if (!(olderThanMs >= 0)) throw new UsageError(`--older-than must not be negative`);
  const resolved: ResolvedGcOptions = {
    keepVersions,
    keepHistory,
    olderThanMs,
    dryRun: options.dryRun === true,
    pinTtlMs: options.pinTtlMs ?? PIN_TTL_MS,
    markerTtlMs: options.markerTtlMs ?? MARKER_TTL_MS,
    batchSize: Math.max(1, options.batchSize ?? 200),
  };
  const scopes = options.scope ? [checkScope(options.scope)] : await scopesWithData(env);
  const reports: GcScopeReport[] = [];
  for (const scope of scopes) reports.push(await gcScope(env, scope, resolved));
  const deleted = reports.flatMap((r) => r.deleted);
  return {
    dry_run: resolved.dryRun,
    keep_versions: keepVersions,
    keep_history: keepHistory,
    older_than_seconds: Math.round(olderThanMs / 1000),
    scopes: reports,
    deleted_versions: deleted.length,
    deleted_bytes: deleted.reduce((sum, d) => sum + (d.size_bytes ?? 0), 0),
  };
}
