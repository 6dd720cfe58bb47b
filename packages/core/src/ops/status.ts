import { DEFAULT_SEGMENT, parseManifestKey, type VersionRecordV1 } from '@recsys/contracts';
import { RecsysError } from '../errors.js';
import { formatDuration } from './duration.js';
import { checkScope, type Scope } from '../keys.js';
import type { Clock, ObjectStorage } from '../ports.js';
import { Registry } from '../registry/registry.js';
import { checkBlob, versionOfUri, type BlobProblem } from './blob-check.js';
import { ArtifactSyntaxError, readArtifactHeader, type ArtifactOutline } from '../validate/artifact-stream.js';


/** Default freshness SLO of `status`: a daily job plus two hours of slack. @since 0.1.0 */
export const DEFAULT_MAX_AGE_MS = 26 * 3_600_000;

/**
 * How far `status` looked at a served blob: `unverified` = it exists and has
 * the byte size its version record says (cheap; the content hash was not
 * recomputed), `verified` = `--verify` parsed it and recomputed its hash
 * (what `verify` does), `failed` = a problem was found (see `problem`).
 * @since 0.1.0
 */
export type BlobCheckLevel = 'unverified' | 'verified' | 'failed';

/** Why a served blob cannot be served as recorded. @since 0.1.0 */
export type StatusProblemKind = BlobProblem | 'missing_record' | 'size_mismatch' | 'record_mismatch';

/** One served artifact. @since 0.1.0 */
export interface ArtifactStatus {
  readonly key: string;
  readonly type: string;
  readonly segment: string;
  readonly version: string;
  readonly uri: string;
  readonly window?: { readonly start: string; readonly end: string };
  /**
   * Data age: seconds from the end of the served window to now (0 while the
   * window has not ended yet). Absent when no window is known.
   * @since 0.1.0
   */
  readonly data_age_seconds?: number;
  /** Data age within the max age. A key without a known window is not fresh. @since 0.1.0 */
  readonly fresh: boolean;
  /** Why this key is not fresh. @since 0.1.0 */
  readonly stale_reason?: string;
  /** When this version was first published (its version record). */
  readonly published_at?: string;
  /** Rows in the payload (items, neighbor rows or users). */
  readonly items?: number;
  /** Bytes of the stored blob. @since 0.1.0 */
  readonly size_bytes?: number;
  /** How far the blob was checked. @since 0.1.0 */
  readonly check: BlobCheckLevel;
  /** Set when the blob cannot be served as recorded (run `verify`). */
  readonly problem?: string;
  /** Machine-readable kind of {@link ArtifactStatus.problem}. @since 0.1.0 */
  readonly problem_kind?: StatusProblemKind;
}

/** Freshness of one tenant/surface. @since 0.1.0 */
export interface ScopeStatus {
  readonly tenant: string;
  readonly surface: string;
  readonly manifest_uri: string;
  readonly manifest_exists: boolean;
  readonly updated_at?: string;
  /** Seconds since the manifest was written (same as `manifest_age_seconds`; kept for 0.1 consumers). */
  readonly age_seconds?: number;
  /** Seconds since the manifest was written: when the pointer last moved, not how old the data is. @since 0.1.0 */
  readonly manifest_age_seconds?: number;
  /** Data age of the oldest served key (the one that decides freshness). @since 0.1.0 */
  readonly data_age_seconds?: number;
  /** Earliest window end among the served keys. @since 0.1.0 */
  readonly oldest_window_end?: string;
  /** Every served key's data age is within the max age (and there is at least one). */
  readonly fresh: boolean;
  /** Why it is not fresh. */
  readonly stale_reason?: string;
  /** Served keys with a {@link ArtifactStatus.problem}. @since 0.1.0 */
  readonly problems: number;
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
  /** Served keys with a problem, over every scope (the command exits 1). @since 0.1.0 */
  readonly problems: number;
  /** Whether blobs were hashed (`--verify`) or only checked for existence and size. @since 0.1.0 */
  readonly verified: boolean;
  readonly scopes: ScopeStatus[];
}

/** Options of {@link collectStatus}. @since 0.1.0 */
export interface StatusOptions {
  /** One tenant/surface; every scope with a manifest when absent. */
  readonly scope?: Scope | undefined;
  readonly maxAgeMs?: number | undefined;
  /** Parse and hash every served blob (as `verify` does) instead of checking existence and size only. @since 0.1.0 */
  readonly verify?: boolean | undefined;
}

/** What {@link collectStatus} reads. @since 0.1.0 */
export interface StatusEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage };
  readonly clock: Clock;
}

/**
 * Data age of a window at `nowMs`: milliseconds from the window's end to
 * now, 0 while the window has not ended. This is the freshness rule of
 * `status` (DESIGN §5.6): how old the newest data served is, not when the
 * pointer last moved, so a rollback or a republish of an old window is not
 * "fresh". `report` uses the same rule.
 * @since 0.1.0
 */
export function dataAgeMs(window: { readonly end: string }, nowMs: number): number {
  return Math.max(0, nowMs - Date.parse(window.end));
}

/**
 * Whether a window is fresh at `nowMs` under a max age (inclusive: a data
 * age equal to the max age is still fresh).
 * @since 0.1.0
 */
export function isFresh(window: { readonly end: string }, nowMs: number, maxAgeMs: number): boolean {
  return dataAgeMs(window, nowMs) <= maxAgeMs;
}

interface Peek {
  rows?: number;
  window?: { start: string; end: string };
  size?: number;
  problem?: string;
  kind?: StatusProblemKind;
}

/**
 * Rows, window and size of a served blob, for a probe that may run every
 * minute: a plain JSON parse, no contract validation or hash recomputation
 * (that is `verify`'s job, or `status --verify`).
 */
async function peekBlob(objects: ObjectStorage, uri: string): Promise<Peek> {
  const key = objects.keyOfUri(uri);
  if (key === undefined) return { problem: `${uri} is not in the object store at ${objects.location}`, kind: 'foreign_uri' };
  // Streamed (structure only): a blob may be larger than memory, or than a string.
  let outline: ArtifactOutline | undefined;
  try {
    outline = await readArtifactHeader(() => objects.read(key));
  } catch (error) {
    if (!(error instanceof ArtifactSyntaxError)) throw error;
    const size = (await objects.stat(key))?.size;
    return { ...(size !== undefined ? { size } : {}), problem: `blob ${uri} is not JSON: ${error.message}`, kind: 'corrupt_blob' };
  }
  if (!outline) return { problem: `blob ${uri} does not exist`, kind: 'missing_blob' };
  const window = outline.values.window as { start: string; end: string } | undefined;
  if (outline.payloadKey === undefined) return { size: outline.size, problem: `blob ${uri} has no payload rows`, kind: 'corrupt_blob' };
  return { rows: outline.rows, size: outline.size, ...(window ? { window } : {}) };
}

/** `status --verify`: the full check of `verify` (contract, header, content hash), plus the record's sha256 and size. */
async function verifyBlob(objects: ObjectStorage, scope: Scope, uri: string, type: string, segment: string, record: VersionRecordV1 | undefined): Promise<Peek> {
  const check = await checkBlob(objects, uri, { scope, type, segment: segment || DEFAULT_SEGMENT, version: versionOfUri(uri) });
  if (!check.ok) return { problem: check.message, kind: check.problem };
  const peek: Peek = { size: check.size, window: check.header.window, rows: check.rows };
  if (record && record.sha256 !== check.sha256) return { ...peek, problem: `blob ${uri} has sha256 ${check.sha256}; its version record says ${record.sha256}`, kind: 'record_mismatch' };
  return peek;
}

/** Same keys with the same URIs (key order is irrelevant). */
export function sameMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

const secs = (ms: number) => Math.round(ms / 1000);

async function artifactStatus(env: StatusEnv, registry: Registry, scope: Scope, key: string, uri: string, maxAgeMs: number, now: number, verify: boolean): Promise<ArtifactStatus> {
  const parts = parseManifestKey(key);
  const type = parts?.type ?? key;
  const segment = parts?.segment ?? '';
  const version = versionOfUri(uri);
  let record: VersionRecordV1 | undefined;
  let recordProblem: string | undefined;
  try {
    record = await registry.readRecord(scope, type, version);
    if (!record) recordProblem = `no version record for ${type} ${version} (publish writes it before moving the pointer)`;
  } catch (error) {
    recordProblem = `version record of ${type} ${version} is unreadable: ${(error as Error).message}`;
  }
  const served = verify ? await verifyBlob(env.areas.objects, scope, uri, type, segment, record) : await peekBlob(env.areas.objects, uri);
  let problem = served.problem;
  let kind = served.kind;
  // The cheap integrity check: the stored blob has the size its record says.
  if (problem === undefined && record && served.size !== undefined && served.size !== record.size_bytes) {
    problem = `blob ${uri} has ${served.size} bytes; its version record says ${record.size_bytes}`;
    kind = 'size_mismatch';
  }
  if (problem === undefined && recordProblem !== undefined) {
    problem = recordProblem;
    kind = 'missing_record';
  }
  const window = record?.window ?? served.window;
  const ageMs = window ? dataAgeMs(window, now) : undefined;
  const fresh = ageMs !== undefined && ageMs <= maxAgeMs;
  const staleReason = ageMs === undefined ? 'no window known (no version record and no readable blob)' : fresh ? undefined : `data is ${formatDuration(ageMs)} old (${secs(ageMs)} s; window ends ${window!.end}), more than the max age of ${formatDuration(maxAgeMs)} (${secs(maxAgeMs)} s)`;
  return {
    key,
    type,
    segment,
    version,
    uri,
    ...(window ? { window } : {}),
    ...(ageMs !== undefined ? { data_age_seconds: secs(ageMs) } : {}),
    fresh,
    ...(staleReason !== undefined ? { stale_reason: staleReason } : {}),
    ...(record ? { published_at: record.published_at } : {}),
    ...(served.rows !== undefined ? { items: served.rows } : {}),
    ...(served.size !== undefined ? { size_bytes: served.size } : {}),
    check: problem !== undefined ? 'failed' : verify ? 'verified' : 'unverified',
    ...(problem !== undefined ? { problem, problem_kind: kind! } : {}),
  };
}

async function scopeStatus(env: StatusEnv, registry: Registry, scope: Scope, maxAgeMs: number, now: number, verify: boolean): Promise<ScopeStatus> {
  const manifestUri = registry.manifestUri(scope);
  let stored;
  try {
    stored = await registry.readManifest(scope);
  } catch (error) {
    if (RecsysError.isInstance(error) && error.kind === 'integrity') {
      return { tenant: scope.tenant, surface: scope.surface, manifest_uri: manifestUri, manifest_exists: true, fresh: false, stale_reason: error.message, problems: 0, manifest_lags_history: false, artifacts: [] };
    }
    throw error;
  }
  const head = await registry.latestHistory(scope);
  const lastHistory = head
    ? { seq: head.seq, at: head.at, reason: head.reason, ...(head.message !== undefined ? { message: head.message } : {}), run_id: head.run_id, actor: { host: head.actor.host, user: head.actor.user } }
    : undefined;
  const base = { tenant: scope.tenant, surface: scope.surface, manifest_uri: manifestUri, ...(lastHistory ? { last_history: lastHistory } : {}) };
  if (!stored) {
    return { ...base, manifest_exists: false, fresh: false, stale_reason: head ? `no manifest yet, although history has entry ${head.seq}` : 'no manifest: nothing published', problems: 0, manifest_lags_history: head !== undefined, artifacts: [] };
  }
  const { manifest } = stored;
  const lags = head !== undefined && !sameMap(head.next, manifest.current);
  const manifestAge = secs(Math.max(0, now - Date.parse(manifest.updated_at)));
  const artifacts: ArtifactStatus[] = [];
  for (const [key, uri] of Object.entries(manifest.current)) artifacts.push(await artifactStatus(env, registry, scope, key, uri, maxAgeMs, now, verify));
  // The oldest served key decides: a service answering from one stale artifact is serving stale data.
  const aged = artifacts.filter((a) => a.data_age_seconds !== undefined && a.window);
  const oldest = aged.reduce<ArtifactStatus | undefined>((o, a) => (o === undefined || a.data_age_seconds! > o.data_age_seconds! ? a : o), undefined);
  const stale = artifacts.filter((a) => !a.fresh);
  const fresh = artifacts.length > 0 && stale.length === 0;
  const staleReason =
    artifacts.length === 0 ? 'the manifest serves no artifact' : stale.length === 0 ? undefined : stale.map((a) => `${a.key}: ${a.stale_reason!}`).join('; ');
  return {
    ...base,
    manifest_exists: true,
    updated_at: manifest.updated_at,
    age_seconds: manifestAge,
    manifest_age_seconds: manifestAge,
    ...(oldest ? { data_age_seconds: oldest.data_age_seconds!, oldest_window_end: oldest.window!.end } : {}),
    fresh,
    ...(staleReason !== undefined ? { stale_reason: staleReason } : {}),
    problems: artifacts.filter((a) => a.problem !== undefined).length,
    manifest_lags_history: lags,
    artifacts,
  };
}

/**
 * Freshness of every tenant/surface in the registry, or of one (DESIGN
 * §5.6): the **data age** of each served key (now minus the end of its
 * window) against `maxAgeMs`, the manifest's age (reported, not judged),
 * the served versions with their windows and sizes, a cheap check that each
 * served blob exists with the size its record says (`verify: true` hashes
 * it instead), and the last history entry. A requested scope without a
 * manifest is stale, and so is a registry without any manifest.
 * @since 0.1.0
 */
export async function collectStatus(env: StatusEnv, options: StatusOptions = {}): Promise<StatusReport> {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const verify = options.verify === true;
  const registry = new Registry(env.areas.registry);
  const now = env.clock.now().getTime();
  const scopes = options.scope ? [checkScope(options.scope)] : await registry.scopes();
  const out: ScopeStatus[] = [];
  for (const scope of scopes) out.push(await scopeStatus(env, registry, scope, maxAgeMs, now, verify));
  // An empty registry serves nothing: as a probe, that is stale too.
  return {
    checked_at: new Date(now).toISOString(),
    max_age_seconds: secs(maxAgeMs),
    stale: out.length === 0 || out.some((s) => !s.fresh),
    problems: out.reduce((n, s) => n + s.problems, 0),
    verified: verify,
    scopes: out,
  };
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
 * node-exporter textfile collector. Alert on
 * `time() - recsys_artifact_window_end_timestamp_seconds` (data age): it
 * keeps growing even when the probe itself stops writing the file, which an
 * age computed by the probe would not.
 * @since 0.1.0
 */
export function renderPrometheus(report: StatusReport): string {
  const family = (name: string, help: string) => ({ name, help, samples: [] as string[] });
  const age = family('recsys_manifest_age_seconds', 'Seconds since the manifest of a tenant/surface was last updated.');
  const stale = family('recsys_manifest_stale', '1 when a tenant/surface is not fresh: its manifest is missing or the data age of a served artifact exceeds the max age of the status check, else 0.');
  const maxAge = family('recsys_manifest_max_age_seconds', 'The freshness SLO (max data age) the status check used.');
  const dataAge = family('recsys_data_age_seconds', 'Data age of a tenant/surface: seconds from the end of its oldest served window to the status check.');
  const items = family('recsys_artifact_items', 'Rows in the served artifact payload (items, neighbor rows or users).');
  const published = family('recsys_last_publish_timestamp_seconds', 'Unix time at which the served version of an artifact was published.');
  const windowEnd = family('recsys_artifact_window_end_timestamp_seconds', 'Unix time of the end of the served artifact window; time() minus this is the data age.');
  const artifactStale = family('recsys_artifact_stale', '1 when the data age of the served artifact exceeds the max age of the status check, else 0.');
  const size = family('recsys_artifact_size_bytes', 'Bytes of the served artifact blob.');
  const problem = family('recsys_artifact_problem', '1 when the served blob is missing, unreadable or not what its version record says (run verify), else 0.');
  const checked = family('recsys_status_checked_timestamp_seconds', 'Unix time of the status check that wrote these metrics.');
  const families = [age, stale, maxAge, items, published, dataAge, windowEnd, artifactStale, size, problem, checked];
  checked.samples.push(`${checked.name} ${Date.parse(report.checked_at) / 1000}`);
  for (const s of report.scopes) {
    const scopeLabels = labels({ tenant: s.tenant, surface: s.surface });
    if (s.age_seconds !== undefined) age.samples.push(`${age.name}${scopeLabels} ${s.age_seconds}`);
    stale.samples.push(`${stale.name}${scopeLabels} ${s.fresh ? 0 : 1}`);
    maxAge.samples.push(`${maxAge.name}${scopeLabels} ${report.max_age_seconds}`);
    if (s.data_age_seconds !== undefined) dataAge.samples.push(`${dataAge.name}${scopeLabels} ${s.data_age_seconds}`);
    for (const a of s.artifacts) {
      const artifactLabels = labels({ tenant: s.tenant, surface: s.surface, type: a.type, segment: a.segment });
      if (a.items !== undefined) items.samples.push(`${items.name}${artifactLabels} ${a.items}`);
      if (a.published_at !== undefined) published.samples.push(`${published.name}${artifactLabels} ${Date.parse(a.published_at) / 1000}`);
      if (a.window !== undefined) windowEnd.samples.push(`${windowEnd.name}${artifactLabels} ${Date.parse(a.window.end) / 1000}`);
      artifactStale.samples.push(`${artifactStale.name}${artifactLabels} ${a.fresh ? 0 : 1}`);
      if (a.size_bytes !== undefined) size.samples.push(`${size.name}${artifactLabels} ${a.size_bytes}`);
      problem.samples.push(`${problem.name}${artifactLabels} ${a.problem === undefined ? 0 : 1}`);
    }
  }
  return families.map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`, ...f.samples].join('\n')).join('\n') + '\n';
}
