import type { Limits } from '../limits.js';
import type { EventTable } from './event-table.js';
import { computeUserRows, type UserItems } from './user-items.js';

/**
 * Implicit-feedback payload (DESIGN §3.3): for every user with a `user_id`,
 * how many times each item was exposed to them in the window (the score).
 * Anonymous events are ignored. Ordering, `max_items_per_user` (top-N),
 * `max_users_per_run` and `max_items_per_artifact` as in
 * {@link computeUserRows}.
 * @since 0.1.0
 */
export function computeImplicit(table: EventTable, itemRanks: Uint32Array, limits: Limits): UserItems[] {
  const itemOf = table.item.view();
  return computeUserRows(table, itemRanks, limits, (rows, add) => {
    for (let k = 0; k < rows.length; k++) add(itemOf[rows[k]!]!);
  });
}
