import type { PointerUpdate } from '../registry/registry.js';

/** A window as artifacts and version records carry it (`end` exclusive, ISO UTC). @since 0.1.0 */
export interface PointerWindow {
  readonly start: string;
  readonly end: string;
}

/** One key a publish wants to point at a new blob. @since 0.1.0 */
export interface PointerCandidate {
  readonly key: string;
  readonly uri: string;
  readonly window: PointerWindow;
}

/** What the manifest serves for a key now; `window` is unknown when its version record is missing. @since 0.1.0 */
export interface LivePointer {
  readonly uri: string;
  readonly window?: PointerWindow | undefined;
}

/**
 * What a publish did to one key's pointer:
 * - `moved`: the key now serves the new blob (first publish, newer or same window);
 * - `unchanged`: the key already served exactly this blob;
 * - `kept`: the new blob's window ends before the live one's, so the live one stays
 *   (the version is stored and recorded; `rollback` or `--move-pointer-back` can serve it);
 * - `moved_back`: as `kept`, but asked for explicitly, so the pointer went back.
 * @since 0.1.0
 */
export type PointerAction = 'moved' | 'unchanged' | 'kept' | 'moved_back';

/** The decision for one key. @since 0.1.0 */
export interface PointerDecision {
  readonly key: string;
  readonly action: PointerAction;
  /** The window live before this publish (when known). */
  readonly live?: PointerWindow | undefined;
}

/** Result of {@link decidePointerMoves}. @since 0.1.0 */
export interface PointerPlan {
  /** The keys to move (an empty update moves nothing). */
  readonly update: PointerUpdate;
  readonly decisions: PointerDecision[];
}

/**
 * Decides which keys a publish may move (DESIGN §5.5): a publish never moves
 * a key to a window that ends before the live one unless `moveBack` asks for
 * it. A window ending at the same instant (a recomputed day) or later moves;
 * a live key whose window is unknown (no version record) is treated as older,
 * because refusing would wedge the key forever. Pure, so it can run inside
 * the manifest compare-and-swap loop against whatever pointer map won the race.
 * @since 0.1.0
 */
export function decidePointerMoves(
  candidates: readonly PointerCandidate[],
  live: Readonly<Record<string, LivePointer | undefined>>,
  options: { readonly moveBack?: boolean } = {},
): PointerPlan {
  const update: Record<string, string> = {};
  const decisions: PointerDecision[] = [];
  for (const candidate of candidates) {
    const current = live[candidate.key];
    if (current?.uri === candidate.uri) {
      decisions.push({ key: candidate.key, action: 'unchanged', live: current.window });
      continue;
    }
    const older = current?.window !== undefined && candidate.window.end < current.window.end;
    if (older && !options.moveBack) {
      decisions.push({ key: candidate.key, action: 'kept', live: current.window });
      continue;
    }
    update[candidate.key] = candidate.uri;
    decisions.push({ key: candidate.key, action: older ? 'moved_back' : 'moved', live: current?.window });
  }
  return { update, decisions };
}

/** `2026-03-02T00:00:00Z`-style window → its last day (`end` is exclusive). @since 0.1.0 */
export function lastDayOf(window: PointerWindow): string {
  // The day holding the window's last instant: `[03-01, 03-02)` → 2026-03-01.
  return new Date(Date.parse(window.end) - 1).toISOString().slice(0, 10);
}
