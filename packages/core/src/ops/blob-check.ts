import { ContractValidationError, DEFAULT_SEGMENT, parseArtifact, sha256Hex, verifyArtifactVersion, type ArtifactV1 } from '@recsys/contracts';
import type { Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';

const decoder = new TextDecoder();

/** Why a blob reference does not hold. @since 0.1.0 */
export type BlobProblem = 'foreign_uri' | 'missing_blob' | 'corrupt_blob' | 'hash_mismatch' | 'header_mismatch';

/** What a referenced blob must be. @since 0.1.0 */
export interface BlobExpectation {
  readonly scope: Scope;
  readonly type?: string;
  /** `default` for the default segment. */
  readonly segment?: string;
  /** Defaults to the version in the blob's file name. */
  readonly version?: string;
}

/** Outcome of {@link checkBlob}. @since 0.1.0 */
export type BlobCheck =
  | {
      readonly ok: true;
      readonly uri: string;
      readonly key: string;
      readonly version: string;
      readonly bytes: Uint8Array;
      readonly artifact: ArtifactV1;
      /** SHA-256 of the stored bytes (what version records carry). */
      readonly sha256: string;
    }
  | { readonly ok: false; readonly uri: string; readonly key?: string; readonly problem: BlobProblem; readonly message: string };

/**
 * The version a blob URI names: its file name without `.json`
 * (`…/<type>/<version>.json`), whatever the URI scheme.
 * @since 0.1.0
 */
export function versionOfUri(uri: string): string {
  const name = uri.slice(uri.lastIndexOf('/') + 1);
  return name.endsWith('.json') ? name.slice(0, -'.json'.length) : name;
}

/** Splits a blob key `<tenant>/<surface>/<type>/<version>.json`. */
export function parseBlobKey(key: string): { tenant: string; surface: string; type: string; version: string } | undefined {
  const m = /^([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(key);
  return m ? { tenant: m[1]!, surface: m[2]!, type: m[3]!, version: m[4]! } : undefined;
}

/**
 * Checks that a URI resolves to a published blob in `objects` whose contents
 * parse with the artifact contract, whose header (tenant, surface, type,
 * segment) is what the reference expects, and whose recomputed content hash
 * equals both its declared version and the version in its file name.
 * @since 0.1.0
 */
export async function checkBlob(objects: ObjectStorage, uri: string, expected: BlobExpectation): Promise<BlobCheck> {
  const key = objects.keyOfUri(uri);
  if (key === undefined) return { ok: false, uri, problem: 'foreign_uri', message: `${uri} is not in the object store at ${objects.location}` };
  const parts = parseBlobKey(key);
  if (!parts) return { ok: false, uri, key, problem: 'foreign_uri', message: `${uri} is not a published blob (expected <tenant>/<surface>/<type>/<version>.json)` };
  const version = expected.version ?? parts.version;
  const bytes = await objects.get(key);
  if (!bytes) return { ok: false, uri, key, problem: 'missing_blob', message: `blob ${uri} does not exist` };
  let artifact: ArtifactV1;
  try {
    artifact = parseArtifact(JSON.parse(decoder.decode(bytes)));
  } catch (error) {
    const detail = ContractValidationError.isInstance(error) ? error.message : `not JSON: ${(error as Error).message}`;
    return { ok: false, uri, key, problem: 'corrupt_blob', message: `blob ${uri} does not parse as an artifact: ${detail}` };
  }
  const mismatches: string[] = [];
  const { scope } = expected;
  if (artifact.tenant !== scope.tenant || parts.tenant !== scope.tenant) mismatches.push(`tenant ${artifact.tenant}, expected ${scope.tenant}`);
  if (artifact.surface !== scope.surface || parts.surface !== scope.surface) mismatches.push(`surface ${artifact.surface}, expected ${scope.surface}`);
  if (artifact.artifact_type !== parts.type) mismatches.push(`artifact_type ${artifact.artifact_type} stored under ${parts.type}/`);
  if (expected.type !== undefined && artifact.artifact_type !== expected.type) mismatches.push(`artifact_type ${artifact.artifact_type}, expected ${expected.type}`);
  const segment = artifact.segment || DEFAULT_SEGMENT;
  if (expected.segment !== undefined && segment !== expected.segment) mismatches.push(`segment ${segment}, expected ${expected.segment}`);
  if (mismatches.length > 0) return { ok: false, uri, key, problem: 'header_mismatch', message: `blob ${uri} is not the artifact referenced: ${mismatches.join('; ')}` };
  const check = await verifyArtifactVersion(artifact);
  const computed = check.ok ? check.version : check.computed;
  if (!check.ok || computed !== version || parts.version !== version) {
    return { ok: false, uri, key, problem: 'hash_mismatch', message: `blob ${uri} content hashes to ${computed}, but it is published as version ${version}${check.ok ? '' : ` and declares ${check.declared}`}` };
  }
  return { ok: true, uri, key, version, bytes, artifact, sha256: await sha256Hex(bytes) };
}
