import type { CanonicalEvent } from '../ingest/raw-event.js';
import { U32Column, U32Counts } from './growable.js';
import { Interner } from './interner.js';

/** No user on this event. */
export const NO_USER = 0xffffffff;

/**
 * The accepted events of one day in compact columnar form: ids interned to
 * integers, one row per event in canonical order. Every artifact is computed
 * from this table, whether it was filled while ingesting (`run`, one pass)
 * or by reading a canonical partition back (job mode).
 * @since 0.1.0
 */
export class EventTable {
  readonly items = new Interner();
  readonly sessions = new Interner();
  readonly users = new Interner();
  readonly session = new U32Column();
  readonly item = new U32Column();
  readonly user = new U32Column();
  /** Canonical timestamps (needed only by ordering-aware artifacts). */
  readonly ts: string[] = [];
  /** Exposures per item id. */
  readonly itemCounts = new U32Counts();

  get length(): number {
    return this.item.length;
  }

  add(e: CanonicalEvent): void {
    const item = this.items.intern(e.item_id);
    this.item.push(item);
    this.session.push(this.sessions.intern(e.session_id));
    this.user.push(e.user_id === undefined ? NO_USER : this.users.intern(e.user_id));
    this.ts.push(e.ts);
    this.itemCounts.increment(item);
  }
}
