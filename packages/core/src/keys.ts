import { assertPathSegment } from '@recsys/contracts';
import { UsageError } from './errors.js';

/**
 * The storage layout of DESIGN §4, as key builders. Every variable part is
 * checked with the contracts' path-segment validator, so no key can escape
 * its area whatever a caller passes.
 */

/** Validates a tenant/surface/segment/type/version as a path segment (throws `UsageError`, exit 2). @since 0.1.0 */
export function checkPathSegment(field: string, value: unknown): string {
  try {
    return assertPathSegment(field, value);
  } catch (error) {
    throw new UsageError((error as Error).message, { field, value: String(value) }, { cause: error });
  }
}

/**
 * The key grammar every `ObjectStorage` adapter enforces: `/`-separated
 * parts of `[A-Za-z0-9._@-]`, none empty, `.` or `..`. Such a key cannot
 * climb out of its storage root on a filesystem or in a bucket prefix.
 * @since 0.1.0
 */
export function isStorageKeyPart(part: string): boolean {
  return part !== '.' && part !== '..' && /^[A-Za-z0-9._@-]+$/.test(part);
}

/** Whether `key` follows the storage key grammar ({@link isStorageKeyPart} for every part). @since 0.1.0 */
export function isStorageKey(key: string): boolean {
  return key.split('/').every(isStorageKeyPart);
}

/**
 * Whether `prefix` can start a storage key (what `ObjectStorage.list`
 * accepts): whole valid parts, then possibly the start of one more.
 * @since 0.1.0
 */
export function isStorageKeyPrefix(prefix: string): boolean {
  const slash = prefix.lastIndexOf('/');
  const dir = prefix.slice(0, Math.max(slash, 0));
  const rest = prefix.slice(slash + 1);
  return (dir === '' || isStorageKey(dir)) && /^[A-Za-z0-9._@-]*$/.test(rest);
}

/** Identifies the data set of one run. @since 0.1.0 */
export interface Scope {
  readonly tenant: string;
  readonly surface: string;
}

/** Validates a scope's parts. @since 0.1.0 */
export function checkScope(scope: Scope): Scope {
  return { tenant: checkPathSegment('tenant', scope.tenant), surface: checkPathSegment('surface', scope.surface) };
}

const ts = (s: Scope) => `${checkPathSegment('tenant', s.tenant)}/${checkPathSegment('surface', s.surface)}`;

/** Keys of each storage area, relative to that area's root. @since 0.1.0 */
export const keys = {
  rawDay: (s: Scope, day: string) => `${ts(s)}/exposure.${day}.jsonl`,
  rawFlat: () => 'exposure.jsonl',
  canonicalPartition: (s: Scope, day: string) => `${ts(s)}/exposures/${day}.jsonl`,
  canonicalPrefix: (s: Scope) => `${ts(s)}/exposures/`,
  /** One shard's canonical partition of a sharded ingest (see shard.ts). */
  canonicalShardPartition: (s: Scope, day: string, shard: { index: number; count: number }) => `${ts(s)}/exposures/${day}.shard-${shard.index}-of-${shard.count}.jsonl`,
  quarantine: (s: Scope, day: string) => `${ts(s)}/${day}.jsonl`,
  // Job-mode bookkeeping in the artifacts (staging) area, see pipeline/staging.ts.
  ingestReport: (s: Scope, day: string, shard?: { index: number; count: number }) =>
    `${ts(s)}/_ingest/${day}${shard ? `.shard-${shard.index}-of-${shard.count}` : ''}.json`,
  /** The report of ingest part i of n of a sharded day (written last, after its buckets), see pipeline/ingest-parts.ts. */
  ingestPart: (s: Scope, day: string, part: { index: number; count: number }) => `${ts(s)}/_parts/${day}/${part.index}-of-${part.count}.json`,
  /** Session-hash bucket j of ingest part i of n (format `recsys-bucket/3`, see pipeline/bucket-format.ts). */
  ingestPartBucket: (s: Scope, day: string, part: { index: number; count: number }, bucket: number) => `${ts(s)}/_parts/${day}/${part.index}-of-${part.count}/bucket-${bucket}.bin`,
  /** The rejected lines of ingest part i of n (merge assembles the day's quarantine from them). */
  ingestPartQuarantine: (s: Scope, day: string, part: { index: number; count: number }) => `${ts(s)}/_parts/${day}/${part.index}-of-${part.count}/quarantine.jsonl`,
  /** A failed canonical gate recorded by `validate` (absent once the day passes), see pipeline/validate-record.ts. */
  validateFailure: (s: Scope, day: string, shard?: { index: number; count: number }) =>
    `${ts(s)}/_validate/${day}${shard ? `.shard-${shard.index}-of-${shard.count}` : ''}.failed.json`,
  stagedMeta: (s: Scope, seg: string, type: string, window: string, version: string) =>
    `${ts(s)}/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/${checkPathSegment('version', version)}.meta.json`,
  // Partial aggregates of sharded runs (objects area), see pipeline/partials.ts.
  partial: (s: Scope, seg: string, type: string, window: string, shard: { index: number; count: number }) =>
    `${ts(s)}/_partials/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/${shard.index}-of-${shard.count}.json`,
  partialPrefix: (s: Scope, seg: string, type: string, window: string) => `${ts(s)}/_partials/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/`,
  staged: (s: Scope, seg: string, type: string, window: string, version: string) =>
    `${ts(s)}/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/${checkPathSegment('version', version)}.json`,
  /** The `built_at` the first run to stage a version claimed; every later or concurrent run adopts it. */
  stagedClaim: (s: Scope, seg: string, type: string, window: string, version: string) =>
    `${ts(s)}/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/${checkPathSegment('version', version)}.claim.json`,
  stagedMarker: (s: Scope, seg: string, type: string, window: string) =>
    `${ts(s)}/${checkPathSegment('segment', seg)}/${checkPathSegment('type', type)}/${window}/current.version`,
  blob: (s: Scope, type: string, version: string) => `${ts(s)}/${checkPathSegment('type', type)}/${checkPathSegment('version', version)}.json`,
  blobPrefix: (s: Scope) => `${ts(s)}/`,
  record: (s: Scope, type: string, version: string) => `records/${ts(s)}/${checkPathSegment('type', type)}/${checkPathSegment('version', version)}.json`,
  recordPrefix: (s: Scope) => `records/${ts(s)}/`,
  manifest: (s: Scope) => `current/${ts(s)}/manifest.json`,
  manifestRoot: () => 'current/',
  history: (s: Scope, seq: number) => `history/${ts(s)}/${String(seq).padStart(12, '0')}.json`,
  historyPrefix: (s: Scope) => `history/${ts(s)}/`,
  checkpoint: (s: Scope) => `${ts(s)}.json`,
  // gc coordination (registry area), see ops/gc-fence.ts
  gcMarker: (s: Scope) => `gc/${ts(s)}/marker.json`,
  pin: (s: Scope, id: string) => `gc/${ts(s)}/pins/${checkPathSegment('pin', id)}.json`,
  pinPrefix: (s: Scope) => `gc/${ts(s)}/pins/`,
  tombstone: (s: Scope, type: string, version: string) => `gc/${ts(s)}/collected/${checkPathSegment('type', type)}/${checkPathSegment('version', version)}.json`,
};

/** Parses the sequence number out of a history key. @since 0.1.0 */
export function historySeqOfKey(key: string): number | undefined {
  const m = /\/(\d{12})\.json$/.exec(key);
  return m ? Number(m[1]) : undefined;
}
