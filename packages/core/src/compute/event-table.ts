import { parseRfc3339 } from '@recsys/contracts/codec';
import type { CanonicalEvent } from '../ingest/raw-event.js';
import { F64Column, U32Column, U32Counts } from './growable.js';
import { ByteInterner } from '../ingest/byte-interner.js';
import { Interner } from './interner.js';

/** No user on this event. */
export const NO_USER = 0xffffffff;

/**
 * Splits a canonical timestamp into (epoch ms of its whole second,
 * nanoseconds within the second). Canonical timestamps keep the producer's
 * 0–9 fraction digits, so their strings do not compare as instants; these
 * two numbers do, exactly.
 */
export function instantOf(ts: string): { secondsMs: number; nanos: number } {
  const parsed = parseRfc3339(ts);
  if (!parsed) throw new Error(`invalid canonical ts ${JSON.stringify(ts)}`);
  return { secondsMs: parsed.epochSecondsMs, nanos: parsed.fraction === '' ? 0 : Number(parsed.fraction.slice(1).padEnd(9, '0')) };
}

/**
 * The accepted events of one day in compact columnar form: ids interned to
 * integers, one row per event in canonical order (about 20 bytes per event
 * plus the distinct ids). Every artifact is computed from this table,
 * whether it was filled while ingesting (`run`, one pass) or by reading a
 * canonical partition back (job mode).
 * @since 0.1.0
 */
export class EventTable {
  readonly items = new Interner();
  /**
   * Sessions by their UTF-8 bytes, without a string each (a day has
   * millions; only error messages ask for names): ingest interns them by
   * the hash the parse worker computed under this dictionary's key.
   */
  readonly sessions = new ByteInterner({ strings: false });
  readonly users = new Interner();
  readonly session = new U32Column();
  readonly item = new U32Column();
  readonly user = new U32Column();
  /** Epoch ms of each event's whole second. */
  readonly secondsMs = new F64Column();
  /** Nanoseconds within the second. */
  readonly nanos = new U32Column();
  /** Exposures per item id. */
  readonly itemCounts = new U32Counts();
  /** Whether user ids are kept (per-user artifacts need them). */
  readonly hasUsers: boolean;
  /** Whether event instants are kept (`session_seq` needs them). */
  readonly hasInstants: boolean;

  /**
   * Columns that no requested artifact reads can be skipped (16 bytes per
   * event for users + instants); builders that need them check.
   */
  constructor(options: { users?: boolean; instants?: boolean } = {}) {
    this.hasUsers = options.users ?? true;
    this.hasInstants = options.instants ?? true;
  }

  get length(): number {
    return this.item.length;
  }

  /** Appends a canonical event. */
  add(e: CanonicalEvent): void {
    const { secondsMs, nanos } = this.hasInstants ? instantOf(e.ts) : { secondsMs: 0, nanos: 0 };
    this.addRow(this.sessions.intern(e.session_id), this.items.intern(e.item_id), e.user_id === undefined || !this.hasUsers ? NO_USER : this.users.intern(e.user_id), secondsMs, nanos);
  }

  /**
   * Room for `rows` more rows in every kept column and counts for every
   * interned item, so a bulk append (ingest's merge) can write the columns'
   * `data` directly and set their `length` once.
   */
  reserve(rows: number): void {
    this.item.reserve(rows);
    this.session.reserve(rows);
    if (this.hasUsers) this.user.reserve(rows);
    if (this.hasInstants) {
      this.secondsMs.reserve(rows);
      this.nanos.reserve(rows);
    }
    this.itemCounts.reserve(this.items.size);
  }

  /**
   * Removes the rows `from + i` whose bit i is set in `marked` (byte
   * i >> 3, LSB first): the duplicates found after the fact by a spilled
   * dedupe (rows before `from` belong to earlier days).
   * Their ids stay interned: a duplicate shares its session, item and user
   * with the event it duplicates.
   */
  removeMarked(marked: Uint8Array, from = 0): void {
    const item = this.item.view();
    for (let i = from; i < item.length; i++) if ((marked[(i - from) >>> 3]! >>> ((i - from) & 7)) & 1) this.itemCounts.increment(item[i]!, -1);
    this.item.removeMarked(marked, from);
    this.session.removeMarked(marked, from);
    if (this.hasUsers) this.user.removeMarked(marked, from);
    if (this.hasInstants) {
      this.secondsMs.removeMarked(marked, from);
      this.nanos.removeMarked(marked, from);
    }
  }

  /** Appends an event whose ids are already interned in this table. */
  addRow(session: number, item: number, user: number, secondsMs: number, nanos: number): void {
    this.item.push(item);
    this.session.push(session);
    if (this.hasUsers) this.user.push(user);
    if (this.hasInstants) {
      this.secondsMs.push(secondsMs);
      this.nanos.push(nanos);
    }
    this.itemCounts.increment(item);
  }
}
