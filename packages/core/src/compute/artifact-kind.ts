import type { ArtifactType } from '@recsys/contracts';
import type { Limits } from '../limits.js';
import type { Scope } from '../keys.js';
import type { Catalog } from '../catalog/catalog.js';
import type { EventTable } from './event-table.js';
import type { PairCounts } from './sorted-pairs.js';
import type { PayloadSource } from './emit.js';
import type { ItemExposure } from './popularity.js';

/** What an artifact is computed for. @since 0.1.0 */
export interface ArtifactTarget {
  readonly scope: Scope;
  /** Segment name; `default` when not given. */
  readonly segment: string;
  /** Window, second-precision UTC. */
  readonly window: { readonly start: string; readonly end: string };
}

/** The payload of one artifact: streamed members, or a plain object for small payloads. @since 0.1.0 */
export interface Payload {
  readonly members: readonly PayloadSource[] | Readonly<Record<string, unknown>>;
  /** Rows of the payload (items, neighbour lists, users). */
  readonly rows: number;
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

/** A day summed from the partial aggregates of every shard (what a shardable kind's merge gets). @since 0.1.0 */
export interface MergedAggregates {
  /** Exposures per merged item id, with UTF-8 ranks. */
  readonly exposure: ItemExposure;
  /** Session pair counts by merged item id (kinds with `pairs`). */
  readonly pairs: PairCounts;
}

/** How a kind is computed in shards and merged (sharded runs, docs/how-to/scale-out.md). @since 0.1.0 */
export interface ShardedKind {
  /** The limits that shape the result: recorded in partials, part of their config hash; applied only at merge. */
  readonly resultLimits: readonly (keyof Limits)[];
  /** Whether partials carry session pair counts besides item exposures. */
  readonly pairs: boolean;
  /** The final payload from the summed partials, with the same functions as the single-process path. */
  readonly merge: (merged: MergedAggregates, limits: Limits) => Payload;
  /**
   * With `pairs`: the items (flags by merged item id) whose pairs a one-day
   * `merge` needs, when it can do without the others; `merge` then gets
   * only those pairs and throws `MissingPairsError` when it needs more (the
   * caller retries with every pair). `undefined`: every pair.
   * @since 0.10.0
   */
  readonly pairItems?: (exposure: ItemExposure, limits: Limits) => Uint8Array | undefined;
}

/**
 * Everything the pipeline knows about one artifact type, in one place
 * (docs/how-to/add-artifact-type.md): what it reads, how it is computed,
 * whether it can be sharded, and what the artifact gate checks.
 * @since 0.1.0
 */
export interface ArtifactKind {
  readonly type: ArtifactType;
  /** Optional inputs: event-table columns (`users`, `instants`) and the item `catalog`. */
  readonly needs: { readonly users?: boolean; readonly instants?: boolean; readonly catalog?: boolean };
  readonly build: PayloadBuilder;
  /** Present when the kind can be computed in shards and merged. */
  readonly sharded?: ShardedKind;
  /** The payload array of the artifact (its rows, counted against `max_items_per_artifact`). */
  readonly payloadKey: 'items' | 'neighbors' | 'users';
  /** The limit on the entries of one row, when rows have `items` (checked by the artifact gate). */
  readonly rowLimit?: 'max_neighbors_per_item' | 'max_items_per_user';
}
