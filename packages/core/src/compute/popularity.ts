import { nameBytes, writeIdCountArray, type PayloadSource } from './emit.js';
import { invertRanks, sortTopByCountThenRank } from './order-keys.js';

/** One popularity entry. @since 0.1.0 */
export interface ItemCount {
  item_id: string;
  count: number;
}

/** Item exposure counts indexed by dense item id. */
export interface ItemExposure {
  readonly names: readonly string[];
  /** `counts[id]` = exposures of item `id`. */
  readonly counts: ArrayLike<number>;
  /** `ranks[id]` = position of the item id in UTF-8 order. */
  readonly ranks: Uint32Array;
}

/** Popularity in compact form: item ids most exposed first and their counts. @since 0.1.0 */
export interface PopularityRows {
  readonly names: readonly string[];
  readonly ids: Uint32Array;
  readonly counts: Uint32Array;
}

/**
 * Every item id ordered most exposed first, ties by item id in UTF-8 byte
 * order (the order popularity lists and cooc row truncation use).
 */
export function rankByExposure(exposure: ItemExposure): PopularityRows {
  return mostExposed(exposure, Infinity);
}

/**
 * The `k` most exposed item ids, in {@link rankByExposure}'s order (all of
 * them when `k` is at least the item count). With `k` far below the item
 * count (popularity's and cooc's `max_items_per_artifact`: 1000 of the 1M
 * bench day's 80k items) only those are sorted, after a linear selection.
 */
export function mostExposed(exposure: ItemExposure, k: number): PopularityRows {
  // A day's popularity and cooc's kept rows ask for the same `k` of the same counts: made once.
  const made = lastMostExposed.get(exposure.ranks);
  if (made && made.k === k && made.counts === exposure.counts && made.rows.names === exposure.names) return made.rows;
  const n = exposure.names.length;
  const ids = new Uint32Array(n);
  const counts = new Uint32Array(n);
  idsWithCounts(exposure.counts, ids, counts, n);
  const idOfRank = invertRanks(exposure.ranks);
  const rows = k >= n ? { names: exposure.names, ids, counts } : { names: exposure.names, ids: ids.subarray(0, k), counts: counts.subarray(0, k) };
  // Ordered whole, or only the first `k`.
  sortTopByCountThenRank(ids, counts, exposure.ranks, idOfRank, Math.min(k, n));
  lastMostExposed.set(exposure.ranks, { k, counts: exposure.counts, rows });
  return rows;
}

/**
 * The last {@link mostExposed} answer per rank permutation (a day's), for the same counts array and `k`: the
 * counts of a day's items are not written once its artifacts are computed, nor the rows returned.
 */
const lastMostExposed = new WeakMap<Uint32Array, { k: number; counts: ArrayLike<number>; rows: PopularityRows }>();

/** `ids[id] = id` and `counts[id] = exposure[id]` for every item (a loop of its own: see `sortTopByCountThenRank`). */
function idsWithCounts(exposure: ArrayLike<number>, ids: Uint32Array, counts: Uint32Array, n: number): void {
  for (let id = 0; id < n; id++) {
    ids[id] = id;
    counts[id] = exposure[id]!;
  }
}

/**
 * Popularity (DESIGN §3.3): every exposed item with its exposure count, most
 * exposed first, at most `maxItems` entries.
 * @since 0.1.0
 */
export function computePopularityRows(exposure: ItemExposure, maxItems: number): PopularityRows {
  return mostExposed(exposure, maxItems);
}

/** The `items` member of a popularity artifact. @since 0.1.0 */
export function popularityPayload(rows: PopularityRows): PayloadSource {
  return {
    key: 'items',
    write: (out, pretty) => writeIdCountArray(out, pretty, '  ', nameBytes(rows.names), rows.ids, rows.counts, 'item_id', 'count'),
  };
}

/** Popularity as plain objects (tests, small data). @since 0.1.0 */
export function popularityItems(rows: PopularityRows): ItemCount[] {
  return Array.from(rows.ids, (id, k) => ({ item_id: rows.names[id]!, count: rows.counts[k]! }));
}

/**
 * Popularity of a day's events as plain objects (tests, small data).
 * @since 0.1.0
 */
export function computePopularity(table: { items: { values: readonly string[] }; itemCounts: { data: Uint32Array } }, ranks: Uint32Array, maxItems: number): ItemCount[] {
  return popularityItems(computePopularityRows({ names: table.items.values, counts: table.itemCounts.data, ranks }, maxItems));
}
