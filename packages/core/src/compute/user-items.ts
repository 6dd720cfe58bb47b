import type { Limits } from '../limits.js';
import { checkLimit } from '../check-limit.js';
import { NO_USER, type EventTable } from './event-table.js';

/** One scored item of a user. @since 0.1.0 */
export interface ItemScore {
  item_id: string;
  score: number;
}

/** One user's row in `implicit` / `session_seq`. @since 0.1.0 */
export interface UserItems {
  user_id: string;
  items: ItemScore[];
}

/**
 * Groups the rows of events that carry a user id by user with a counting
 * sort (users are dense ids). Within a user the rows stay in canonical
 * order, which is what breaks timestamp ties in `session_seq`.
 */
export function rowsByUser(table: EventTable): { order: Uint32Array; start: Uint32Array } {
  if (!table.hasUsers) throw new Error('this event table was built without user ids (EventTable({ users: false }))');
  const users = table.users.size;
  const userOf = table.user.view();
  const start = new Uint32Array(users + 1);
  for (let i = 0; i < userOf.length; i++) {
    const u = userOf[i]!;
    if (u !== NO_USER) start[u + 1]!++;
  }
  for (let u = 0; u < users; u++) start[u + 1]! += start[u]!;
  const fill = start.slice(0, users);
  const order = new Uint32Array(start[users]!);
  for (let i = 0; i < userOf.length; i++) {
    const u = userOf[i]!;
    if (u !== NO_USER) order[fill[u]!++] = i;
  }
  return { order, start };
}

/**
 * Scores one user's events: `rows` are the user's event rows in canonical
 * order; call `add(item)` once per unit of score.
 */
export type UserScorer = (rows: Uint32Array, add: (item: number) => void) => void;

/**
 * The shared shape of the per-user artifacts (DESIGN §3.3, §5.4): every
 * user with at least one scored item, users by user_id (UTF-8 byte order),
 * each user's items by score desc then item_id, cut to
 * `max_items_per_user`. Trips `max_users_per_run` (exit 4) before any work.
 * When there are more users than `max_items_per_artifact`, the users with
 * the most events in the window are kept (ties by user_id), so truncation
 * never degenerates into an alphabetical prefix.
 * @since 0.1.0
 */
export function computeUserRows(table: EventTable, itemRanks: Uint32Array, limits: Limits, score: UserScorer): UserItems[] {
  checkLimit(limits, 'max_users_per_run', table.users.size, 'distinct user_id values in the window');
  const { order, start } = rowsByUser(table);
  const names = table.items.values;
  const scores = new Uint32Array(table.items.size);
  let touched: number[] = [];
  const add = (item: number) => {
    if (scores[item]!++ === 0) touched.push(item);
  };
  const maxItems = limits.max_items_per_user;
  const kept: { user: number; events: number; items: ItemScore[] }[] = [];
  for (let u = 0; u < table.users.size; u++) {
    const from = start[u]!;
    const to = start[u + 1]!;
    score(order.subarray(from, to), add);
    if (touched.length === 0) continue;
    touched.sort((a, b) => scores[b]! - scores[a]! || itemRanks[a]! - itemRanks[b]!);
    const n = Math.min(touched.length, maxItems);
    const items: ItemScore[] = new Array(n);
    for (let k = 0; k < n; k++) items[k] = { item_id: names[touched[k]!]!, score: scores[touched[k]!]! };
    for (const item of touched) scores[item] = 0;
    touched = [];
    kept.push({ user: u, events: to - from, items });
  }
  const userRanks = table.users.utf8Ranks();
  let rows = kept;
  if (rows.length > limits.max_items_per_artifact) {
    rows = [...rows].sort((a, b) => b.events - a.events || userRanks[a.user]! - userRanks[b.user]!).slice(0, limits.max_items_per_artifact);
  }
  rows.sort((a, b) => userRanks[a.user]! - userRanks[b.user]!);
  return rows.map((r) => ({ user_id: table.users.values[r.user]!, items: r.items }));
}
