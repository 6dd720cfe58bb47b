import type { ArtifactBuild, ArtifactV1 } from './schemas/artifacts.js';

/**
 * Go's `encoding/json` escapes these characters (HTML-safe output and the two
 * JavaScript line terminators); everything else is escaped as `JSON.stringify`
 * does, which matches Go ≥ 1.22 (where `\b` and `\f` became short escapes).
 * They can only occur inside strings in JSON text, so escaping them in the
 * finished text is equivalent to escaping each string.
 */
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
const GO_ESCAPE_RE = /[<>&\u2028\u2029]/g;

/**
 * Applies Go's extra string escapes to JSON text produced by `JSON.stringify`.
 * @since 0.1.0
 */
export function goEscapeJson(json: string): string {
  return json.replace(GO_ESCAPE_RE, (c) => GO_ESCAPES[c]!);
}

/** An unpaired UTF-16 surrogate (not representable in UTF-8). */
const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * `JSON.stringify` replacer: Go strings are UTF-8, so Go's JSON decoder turns
 * an unpaired surrogate (e.g. `"\ud800"` in the input) into U+FFFD; do the
 * same so such ids hash as they would in the Go implementation.
 */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(LONE_SURROGATE_RE, '\uFFFD') : value;
}

/** Keys of the `build` block used while hashing. */
const BLANK_BUILD = { built_at: '', version: '' } as const;

/**
 * Rebuilds an artifact with its keys in the contract's exact order
 * (`v, artifact_type, tenant, surface, segment?, window, <payload>, build`),
 * dropping an empty `segment` and an empty `build.source_hash`.
 * @since 0.1.0
 */
export function orderArtifact<A extends ArtifactV1>(artifact: A, build: ArtifactBuild = artifact.build): A {
  const out: Record<string, unknown> = {
    v: artifact.v,
    artifact_type: artifact.artifact_type,
    tenant: artifact.tenant,
    surface: artifact.surface,
  };
  if (artifact.segment !== undefined && artifact.segment !== '') out.segment = artifact.segment;
  out.window = { start: artifact.window.start, end: artifact.window.end };
  switch (artifact.artifact_type) {
    case 'popularity':
      out.items = artifact.items.map((i) => ({ item_id: i.item_id, count: i.count }));
      break;
    case 'cooc':
      out.neighbors = artifact.neighbors.map((row) => ({
        item_id: row.item_id,
        items: row.items.map((i) => ({ item_id: i.item_id, count: i.count })),
      }));
      break;
    case 'implicit':
    case 'session_seq':
      out.users = artifact.users.map((u) => ({
        user_id: u.user_id,
        items: u.items.map((i) => ({ item_id: i.item_id, score: i.score })),
      }));
      break;
    case 'content_sim':
      out.items = artifact.items.map((i) => ({ item_id: i.item_id, tags: [...i.tags] }));
      break;
  }
  const orderedBuild: Record<string, string> = { built_at: build.built_at, version: build.version };
  if (build.source_hash !== undefined && build.source_hash !== '') orderedBuild.source_hash = build.source_hash;
  out.build = orderedBuild;
  return out as A;
}

/**
 * The exact bytes (as a string) whose SHA-256 is an artifact's version:
 * compact JSON, contract key order, Go string escaping, and `build`
 * replaced by `{"built_at":"","version":""}`.
 * @since 0.1.0
 */
export function serializeForVersion(artifact: ArtifactV1): string {
  return goEscapeJson(JSON.stringify(orderArtifact(artifact, BLANK_BUILD), wellFormed));
}

/**
 * The published blob: the artifact with the same key order and escaping as
 * {@link serializeForVersion}, the real `build`, no trailing newline;
 * pretty-printed with 2-space indent (the default here, as the Go
 * implementation writes it) or, with `{ format: 'compact' }`, without any
 * whitespace (what the pipeline publishes by default, DESIGN §3.4). Blobs
 * may be either: consumers parse the JSON; whitespace never changes the
 * version.
 * @since 0.1.0
 */
export function serializeArtifact(artifact: ArtifactV1, options: { readonly format?: 'pretty' | 'compact' } = {}): string {
  return goEscapeJson(JSON.stringify(orderArtifact(artifact), wellFormed, options.format === 'compact' ? undefined : 2));
}
