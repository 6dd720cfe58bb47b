import { PATH_SEGMENT_PATTERN } from './path-segment.js';

/**
 * Every artifact type this contract version defines.
 * @since 0.1.0
 */
export const ARTIFACT_TYPES = ['popularity', 'cooc', 'implicit', 'session_seq', 'content_sim'] as const;

/** One of {@link ARTIFACT_TYPES}. @since 0.1.0 */
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

/**
 * Name of the default segment. Artifacts built without `--segment` carry
 * `"segment": "default"`, as the Go implementation does.
 * @since 0.1.0
 */
export const DEFAULT_SEGMENT = 'default';

/** True when `value` is one of the v1 artifact types. @since 0.1.0 */
export function isArtifactType(value: unknown): value is ArtifactType {
  return typeof value === 'string' && (ARTIFACT_TYPES as readonly string[]).includes(value);
}

/**
 * Key under which an artifact is listed in `manifest.current`: the type for
 * the default (or absent) segment, `<type>@<segment>` otherwise.
 * @since 0.1.0
 */
export function manifestKey(type: string, segment?: string): string {
  return segment === undefined || segment === '' || segment === DEFAULT_SEGMENT ? type : `${type}@${segment}`;
}

/** A manifest key split by {@link parseManifestKey}. @since 0.1.0 */
export interface ManifestKeyParts {
  /** The artifact type, e.g. `popularity`. */
  readonly type: string;
  /** The segment; `default` for a bare type key. */
  readonly segment: string;
}

/** Pattern every `manifest.current` key matches: `<type>` or `<type>@<segment>`. @since 0.1.0 */
export const MANIFEST_KEY_PATTERN = /^[a-z][a-z0-9_]{0,63}(@[A-Za-z0-9._-]{1,128})?$/;

/**
 * Splits a manifest key into type and segment; `undefined` for a malformed key.
 * @since 0.1.0
 */
export function parseManifestKey(key: string): ManifestKeyParts | undefined {
  if (!MANIFEST_KEY_PATTERN.test(key)) return undefined;
  const at = key.indexOf('@');
  if (at === -1) return { type: key, segment: DEFAULT_SEGMENT };
  const segment = key.slice(at + 1);
  if (segment === '.' || segment === '..' || segment === DEFAULT_SEGMENT || !PATH_SEGMENT_PATTERN.test(segment)) return undefined;
  return { type: key.slice(0, at), segment };
}
