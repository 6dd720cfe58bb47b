import { DEFAULT_SEGMENT, type ArtifactType } from '@recsys/contracts';
import type { Limits } from '../limits.js';
import type { Scope } from '../keys.js';
import type { Sha256Factory } from '../ports.js';
import { UsageError } from '../errors.js';
import type { EventTable } from './event-table.js';
import { artifactBytes, valuePayload, type ArtifactHeader, type PayloadSource } from './emit.js';
import { computePopularityRows, popularityPayload } from './popularity.js';
import { computeCoocRows, coocPayload } from './cooc.js';
import type { Catalog } from '../catalog/catalog.js';
import { computeImplicit } from './implicit.js';
import { computeSessionSeq } from './session-seq.js';
import { computeContentSim } from './content-sim.js';
import { rowsPayload } from './rows-payload.js';

/** What an artifact is computed for. @since 0.1.0 */
export interface ArtifactTarget {
  readonly scope: Scope;
  /** Segment name; `default` when not given. */
  readonly segment: string;
  /** Window, second-precision UTC. */
  readonly window: { readonly start: string; readonly end: string };
}

/** A computed artifact with its content-hash version; the blob is produced on demand, in chunks. @since 0.1.0 */
export interface BuiltArtifact {
  readonly type: ArtifactType;
  readonly version: string;
  readonly builtAt: string;
  /** Rows/items in the payload (for reports, metrics and size gates). */
  readonly size: number;
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
}

/** The payload of one artifact: streamed members, or a plain object for small payloads. @since 0.1.0 */
export interface Payload {
  readonly members: readonly PayloadSource[] | Readonly<Record<string, unknown>>;
  readonly size: number;
}

/** Inputs besides the window's events that some artifact types need. @since 0.1.0 */
export interface ArtifactInputs {
  /** The item catalog (`content_sim`). */
  readonly catalog?: Catalog | undefined;
}

/** What a builder may need besides the events: the target and the other inputs. @since 0.1.0 */
export interface BuildContext {
  readonly target: ArtifactTarget;
  readonly inputs: ArtifactInputs;
}

/** Computes the payload of one artifact type from a day's events. @since 0.1.0 */
export type PayloadBuilder = (table: EventTable, ranks: Uint32Array, limits: Limits, ctx: BuildContext) => Payload;

/**
 * The artifact types this build can compute, and how. Adding a type means
 * adding a builder here (see docs/how-to/add-artifact-type.md).
 */
const BUILDERS: Partial<Record<ArtifactType, PayloadBuilder>> = {
  popularity: (table, ranks, limits) => {
    const rows = computePopularityRows({ names: table.items.values, counts: table.itemCounts.data, ranks }, limits.max_items_per_artifact);
    return { members: [popularityPayload(rows)], size: rows.ids.length };
  },
  cooc: (table, ranks, limits) => {
    const rows = computeCoocRows(table, ranks, limits);
    return { members: [coocPayload(rows)], size: rows.rowIds.length };
  },
  implicit: (table, ranks, limits) => {
    const users = computeImplicit(table, ranks, limits);
    return { members: [rowsPayload('users', users)], size: users.length };
  },
  session_seq: (table, ranks, limits) => {
    const users = computeSessionSeq(table, ranks, limits);
    return { members: [rowsPayload('users', users)], size: users.length };
  },
  content_sim: (table, _ranks, limits, { target, inputs }) => {
    if (!inputs.catalog) throw new UsageError('content_sim needs an item catalog (config "catalog" or --catalog <file>)');
    const exposures = (itemId: string) => {
      const id = table.items.lookup(itemId);
      return id === undefined ? 0 : table.itemCounts.get(id);
    };
    const items = computeContentSim(inputs.catalog, target.scope.surface, limits, exposures);
    return { members: [rowsPayload('items', items)], size: items.length };
  },
};

/** Artifact types that need an item catalog besides the events. @since 0.1.0 */
export const CATALOG_ARTIFACT_TYPES: readonly ArtifactType[] = ['content_sim'];

/**
 * Which optional event-table columns the given artifact types read.
 * @since 0.1.0
 */
export function eventTableNeeds(types: readonly string[]): { users: boolean; instants: boolean } {
  return { users: types.includes('implicit') || types.includes('session_seq'), instants: types.includes('session_seq') };
}

/** Artifact types that can be computed from exposure events. @since 0.1.0 */
export const COMPUTABLE_ARTIFACT_TYPES = Object.keys(BUILDERS) as ArtifactType[];

/** Throws a usage error naming the unsupported types. @since 0.1.0 */
export function assertComputable(types: readonly string[]): ArtifactType[] {
  const bad = types.filter((t) => !(t in BUILDERS));
  if (bad.length > 0) {
    throw new UsageError(`unsupported artifact type(s): ${bad.join(', ')} (supported: ${COMPUTABLE_ARTIFACT_TYPES.join(', ')})`, { types: bad });
  }
  return [...new Set(types)] as ArtifactType[];
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
    size: payload.size,
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
    const builder = BUILDERS[type];
    if (!builder) throw new UsageError(`unsupported artifact type ${type}`);
    return finishArtifact(type, target, builder(table, ranks, limits, { target, inputs }), builtAt, sha256);
  });
}
