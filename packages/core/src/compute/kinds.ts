import type { ArtifactType } from '@recsys/contracts';
import { UsageError } from '../errors.js';
import type { ArtifactKind } from './artifact-kind.js';
import { computePopularityRows, popularityPayload } from './popularity.js';
import { computeCoocRows, coocPairItems, coocPayload, coocRowsFromPairs } from './cooc.js';
import { computeImplicit } from './implicit.js';
import { computeSessionSeq } from './session-seq.js';
import { computeContentSim } from './content-sim.js';
import { rowsPayload } from './rows-payload.js';

/**
 * The artifact types this build can compute, one descriptor each. Adding a
 * type is one entry here plus its builder module (see
 * docs/how-to/add-artifact-type.md); selection, planning, the event-table
 * columns, sharding and the artifact gate all read these entries.
 * @since 0.1.0
 */
export const ARTIFACT_KINDS: Readonly<Partial<Record<ArtifactType, ArtifactKind>>> = {
  popularity: {
    type: 'popularity',
    needs: {},
    build: (table, ranks, limits) => {
      const rows = computePopularityRows({ names: table.items.values, counts: table.itemCounts.data, ranks }, limits.max_items_per_artifact);
      return { members: [popularityPayload(rows)], rows: rows.ids.length };
    },
    sharded: {
      resultLimits: ['max_items_per_artifact'],
      pairs: false,
      merge: ({ exposure }, limits) => {
        const rows = computePopularityRows(exposure, limits.max_items_per_artifact);
        return { members: [popularityPayload(rows)], rows: rows.ids.length };
      },
    },
    payloadKey: 'items',
  },
  cooc: {
    type: 'cooc',
    needs: {},
    build: (table, ranks, limits) => {
      const rows = computeCoocRows(table, ranks, limits);
      return { members: [coocPayload(rows)], rows: rows.rowIds.length };
    },
    sharded: {
      resultLimits: ['max_items_per_session', 'min_cooc_support', 'max_neighbors_per_item', 'max_items_per_artifact'],
      pairs: true,
      merge: ({ exposure, pairs }, limits) => {
        const rows = coocRowsFromPairs(exposure, pairs, limits);
        return { members: [coocPayload(rows)], rows: rows.rowIds.length };
      },
      pairItems: coocPairItems,
    },
    payloadKey: 'neighbors',
    rowLimit: 'max_neighbors_per_item',
  },
  implicit: {
    type: 'implicit',
    needs: { users: true },
    build: (table, ranks, limits) => {
      const users = computeImplicit(table, ranks, limits);
      return { members: [rowsPayload('users', users)], rows: users.length };
    },
    payloadKey: 'users',
    rowLimit: 'max_items_per_user',
  },
  session_seq: {
    type: 'session_seq',
    needs: { users: true, instants: true },
    build: (table, ranks, limits) => {
      const users = computeSessionSeq(table, ranks, limits);
      return { members: [rowsPayload('users', users)], rows: users.length };
    },
    payloadKey: 'users',
    rowLimit: 'max_items_per_user',
  },
  content_sim: {
    type: 'content_sim',
    needs: { catalog: true },
    build: (table, _ranks, limits, { target, inputs }) => {
      if (!inputs.catalog) throw new UsageError('content_sim needs an item catalog (config "catalog" or --catalog <file>)');
      const exposures = (itemId: string) => {
        const id = table.items.lookup(itemId);
        return id === undefined ? 0 : table.itemCounts.get(id);
      };
      const items = computeContentSim(inputs.catalog, target.scope.surface, limits, exposures);
      return { members: [rowsPayload('items', items)], rows: items.length };
    },
    payloadKey: 'items',
  },
};

const KINDS = Object.values(ARTIFACT_KINDS);

/** The descriptor of a type, or `undefined` when this build cannot compute it. @since 0.1.0 */
export function kindOf(type: string): ArtifactKind | undefined {
  return Object.hasOwn(ARTIFACT_KINDS, type) ? ARTIFACT_KINDS[type as ArtifactType] : undefined;
}

/** Artifact types that can be computed from exposure events. @since 0.1.0 */
export const COMPUTABLE_ARTIFACT_TYPES: readonly ArtifactType[] = KINDS.map((k) => k.type);

/** Artifact types that need an item catalog besides the events. @since 0.1.0 */
export const CATALOG_ARTIFACT_TYPES: readonly ArtifactType[] = KINDS.filter((k) => k.needs.catalog).map((k) => k.type);

/** Artifact types that can be computed in shards and merged. @since 0.1.0 */
export const SHARDABLE_ARTIFACT_TYPES: readonly ArtifactType[] = KINDS.filter((k) => k.sharded).map((k) => k.type);

/**
 * Which optional event-table columns the given artifact types read.
 * @since 0.1.0
 */
export function eventTableNeeds(types: readonly string[]): { users: boolean; instants: boolean } {
  const needs = types.map((t) => kindOf(t)?.needs ?? {});
  return { users: needs.some((n) => n.users === true), instants: needs.some((n) => n.instants === true) };
}

/** Throws a usage error naming the unsupported types; returns the types without repeats. @since 0.1.0 */
export function assertComputable(types: readonly string[]): ArtifactType[] {
  const bad = types.filter((t) => !kindOf(t));
  if (bad.length > 0) {
    throw new UsageError(`unsupported artifact type(s): ${bad.join(', ')} (supported: ${COMPUTABLE_ARTIFACT_TYPES.join(', ')})`, { types: bad });
  }
  return [...new Set(types)] as ArtifactType[];
}

/** Throws a usage error unless every type can be sharded. @since 0.1.0 */
export function assertShardable(types: readonly string[]): void {
  const bad = types.filter((t) => !kindOf(t)?.sharded);
  if (bad.length > 0) {
    throw new UsageError(`artifact type(s) ${bad.join(', ')} cannot be computed in shards (shardable: ${SHARDABLE_ARTIFACT_TYPES.join(', ')}); compute them without --shard`, { types: bad });
  }
}
