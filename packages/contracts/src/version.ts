import type { ArtifactV1 } from './schemas/artifacts.js';
import { serializeForVersion } from './serialize.js';

const encoder = new TextEncoder();

/**
 * Lowercase hex SHA-256 of `data`, via Web Crypto (works in Node ≥ 20,
 * browsers, Deno, Bun and edge runtimes).
 * @since 0.1.0
 */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  const view = new Uint8Array(digest);
  let hex = '';
  for (const b of view) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * The content-hash version of an artifact (DESIGN §3.4): SHA-256 of
 * {@link serializeForVersion}. Identical to the Go implementation's version
 * for the same content. `build` is ignored.
 * @since 0.1.0
 */
export function computeArtifactVersion(artifact: ArtifactV1): Promise<string> {
  return sha256Hex(serializeForVersion(artifact));
}

/**
 * Result of {@link verifyArtifactVersion}.
 * @since 0.1.0
 */
export type VersionCheck =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly declared: string; readonly computed: string };

/**
 * Recomputes an artifact's content hash and compares it with the
 * `build.version` it declares.
 * @since 0.1.0
 */
export async function verifyArtifactVersion(artifact: ArtifactV1): Promise<VersionCheck> {
  const computed = await computeArtifactVersion(artifact);
  const declared = artifact.build.version;
  return computed === declared ? { ok: true, version: computed } : { ok: false, declared, computed };
}
