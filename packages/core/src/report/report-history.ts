import { parseManifestKey, type HistoryEntryV1, type VersionRecordV1 } from '@recsys/contracts';
import type { Scope } from '../keys.js';
import { diffCurrent } from '../ops/history.js';
import { versionOfUri } from '../ops/blob-check.js';
import type { LiveArtifact, ReportHistoryEntry, ScopeReport, TimelineEvent } from './report-types.js';

/*
 * The report's history part: the newest history entries with their key
 * changes and notes, the per-key timeline, the version each live key pointed
 * at before, and the rollback commands to get back to it.
 */

const BASIC_HISTORY_FIELDS = new Set(['v', 'seq', 'at', 'tenant', 'surface', 'reason', 'message', 'previous', 'next', 'run_id', 'actor']);

function notesOf(entry: HistoryEntryV1): Record<string, unknown> | undefined {
  const extra = Object.entries(entry).filter(([k]) => !BASIC_HISTORY_FIELDS.has(k));
  return extra.length > 0 ? Object.fromEntries(extra) : undefined;
}

/** Quotes a shell word only when needed (the commands are copied into a terminal). */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._/=:@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The rollback commands of a scope: all keys one step back, and each key to its `previous` version. */
export function rollbackCommands(scope: Scope, live: readonly LiveArtifact[], previous: ReadonlyMap<string, string>, configArg: string | undefined): ScopeReport['rollback'] {
  const base = ['recsys-pipelines', 'rollback', ...(configArg !== undefined ? ['--config', shellWord(configArg)] : []), '--tenant', shellWord(scope.tenant), '--surface', shellWord(scope.surface)].join(' ');
  const keysOut: { key: string; to: string; command: string }[] = [];
  for (const a of live) {
    const to = previous.get(a.key);
    if (to === undefined) continue;
    const segment = a.segment !== '' && a.segment !== 'default' ? ` --segment ${shellWord(a.segment)}` : '';
    keysOut.push({ key: a.key, to, command: `${base}${segment} --type ${shellWord(a.type)} --to ${to.slice(0, 12)} --reason '…'` });
  }
  return { all: `${base} --all --steps 1 --reason '…'`, dry_run: `${base} --all --steps 1 --dry-run`, keys: keysOut };
}

/** The URI each live key pointed at before its current version went live (`entries` newest first). */
export function previousUris(entries: readonly HistoryEntryV1[], live: readonly LiveArtifact[]): Map<string, string> {
  const previous = new Map<string, string>();
  const liveUri = new Map(live.map((a) => [a.key, a.uri]));
  for (const entry of entries) {
    for (const [key, uri] of liveUri) {
      if (previous.has(key)) continue;
      const before = entry.previous[key];
      if (entry.next[key] === uri && before !== undefined && before !== uri) previous.set(key, before);
    }
  }
  return previous;
}

/** A rollback target per key: the newest earlier version that was not itself rolled back from. */
export function rollbackTargets(entries: readonly HistoryEntryV1[], live: readonly LiveArtifact[]): Map<string, string> {
  const liveUri = new Map(live.map((a) => [a.key, a.uri]));
  const rolledBackFrom = new Set<string>();
  for (const entry of entries) {
    if (entry.reason !== 'rollback') continue;
    for (const [key, uri] of Object.entries(entry.previous)) if (entry.next[key] !== uri) rolledBackFrom.add(uri);
  }
  const rollbackTarget = new Map<string, string>();
  for (const entry of entries) {
    for (const [key, uri] of liveUri) {
      const before = entry.previous[key];
      if (rollbackTarget.has(key) || before === undefined || before === uri || rolledBackFrom.has(before)) continue;
      if (entry.next[key] !== before) rollbackTarget.set(key, versionOfUri(before));
    }
  }
  return rollbackTarget;
}

/**
 * The shown history entries and the per-key timeline (keys in order, newest
 * event first); `record` reads (once) the record of a version a change
 * names, for its window.
 */
export async function historyTimeline(entries: readonly HistoryEntryV1[], record: (type: string, version: string) => Promise<VersionRecordV1 | undefined>): Promise<{ history: ReportHistoryEntry[]; timeline: ScopeReport['timeline'] }> {
  const history: ReportHistoryEntry[] = entries.map((e) => {
    const notes = notesOf(e);
    return {
      seq: e.seq,
      at: e.at,
      reason: e.reason,
      ...(e.message !== undefined ? { message: e.message } : {}),
      run_id: e.run_id,
      actor: { host: e.actor.host, user: e.actor.user },
      changes: diffCurrent(e.previous, e.next),
      ...(notes ? { notes } : {}),
    };
  });
  const timeline = new Map<string, TimelineEvent[]>();
  for (const h of history) {
    for (const c of h.changes) {
      const parts = parseManifestKey(c.key);
      const rec = c.to ? await record(parts?.type ?? c.key, c.to.version) : undefined;
      const events = timeline.get(c.key) ?? [];
      events.push({
        seq: h.seq,
        at: h.at,
        reason: h.reason,
        ...(h.message !== undefined ? { message: h.message } : {}),
        change: c.change,
        ...(c.from ? { from: c.from.version } : {}),
        ...(c.to ? { to: c.to.version } : {}),
        ...(rec ? { window: rec.window } : {}),
        ...(h.notes ? { notes: h.notes } : {}),
      });
      timeline.set(c.key, events);
    }
  }
  return { history, timeline: [...timeline].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, events]) => ({ key, events })) };
}
