import { DEFAULT_SEGMENT, type ArtifactType } from '@recsys/contracts';
import type { Limits } from '../limits.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import { UsageError } from '../errors.js';
import type { EventTable } from './event-table.js';
import { artifactBytes, BLANK_BUILD_TAIL, BLANK_BUILD_TAIL_BYTES, compactBlobFromHashed, compactBuildTail, valuePayload, type ArtifactHeader, type BlobFormat, type PayloadSource } from './emit.js';
import type { ArtifactInputs, ArtifactTarget, Payload } from './artifact-kind.js';
import { kindOf } from './kinds.js';
import { coocPayloadOnPool, coocUsesThreads, type CoocRowPool } from './cooc-threads.js';

export type { ArtifactTarget, Payload, ArtifactInputs, BuildContext, PayloadBuilder } from './artifact-kind.js';

/** A computed artifact with its content-hash version; the blob is produced on demand, in chunks. @since 0.1.0 */
export interface BuiltArtifact {
  readonly type: ArtifactType;
  readonly version: string;
  readonly builtAt: string;
  /** Rows/items in the payload (for reports, metrics and the row gates). */
  readonly rows: number;
  /** The blob exactly as it is published (compact or pretty JSON per `blob_format`, Go escaping), as UTF-8 chunks. */
  blob(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /**
   * SHA-256 of the blob's bytes, when already known: a staged blob, or a
   * compact blob that is the kept hashed bytes plus its build (hashed with
   * the version, the state before the build tail copied). Staging and
   * publishing then do not hash what they write; the read-back checks it.
   */
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
  /**
   * Where the blob's bytes are stored (a staged blob, hash known): publishing
   * can then have the storage copy them server-side (a hard link on a filesystem)
   * instead of streaming them through the process.
   * @since 0.4.0
   */
  readonly stored?: { readonly storage: ObjectStorage; readonly key: string };
}

function members(payload: Payload): readonly PayloadSource[] {
  const m = payload.members;
  return Array.isArray(m) ? (m as readonly PayloadSource[]) : Object.entries(m).map(([key, value]) => valuePayload(key, value));
}

/**
 * Hashed bytes kept for writing the compact blob without emitting it again;
 * above this the blob is emitted a second time instead of held in memory.
 * The threads' rows are those bytes (held anyway until they are hashed):
 * keeping them spares the joined rows and the second emission, and lets
 * staging check the file against the hash derived here. A 100k-item
 * catalog's full cooc blob is 101 MB at 1M events, 247 MB at 5M (kept),
 * ~300 MB from 10M on (emitted twice, as before).
 */
const KEEP_HASHED_BYTES = 256 * 2 ** 20;

/**
 * Wraps a payload in the artifact envelope and computes its version by
 * hashing the compact serialisation chunk by chunk (DESIGN §3.3–3.4). With
 * `format` `compact` (the default) the blob is those very bytes with the
 * real `build`: the hashed chunks are kept (up to 256 MiB) and written as
 * they are, so the payload is serialised once.
 * @since 0.1.0
 */
export function finishArtifact(type: ArtifactType, target: ArtifactTarget, payload: Payload, builtAt: string, sha256: Sha256Factory, format: BlobFormat = 'compact'): BuiltArtifact {
  const header: ArtifactHeader = {
    type,
    tenant: target.scope.tenant,
    surface: target.scope.surface,
    segment: target.segment || DEFAULT_SEGMENT,
    window: target.window,
  };
  const sources = members(payload);
  const hash = sha256();
  let hashed: Uint8Array[] | undefined = format === 'compact' ? [] : undefined;
  let hashedBytes = 0;
  // The last chunks are held back until the blanked build tail (the last bytes) can be left out: the hash
  // state before it, copied, hashes the compact blob (same bytes, real tail) without reading them again.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  for (const chunk of artifactBytes(header, sources)) {
    if (hashed) {
      hashedBytes += chunk.length;
      if (hashedBytes <= KEEP_HASHED_BYTES) hashed.push(chunk);
      else hashed = undefined;
    }
    held.push(chunk);
    heldBytes += chunk.length;
    while (heldBytes - held[0]!.length >= BLANK_BUILD_TAIL_BYTES) {
      const first = held.shift()!;
      heldBytes -= first.length;
      hash.update(first);
    }
  }
  let body = heldBytes - BLANK_BUILD_TAIL_BYTES;
  for (const chunk of held) {
    const n = Math.min(chunk.length, Math.max(0, body));
    if (n > 0) hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
    body -= n;
  }
  const beforeTail = hashed && hash.copy ? hash.copy() : undefined;
  hash.update(BLANK_BUILD_TAIL);
  const version = hash.digest();
  const kept = hashed;
  const stamped = (at: string): BuiltArtifact => {
    const build = { built_at: at, version, source_hash: version };
    let blobSha: string | undefined;
    if (kept && beforeTail) {
      const h = beforeTail.copy!();
      h.update(compactBuildTail(build));
      blobSha = h.digest();
    }
    return {
      type,
      version,
      builtAt: at,
      rows: payload.rows,
      blob: () => (kept ? compactBlobFromHashed(kept, build) : artifactBytes(header, sources, build, format)),
      ...(blobSha !== undefined ? { sha256: blobSha } : {}),
      withBuiltAt: stamped,
    };
  };
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
 * {@link computeArtifacts} with `cooc` rows counted and written on the
 * pool's worker threads (when a pool is given): the same artifacts, byte for
 * byte. The other types are computed on this thread.
 * @since 0.4.0
 */
export async function computeArtifactsOnPool(
  table: EventTable,
  types: readonly ArtifactType[],
  target: ArtifactTarget,
  limits: Limits,
  builtAt: string,
  sha256: Sha256Factory,
  inputs: ArtifactInputs = {},
  format: BlobFormat = 'compact',
  pool?: CoocRowPool,
): Promise<BuiltArtifact[]> {
  // The threads start loading now, while this thread ranks the items and builds what comes before cooc's rows.
  if (pool && types.includes('cooc') && coocUsesThreads(table, limits)) pool.warm?.();
  const ranks = table.items.utf8Ranks();
  const built: BuiltArtifact[] = [];
  for (const type of types) {
    const kind = kindOf(type);
    if (!kind) throw new UsageError(`unsupported artifact type ${type}`);
    const payload = pool && type === 'cooc' ? await coocPayloadOnPool(table, ranks, limits, pool) : kind.build(table, ranks, limits, { target, inputs });
    built.push(finishArtifact(type, target, payload, builtAt, sha256, format));
  }
  return built;
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
  format: BlobFormat = 'compact',
): BuiltArtifact[] {
  const ranks = table.items.utf8Ranks();
  return types.map((type) => {
    const kind = kindOf(type);
    if (!kind) throw new UsageError(`unsupported artifact type ${type}`);
    return finishArtifact(type, target, kind.build(table, ranks, limits, { target, inputs }), builtAt, sha256, format);
  });
}
