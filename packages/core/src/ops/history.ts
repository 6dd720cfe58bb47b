import type { HistoryEntryV1 } from '@recsys/contracts';
import { checkScope, type Scope } from '../keys.js';
import type { CurrentMap, Registry } from '../registry/registry.js';
import { versionOfUri } from './blob-check.js';

/** How one manifest key moved in a pointer change. @since 0.1.0 */
export interface KeyChange {
  readonly key: string;
  readonly change: 'added' | 'changed' | 'removed';
  readonly from?: { readonly uri: string; readonly version: string };
  readonly to?: { readonly uri: string; readonly version: string };
}

/** One history entry as `history` shows it. @since 0.1.0 */
export interface HistoryItem {
  readonly seq: number;
  readonly at: string;
  readonly reason: HistoryEntryV1['reason'];
  readonly message?: string;
  readonly run_id: string;
  readonly actor: HistoryEntryV1['actor'];
  /** Keys whose URI changed; empty when the same versions were published again. */
  readonly changes: KeyChange[];
}

const ref = (uri: string) => ({ uri, version: versionOfUri(uri) });

/**
 * The per-key difference between two pointer maps, keys sorted.
 * @since 0.1.0
 */
export function diffCurrent(previous: CurrentMap, next: CurrentMap): KeyChange[] {
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(next)])].sort();
  const changes: KeyChange[] = [];
  for (const key of keys) {
    const a = previous[key];
    const b = next[key];
    if (a === b) continue;
    if (a === undefined) changes.push({ key, change: 'added', to: ref(b!) });
    else if (b === undefined) changes.push({ key, change: 'removed', from: ref(a) });
    else changes.push({ key, change: 'changed', from: ref(a), to: ref(b) });
  }
  return changes;
}

/**
 * Turns a history entry into its `history` view.
 * @since 0.1.0
 */
export function historyItem(entry: HistoryEntryV1): HistoryItem {
  return {
    seq: entry.seq,
    at: entry.at,
    reason: entry.reason,
    ...(entry.message !== undefined ? { message: entry.message } : {}),
    run_id: entry.run_id,
    actor: entry.actor,
    changes: diffCurrent(entry.previous, entry.next),
  };
}

/**
 * Pointer changes of a tenant/surface, newest first (at most `limit`).
 * @since 0.1.0
 */
export async function readHistory(registry: Registry, scope: Scope, limit = Infinity): Promise<HistoryItem[]> {
  const entries = await registry.history(checkScope(scope), limit);
  return entries.map(historyItem);
}
