import type { Limits } from '../limits.js';
import type { EventTable } from './event-table.js';
import { computeUserRows, type UserItems } from './user-items.js';

/** Instants of a table's events as (epoch ms at second precision, nanoseconds within the second). */
export interface EventInstants {
  readonly secondsMs: Float64Array;
  readonly nanos: Uint32Array;
}

/**
 * The instants of the table's events. The table keeps them as two columns
 * (epoch ms of the second, nanoseconds), because canonical timestamps keep
 * the producer's 0–9 fraction digits and their strings do not compare as
 * instants (`…:01Z` sorts after `…:01.5Z` since `Z` > `.`).
 */
export function eventInstants(table: EventTable): EventInstants {
  if (!table.hasInstants) throw new Error('this event table was built without instants (EventTable({ instants: false }))');
  return { secondsMs: table.secondsMs.view(), nanos: table.nanos.view() };
}

/**
 * Session-sequence payload (DESIGN §3.3): each user's events (all of the
 * user's sessions together) are put in `ts` order, ties broken by canonical
 * order (the order events were accepted at ingest: raw file order, first
 * occurrence of duplicates kept); the score of item X is the number of
 * events of X that directly follow another event of the same user, so every
 * event but the user's first adds 1 (repeats of the same item included).
 * Users with a single event have no row. Ordering and guardrails as in
 * {@link computeUserRows}.
 * @since 0.1.0
 */
export function computeSessionSeq(table: EventTable, itemRanks: Uint32Array, limits: Limits): UserItems[] {
  const itemOf = table.item.view();
  let instants: EventInstants | undefined;
  let sorted = new Uint32Array(64);
  return computeUserRows(table, itemRanks, limits, (rows, add) => {
    if (rows.length < 2) return;
    instants ??= eventInstants(table);
    const { secondsMs, nanos } = instants;
    if (sorted.length < rows.length) sorted = new Uint32Array(rows.length * 2);
    const seq = sorted.subarray(0, rows.length);
    seq.set(rows);
    // `rows` are in canonical order, so the row index is the tie-breaker.
    seq.sort((a, b) => secondsMs[a]! - secondsMs[b]! || nanos[a]! - nanos[b]! || a - b);
    for (let k = 1; k < seq.length; k++) add(itemOf[seq[k]!]!);
  });
}
