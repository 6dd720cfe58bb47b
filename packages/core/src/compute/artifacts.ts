import {
  DEFAULT_SEGMENT,
  computeArtifactVersion,
  serializeArtifact,
  type ArtifactType,
  type ArtifactV1,
} from '@recsys/contracts';
import type { Limits } from '../limits.js';
import type { Scope } from '../keys.js';
import { UsageError } from '../errors.js';
import type { EventTable } from './event-table.js';
import { computePopularity } from './popularity.js';
import { computeCooc } from './cooc.js';

/** What an artifact is computed for. @since 0.1.0 */
export interface ArtifactTarget {
  readonly scope: Scope;
  /** Segment name; `default` when not given. */
  readonly segment: string;
  /** Window, second-precision UTC. */
  readonly window: { readonly start: string; readonly end: string };
}

/** A computed artifact with its content-hash version and published bytes. @since 0.1.0 */
export interface BuiltArtifact {
  readonly type: ArtifactType;
  readonly version: string;
  readonly artifact: ArtifactV1;
  /** The blob exactly as it is published (pretty JSON, Go escaping). */
  readonly bytes: string;
  /** Rows/items in the payload (for reports and metrics). */
  readonly size: number;
}

/** Computes the payload of one artifact type from a day's events. */
type PayloadBuilder = (table: EventTable, ranks: Uint32Array, limits: Limits) => { payload: Record<string, unknown>; size: number };

/**
 * The artifact types this build can compute, and how. Adding a type means
 * adding a builder here (see docs/how-to/add-artifact-type.md).
 */
const BUILDERS: Partial<Record<ArtifactType, PayloadBuilder>> = {
  popularity: (table, ranks, limits) => {
    const items = computePopularity(table, ranks, limits.max_items_per_artifact);
    return { payload: { items }, size: items.length };
  },
  cooc: (table, ranks, limits) => {
    const neighbors = computeCooc(table, ranks, limits);
    return { payload: { neighbors }, size: neighbors.length };
  },
};

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

/**
 * Wraps a payload in the artifact envelope, computes its version and the
 * published bytes (DESIGN §3.3–3.4).
 * @since 0.1.0
 */
export async function finishArtifact(type: ArtifactType, target: ArtifactTarget, payload: Record<string, unknown>, size: number, builtAt: string): Promise<BuiltArtifact> {
  const draft = {
    v: 1,
    artifact_type: type,
    tenant: target.scope.tenant,
    surface: target.scope.surface,
    segment: target.segment || DEFAULT_SEGMENT,
    window: { start: target.window.start, end: target.window.end },
    ...payload,
    build: { built_at: '', version: '' },
  } as ArtifactV1;
  const version = await computeArtifactVersion(draft);
  const artifact = { ...draft, build: { built_at: builtAt, version, source_hash: version } } as ArtifactV1;
  return { type, version, artifact, bytes: serializeArtifact(artifact), size };
}

/**
 * Computes the requested artifacts from one day's event table.
 * @since 0.1.0
 */
export async function computeArtifacts(table: EventTable, types: readonly ArtifactType[], target: ArtifactTarget, limits: Limits, builtAt: string): Promise<BuiltArtifact[]> {
  const ranks = table.items.utf8Ranks();
  const out: BuiltArtifact[] = [];
  for (const type of types) {
    const builder = BUILDERS[type];
    if (!builder) throw new UsageError(`unsupported artifact type ${type}`);
    const { payload, size } = builder(table, ranks, limits);
    out.push(await finishArtifact(type, target, payload, size, builtAt));
  }
  return out;
}
