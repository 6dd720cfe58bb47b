import { DEFAULT_SEGMENT, type ArtifactType } from '@recsys/contracts';
import type { Limits } from '../limits.js';
import type { Sha256Factory } from '../ports.js';
import { UsageError } from '../errors.js';
import type { EventTable } from './event-table.js';
import { artifactBytes, valuePayload, type ArtifactHeader, type PayloadSource } from './emit.js';
import type { ArtifactInputs, ArtifactTarget, Payload } from './artifact-kind.js';
import { kindOf } from './kinds.js';

export type { ArtifactTarget, Payload, ArtifactInputs, BuildContext, PayloadBuilder } from './artifact-kind.js';

/** A computed artifact with its content-hash version; the blob is produced on demand, in chunks. @since 0.1.0 */
export interface BuiltArtifact {
  readonly type: ArtifactType;
  readonly version: string;
  readonly builtAt: string;
  /** Rows/items in the payload (for reports, metrics and the row gates). */
  readonly rows: number;
  /** The blob exactly as it is published (pretty JSON, Go escaping), as UTF-8 chunks. */
  blob(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** SHA-256 of the blob's bytes, when already known (a staged blob); publishing checks what it writes against it. */
  readonly sha256?: string;
  /**
   * The same artifact stamped with another `built_at` (same version: the
   * content hash ignores `build`). Staging uses it to adopt the `built_at`
   * a concurrent run of the same window claimed first, so that both write
   * identical bytes. Absent for blobs that stream from storage.
   */
  withBuiltAt?(builtAt: string): BuiltArtifact;
  /** Size of the blob in bytes, when already known (a staged blob): the byte gate checks it before anything is published. */
  readonly bytes?: number;
}

function members(payload: Payload): readonly PayloadSource[] {
  const m = payload.members;
  return Array.isArray(m) ? (m as readonly PayloadSource[]) : Object.entries(m).map(([key, value]) => valuePayload(key, value));
}

/**
 * Wraps a payload in the artifact envelope and computes its version by
 * hashing the compact serialisation chunk by chunk (DESIGN §3.3–3.4).
 * @since 0.1.0
 */
export function finishArtifact(type: ArtifactType, target: ArtifactTarget, payload: Payload, builtAt: string, sha256: Sha256Factory): BuiltArtifact {
  const header: ArtifactHeader = {
    type,
    tenant: target.scope.tenant,
    surface: target.scope.surface,
    segment: target.segment || DEFAULT_SEGMENT,
    window: target.window,
  };
  const sources = members(payload);
  const hash = sha256();
  for (const chunk of artifactBytes(header, sources)) hash.update(chunk);
  const version = hash.digest();
  const stamped = (at: string): BuiltArtifact => ({
    type,
    version,
    builtAt: at,
    rows: payload.rows,
    blob: () => artifactBytes(header, sources, { built_at: at, version, source_hash: version }),
    withBuiltAt: stamped,
  });
  return stamped(builtAt);
}

/** Joins a built artifact's blob into one string (tests and small artifacts). @since 0.1.0 */
export function blobText(built: BuiltArtifact): string {
  const decoder = new TextDecoder();
  const chunks = built.blob();
  if (!(Symbol.iterator in chunks)) throw new TypeError('blobText needs an in-memory artifact; this one streams from storage');
  let out = '';
  for (const chunk of chunks) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

/**
 * Computes the requested artifacts from one day's event table (and, for
 * `content_sim`, the item catalog in `inputs`).
 * @since 0.1.0
 */
export function computeArtifacts(
  table: EventTable,
  types: readonly ArtifactType[],
  target: ArtifactTarget,
  limits: Limits,
  builtAt: string,
  sha256: Sha256Factory,
  inputs: ArtifactInputs = {},
): BuiltArtifact[] {
  const ranks = table.items.utf8Ranks();
  return types.map((type) => {
    const kind = kindOf(type);
    if (!kind) throw new UsageError(`unsupported artifact type ${type}`);
    return finishArtifact(type, target, kind.build(table, ranks, limits, { target, inputs }), builtAt, sha256);
  });
}
