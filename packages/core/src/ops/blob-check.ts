import { ContractValidationError, DEFAULT_SEGMENT } from '@recsys/contracts';
import type { Scope } from '../keys.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import { ArtifactChangedError, ArtifactSyntaxError, scanArtifact, type ArtifactHeaderV1, type ArtifactScan } from '../validate/artifact-stream.js';

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
      /** Size of the stored bytes. */
      readonly size: number;
      /** Elements of the payload array. */
      readonly rows: number;
      /** Everything but the payload, parsed with the artifact contract. */
      readonly header: ArtifactHeaderV1;
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
 * equals both its declared version and the version in its file name. The
 * blob is streamed ({@link scanArtifact}): memory stays bounded whatever its
 * size. `sha256` defaults to core's portable implementation.
 * @since 0.1.0
 */
export async function checkBlob(objects: ObjectStorage, uri: string, expected: BlobExpectation, options: { sha256?: Sha256Factory | undefined } = {}): Promise<BlobCheck> {
  const key = objects.keyOfUri(uri);
  if (key === undefined) return { ok: false, uri, problem: 'foreign_uri', message: `${uri} is not in the object store at ${objects.location}` };
  const parts = parseBlobKey(key);
  if (!parts) return { ok: false, uri, key, problem: 'foreign_uri', message: `${uri} is not a published blob (expected <tenant>/<surface>/<type>/<version>.json)` };
  const version = expected.version ?? parts.version;
  let scan: ArtifactScan | undefined;
  try {
    scan = await scanArtifact(() => objects.read(key), { sha256: options.sha256 });
  } catch (error) {
    if (error instanceof ArtifactChangedError) return { ok: false, uri, key, problem: 'corrupt_blob', message: `blob ${uri} changed while it was being checked (it is immutable once published): ${error.message}` };
    // Only a verdict on the content is a problem of the blob; a failing read (EIO, network) propagates.
    if (!ContractValidationError.isInstance(error) && !(error instanceof ArtifactSyntaxError)) throw error;
    const detail = ContractValidationError.isInstance(error) ? error.message : `not JSON: ${error.message}`;
    return { ok: false, uri, key, problem: 'corrupt_blob', message: `blob ${uri} does not parse as an artifact: ${detail}` };
  }
  if (!scan) return { ok: false, uri, key, problem: 'missing_blob', message: `blob ${uri} does not exist` };
  const artifact = scan.header;
  const mismatches: string[] = [];
  const { scope } = expected;
  if (artifact.tenant !== scope.tenant || parts.tenant !== scope.tenant) mismatches.push(`tenant ${artifact.tenant}, expected ${scope.tenant}`);
  if (artifact.surface !== scope.surface || parts.surface !== scope.surface) mismatches.push(`surface ${artifact.surface}, expected ${scope.surface}`);
  if (artifact.artifact_type !== parts.type) mismatches.push(`artifact_type ${artifact.artifact_type} stored under ${parts.type}/`);
  if (expected.type !== undefined && artifact.artifact_type !== expected.type) mismatches.push(`artifact_type ${artifact.artifact_type}, expected ${expected.type}`);
  const segment = artifact.segment || DEFAULT_SEGMENT;
  if (expected.segment !== undefined && segment !== expected.segment) mismatches.push(`segment ${segment}, expected ${expected.segment}`);
  if (mismatches.length > 0) return { ok: false, uri, key, problem: 'header_mismatch', message: `blob ${uri} is not the artifact referenced: ${mismatches.join('; ')}` };
  const computed = scan.computedVersion;
  const declared = artifact.build.version;
  if (computed !== declared || computed !== version || parts.version !== version) {
    return { ok: false, uri, key, problem: 'hash_mismatch', message: `blob ${uri} content hashes to ${computed}, but it is published as version ${version}${computed === declared ? '' : ` and declares ${declared}`}` };
  }
  return { ok: true, uri, key, version, size: scan.size, rows: scan.rows, header: artifact, sha256: scan.sha256 };
}
