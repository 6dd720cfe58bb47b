import { FP, FingerprintSet } from '../ingest/fingerprint-set.js';

/**
 * Exact duplicates across the ingest parts of a shard (ingest-parts.ts),
 * by the events' 128-bit fingerprints under this task's key, as a
 * {@link FingerprintSet} of every event would find them, with the set
 * holding only the events of sessions that occur in more than one part.
 *
 * An event and its duplicate share a session, and within a part ingest
 * removed duplicates already, so an event can only repeat one of an
 * earlier part whose session that part also held. Every kept event's
 * fingerprint goes into a flat column, linked to its session's previous
 * kept event; a session's events enter the set when a later part meets the
 * session again, and from then on each of its events is checked against
 * the set. Parts are contiguous in reading order and share few sessions,
 * so the set stays small instead of taking one random probe per event into
 * a table of the whole shard.
 */
export class CrossPartDuplicates {
  private readonly set = new FingerprintSet();
  /** Four words per kept event (its fingerprint). */
  private fps: Uint32Array;
  /** Per kept event: its session's previous kept event, or -1. */
  private prev: Int32Array;
  /** Per session: its last kept event, or -1. */
  private last = new Int32Array(0);
  /** Per session: 1 once its events are in the set. */
  private shared = new Uint8Array(0);
  private kept = 0;
  /** Sessions below this id were first seen in an earlier part. */
  private partStart = 0;

  /** Sized for about `events` kept events (grows past that). */
  constructor(events: number) {
    const cap = Math.max(1024, events);
    this.fps = new Uint32Array(cap * 4);
    this.prev = new Int32Array(cap);
  }

  /** The key to fingerprint lines with (`fingerprintBytes`). */
  get key() {
    return this.set.key;
  }

  /** Starts the next part; `sessions` is how many sessions the earlier parts held (ids below it). */
  startPart(sessions: number): void {
    this.partStart = sessions;
  }

  /**
   * The next event of the part, of session `session`, whose line was just
   * fingerprinted into `FP`: false when it repeats an event of an earlier
   * part (drop it), true when it is kept (and remembered).
   */
  keep(session: number): boolean {
    const h = FP[0]!;
    const l = FP[1]!;
    const kh = FP[2]!;
    const kl = FP[3]!;
    if (session >= this.last.length) this.growSessions(session + 1);
    if (session < this.partStart) {
      if (this.shared[session] === 0) {
        this.shared[session] = 1;
        const fps = this.fps;
        for (let e = this.last[session]!; e >= 0; e = this.prev[e]!) this.set.add(fps[4 * e]!, fps[4 * e + 1]!, fps[4 * e + 2]!, fps[4 * e + 3]!);
      }
      if (!this.set.add(h, l, kh, kl)) return false;
    }
    const e = this.kept++;
    if (e === this.prev.length) this.growEvents();
    const at = 4 * e;
    this.fps[at] = h;
    this.fps[at + 1] = l;
    this.fps[at + 2] = kh;
    this.fps[at + 3] = kl;
    this.prev[e] = this.last[session]!;
    this.last[session] = e;
    return true;
  }

  private growEvents(): void {
    const fps = new Uint32Array(this.fps.length * 2);
    fps.set(this.fps);
    this.fps = fps;
    const prev = new Int32Array(this.prev.length * 2);
    prev.set(this.prev);
    this.prev = prev;
  }

  private growSessions(min: number): void {
    const cap = Math.max(min, this.last.length * 2, 1024);
    const last = new Int32Array(cap).fill(-1);
    last.set(this.last);
    this.last = last;
    const shared = new Uint8Array(cap);
    shared.set(this.shared);
    this.shared = shared;
  }
}
