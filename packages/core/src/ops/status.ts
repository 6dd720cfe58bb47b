import { parseManifestKey } from '@recsys/contracts';
import { RecsysError } from '../errors.js';
import { checkScope, type Scope } from '../keys.js';
import type { Clock, ObjectStorage } from '../ports.js';
import { Registry } from '../registry/registry.js';
import { versionOfUri } from './blob-check.js';

const decoder = new TextDecoder();

/** Default freshness SLO of `status`: a daily job plus two hours of slack. @since 0.1.0 */
export const DEFAULT_MAX_AGE_MS = 26 * 3_600_000;

/** One served artifact. @since 0.1.0 */
export interface ArtifactStatus {
  readonly key: string;
  readonly type: string;
  readonly segment: string;
  readonly version: string;
  readonly uri: string;
  readonly window?: { readonly start: string; readonly end: string };
  /** When this version was first published (its version record). */
  readonly published_at?: string;
  /** Rows in the payload (items, neighbor rows or users). */
  readonly items?: number;
  /** Set when the blob cannot be served (run `verify`). */
  readonly problem?: string;
}

/** Freshness of one tenant/surface. @since 0.1.0 */
export interface ScopeStatus {
  readonly tenant: string;
  readonly surface: string;
  readonly manifest_uri: string;
  readonly manifest_exists: boolean;
  readonly updated_at?: string;
  readonly age_seconds?: number;
  readonly fresh: boolean;
  /** Why it is not fresh. */
  readonly stale_reason?: string;
  /** The newest history entry claimed a change the manifest does not show yet (a crashed publish; the next publish or rollback rolls it forward). */
  readonly manifest_lags_history: boolean;
  readonly artifacts: ArtifactStatus[];
  readonly last_history?: { readonly seq: number; readonly at: string; readonly reason: string; readonly message?: string; readonly run_id: string; readonly actor: { readonly host: string; readonly user: string } };
}

/** Result of {@link collectStatus}. @since 0.1.0 */
export interface StatusReport {
  readonly checked_at: string;
  readonly max_age_seconds: number;
  /** True when any scope is not fresh, or there is none (the command exits 5). */
  readonly stale: boolean;
  readonly scopes: ScopeStatus[];
}

/** Options of {@link collectStatus}. @since 0.1.0 */
export interface StatusOptions {
  /** One tenant/surface; every scope with a manifest when absent. */
  readonly scope?: Scope | undefined;
  readonly maxAgeMs?: number | undefined;
}

/** What {@link collectStatus} reads. @since 0.1.0 */
export interface StatusEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage };
  readonly clock: Clock;
}

/**
 * Rows and window of a served blob, for a probe that may run every minute:
 * a plain JSON parse, no contract validation or hash recomputation (that is
 * `verify`'s job).
 */
async function peekBlob(objects: ObjectStorage, uri: string): Promise<{ rows?: number; window?: { start: string; end: string }; problem?: string }> {
  const key = objects.keyOfUri(uri);
  if (key === undefined) return { problem: `${uri} is not in the object store at ${objects.location}` };
  const bytes = await objects.get(key);
  if (!bytes) return { problem: `blob ${uri} does not exist` };
  try {
    const artifact = JSON.parse(decoder.decode(bytes)) as Partial<Record<'items' | 'neighbors' | 'users', unknown[]>> & { window?: { start: string; end: string } };
    const rows = artifact.items ?? artifact.neighbors ?? artifact.users;
    if (!Array.isArray(rows)) return { problem: `blob ${uri} has no payload rows` };
    return { rows: rows.length, ...(artifact.window ? { window: artifact.window } : {}) };
  } catch (error) {
    return { problem: `blob ${uri} is not JSON: ${(error as Error).message}` };
  }
}

/** Same keys with the same URIs (key order is irrelevant). */
export function sameMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

async function scopeStatus(env: StatusEnv, registry: Registry, scope: Scope, maxAgeMs: number, now: number): Promise<ScopeStatus> {
  const manifestUri = registry.manifestUri(scope);
  let stored;
  try {
    stored = await registry.readManifest(scope);
  } catch (error) {
    if (RecsysError.isInstance(error) && error.kind === 'integrity') {
      return { tenant: scope.tenant, surface: scope.surface, manifest_uri: manifestUri, manifest_exists: true, fresh: false, stale_reason: error.message, manifest_lags_history: false, artifacts: [] };
    }
    throw error;
  }
  const head = await registry.latestHistory(scope);
  const lastHistory = head
    ? { seq: head.seq, at: head.at, reason: head.reason, ...(head.message !== undefined ? { message: head.message } : {}), run_id: head.run_id, actor: { host: head.actor.host, user: head.actor.user } }
    : undefined;
  const base = { tenant: scope.tenant, surface: scope.surface, manifest_uri: manifestUri, ...(lastHistory ? { last_history: lastHistory } : {}) };
  if (!stored) {
    return { ...base, manifest_exists: false, fresh: false, stale_reason: head ? `no manifest yet, although history has entry ${head.seq}` : 'no manifest: nothing published', manifest_lags_history: head !== undefined, artifacts: [] };
  }
  const { manifest } = stored;
  const lags = head !== undefined && !sameMap(head.next, manifest.current);
  const ageMs = now - Date.parse(manifest.updated_at);
  const artifacts: ArtifactStatus[] = [];
  for (const [key, uri] of Object.entries(manifest.current)) {
    const parts = parseManifestKey(key);
    const type = parts?.type ?? key;
    const segment = parts?.segment ?? '';
    const version = versionOfUri(uri);
    let record;
    try {
      record = await registry.readRecord(scope, type, version);
    } catch {
      record = undefined;
    }
    const served = await peekBlob(env.areas.objects, uri);
    const window = record?.window ?? served.window;
    artifacts.push({
      key,
      type,
      segment,
      version,
      uri,
      ...(window ? { window } : {}),
      ...(record ? { published_at: record.published_at } : {}),
      ...(served.rows !== undefined ? { items: served.rows } : {}),
      ...(served.problem !== undefined ? { problem: served.problem } : {}),
    });
  }
  const fresh = ageMs <= maxAgeMs;
  return {
    ...base,
    manifest_exists: true,
    updated_at: manifest.updated_at,
    age_seconds: Math.max(0, Math.round(ageMs / 1000)),
    fresh,
    ...(fresh ? {} : { stale_reason: `manifest is ${Math.round(ageMs / 1000)} s old, more than the max age of ${Math.round(maxAgeMs / 1000)} s` }),
    manifest_lags_history: lags,
    artifacts,
  };
}

/**
 * Freshness of every tenant/surface in the registry, or of one (DESIGN
 * §5.6): manifest age against `maxAgeMs`, the served versions with their
 * windows and sizes, and the last history entry. A requested scope without a
 * manifest is stale, and so is a registry without any manifest.
 * @since 0.1.0
 */
export async function collectStatus(env: StatusEnv, options: StatusOptions = {}): Promise<StatusReport> {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const registry = new Registry(env.areas.registry);
  const now = env.clock.now().getTime();
  const scopes = options.scope ? [checkScope(options.scope)] : await registry.scopes();
  const out: ScopeStatus[] = [];
  for (const scope of scopes) out.push(await scopeStatus(env, registry, scope, maxAgeMs, now));
  // An empty registry serves nothing: as a probe, that is stale too.
  return { checked_at: new Date(now).toISOString(), max_age_seconds: Math.round(maxAgeMs / 1000), stale: out.length === 0 || out.some((s) => !s.fresh), scopes: out };
}

/** Escapes a Prometheus label value (backslash, double quote, newline). */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  return `{${Object.entries(pairs).map(([k, v]) => `${k}="${label(v)}"`).join(',')}}`;
}

/**
 * Renders a status report as Prometheus text exposition format for the
 * node-exporter textfile collector.
 * @since 0.1.0
 */
export function renderPrometheus(report: StatusReport): string {
  const family = (name: string, help: string) => ({ name, help, samples: [] as string[] });
  const age = family('recsys_manifest_age_seconds', 'Seconds since the manifest of a tenant/surface was last updated.');
  const stale = family('recsys_manifest_stale', '1 when the manifest is missing or older than the max age of the status check, else 0.');
  const maxAge = family('recsys_manifest_max_age_seconds', 'The freshness SLO the status check used.');
  const items = family('recsys_artifact_items', 'Rows in the served artifact payload (items, neighbor rows or users).');
  const published = family('recsys_last_publish_timestamp_seconds', 'Unix time at which the served version of an artifact was published.');
  const families = [age, stale, maxAge, items, published];
  for (const s of report.scopes) {
    const scopeLabels = labels({ tenant: s.tenant, surface: s.surface });
    if (s.age_seconds !== undefined) age.samples.push(`${age.name}${scopeLabels} ${s.age_seconds}`);
    stale.samples.push(`${stale.name}${scopeLabels} ${s.fresh ? 0 : 1}`);
    maxAge.samples.push(`${maxAge.name}${scopeLabels} ${report.max_age_seconds}`);
    for (const a of s.artifacts) {
      const artifactLabels = labels({ tenant: s.tenant, surface: s.surface, type: a.type, segment: a.segment });
      if (a.items !== undefined) items.samples.push(`${items.name}${artifactLabels} ${a.items}`);
      if (a.published_at !== undefined) published.samples.push(`${published.name}${artifactLabels} ${Date.parse(a.published_at) / 1000}`);
    }
  }
  return families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`, ...f.samples].join('\n')).join('\n') + '\n';
}
