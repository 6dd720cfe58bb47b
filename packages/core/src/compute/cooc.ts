import type { Limits } from '../limits.js';
import { checkLimit } from '../limits.js';
import type { EventTable } from './event-table.js';
import { PairCounter } from './pair-counter.js';
import { itemsByExposure, type ItemCount } from './popularity.js';

/** One co-occurrence row. @since 0.1.0 */
export interface CoocRow {
  item_id: string;
  items: ItemCount[];
}

/**
 * Groups event rows by session with a counting sort (sessions are dense ids),
 * returning the row order and each session's start offset.
 */
function rowsBySession(table: EventTable): { order: Uint32Array; start: Uint32Array } {
  const sessions = table.sessions.size;
  const sessionOf = table.session.view();
  const start = new Uint32Array(sessions + 1);
  for (let i = 0; i < sessionOf.length; i++) start[sessionOf[i]! + 1]!++;
  for (let s = 0; s < sessions; s++) start[s + 1]! += start[s]!;
  const fill = start.slice(0, sessions);
  const order = new Uint32Array(sessionOf.length);
  for (let i = 0; i < sessionOf.length; i++) order[fill[sessionOf[i]!]!++] = i;
  return { order, start };
}

/**
 * Counts, for every pair of distinct items, the number of sessions in which
 * both appear. Trips `max_items_per_session` on a session with too many
 * distinct items (its pairs would grow quadratically).
 * @since 0.1.0
 */
export function countSessionPairs(table: EventTable, limits: Limits): PairCounter {
  const { order, start } = rowsBySession(table);
  const itemOf = table.item.view();
  const pairs = new PairCounter(Math.max(1024, table.items.size * 4));
  let distinct = new Uint32Array(64);
  for (let s = 0; s < table.sessions.size; s++) {
    const from = start[s]!;
    const to = start[s + 1]!;
    if (to - from < 2) continue;
    if (distinct.length < to - from) distinct = new Uint32Array((to - from) * 2);
    let n = 0;
    for (let k = from; k < to; k++) distinct[n++] = itemOf[order[k]!]!;
    const items = distinct.subarray(0, n).sort();
    let m = 0;
    for (let k = 0; k < n; k++) if (k === 0 || items[k] !== items[k - 1]) items[m++] = items[k]!;
    checkLimit(limits, 'max_items_per_session', m, `session ${JSON.stringify(table.sessions.values[s])}`);
    for (let x = 0; x < m; x++) for (let y = x + 1; y < m; y++) pairs.add(items[x]!, items[y]!);
  }
  return pairs;
}

/**
 * Co-occurrence payload (DESIGN §3.3, §5.4): one row per item that shares a
 * session with another item, rows by item id; each row's neighbours by count
 * desc then item id, filtered by `min_cooc_support` and cut to
 * `max_neighbors_per_item`. When there are more rows than
 * `max_items_per_artifact`, the rows of the most exposed items are kept.
 * @since 0.1.0
 */
export function computeCooc(table: EventTable, ranks: Uint32Array, limits: Limits, pairs = countSessionPairs(table, limits)): CoocRow[] {
  return coocRowsFromPairs(table.items.values, ranks, pairs, limits, () => itemsByExposure(table, ranks));
}

/**
 * Builds cooc rows from pair counts. Shared by the single-process path and
 * the shard merge so both produce identical bytes.
 */
export function coocRowsFromPairs(
  names: readonly string[],
  ranks: Uint32Array,
  pairs: PairCounter,
  limits: Limits,
  byExposure: () => number[],
): CoocRow[] {
  const n = names.length;
  const hasRow = new Uint8Array(n);
  const degree = new Uint32Array(n + 1);
  const minSupport = limits.min_cooc_support;
  pairs.forEach((x, y, c) => {
    hasRow[x] = 1;
    hasRow[y] = 1;
    if (c >= minSupport) {
      degree[x + 1]!++;
      degree[y + 1]!++;
    }
  });
  for (let i = 0; i < n; i++) degree[i + 1]! += degree[i]!;
  const fill = degree.slice(0, n);
  const nbr = new Uint32Array(degree[n]!);
  const cnt = new Uint32Array(degree[n]!);
  pairs.forEach((x, y, c) => {
    if (c < minSupport) return;
    nbr[fill[x]!] = y;
    cnt[fill[x]!++] = c;
    nbr[fill[y]!] = x;
    cnt[fill[y]!++] = c;
  });

  let rowIds: number[] = [];
  for (let i = 0; i < n; i++) if (hasRow[i]) rowIds.push(i);
  if (rowIds.length > limits.max_items_per_artifact) {
    const keep = new Uint8Array(n);
    let kept = 0;
    for (const id of byExposure()) {
      if (kept >= limits.max_items_per_artifact) break;
      if (hasRow[id]) {
        keep[id] = 1;
        kept++;
      }
    }
    rowIds = rowIds.filter((id) => keep[id] === 1);
  }
  rowIds.sort((a, b) => ranks[a]! - ranks[b]!);

  const maxNeighbors = limits.max_neighbors_per_item;
  const rows: CoocRow[] = new Array(rowIds.length);
  for (let r = 0; r < rowIds.length; r++) {
    const id = rowIds[r]!;
    const from = degree[id]!;
    const to = degree[id + 1]!;
    const idx = Array.from({ length: to - from }, (_, k) => from + k);
    idx.sort((p, q) => cnt[q]! - cnt[p]! || ranks[nbr[p]!]! - ranks[nbr[q]!]!);
    const len = Math.min(idx.length, maxNeighbors);
    const items: ItemCount[] = new Array(len);
    for (let k = 0; k < len; k++) items[k] = { item_id: names[nbr[idx[k]!]!]!, count: cnt[idx[k]!]! };
    rows[r] = { item_id: names[id]!, items };
  }
  return rows;
}
