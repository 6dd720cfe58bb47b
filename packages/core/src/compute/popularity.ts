import type { EventTable } from './event-table.js';

/** One popularity entry. @since 0.1.0 */
export interface ItemCount {
  item_id: string;
  count: number;
}

/**
 * Item ids ordered most exposed first, ties by item id in UTF-8 byte order.
 * `ranks` are the table's `items.utf8Ranks()`.
 */
export function itemsByExposure(table: EventTable, ranks: Uint32Array): number[] {
  const ids = Array.from({ length: table.items.size }, (_, i) => i);
  const counts = table.itemCounts;
  ids.sort((a, b) => counts.get(b) - counts.get(a) || ranks[a]! - ranks[b]!);
  return ids;
}

/**
 * Popularity payload (DESIGN §3.3): every exposed item with its exposure
 * count, most exposed first, at most `maxItems` entries.
 * @since 0.1.0
 */
export function computePopularity(table: EventTable, ranks: Uint32Array, maxItems: number): ItemCount[] {
  const ordered = itemsByExposure(table, ranks);
  const n = Math.min(ordered.length, maxItems);
  const out: ItemCount[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = ordered[i]!;
    out[i] = { item_id: table.items.values[id]!, count: table.itemCounts.get(id) };
  }
  return out;
}
