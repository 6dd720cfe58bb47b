import type { VersionRecordV1 } from '@recsys/contracts';
import { ValidationGateError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';
import type { Limits } from '../limits.js';
import { dayOfMs, dayStartMs, daysInRange } from '../days.js';
import { checkCanonicalGate } from '../validate/gates.js';
import { StoredIngestReportSchema } from '../pipeline/staging.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { IngestDayRow, LiveArtifact, ScopeReport } from './report-types.js';

/*
 * The report's ingest part: the counts of the last N days from the staged
 * ingest reports (a sharded day summed), each day's outcome by the canonical
 * gate under the configured limits, and the versions published for it.
 */

/**
 * Ingest over the last `n` days, ending with the newest day that was
 * ingested or is live; `records` are the version records the report read
 * (a day is published when one of them has a window ending with it).
 */
export async function ingestPart(artifacts: ObjectStorage, scope: Scope, live: readonly LiveArtifact[], records: Iterable<VersionRecordV1 | undefined>, n: number, limits: Limits): Promise<ScopeReport['ingest']> {
  const published = new Map<string, Set<string>>();
  for (const rec of records) {
    if (!rec) continue;
    const day = lastDayOf(rec.window);
    published.set(day, (published.get(day) ?? new Set()).add(`${rec.artifact_type}${rec.segment !== 'default' ? `@${rec.segment}` : ''} ${rec.version.slice(0, 12)}`));
  }
  const reportDays = await ingestRange(artifacts, scope, live, n);
  if (!reportDays) return { days: [] };
  const counts = await ingestDays(artifacts, scope, reportDays);
  const rows: IngestDayRow[] = reportDays.map((day) => {
    const c = counts.get(day);
    const pub = published.get(day);
    const pubList = pub ? { published: [...pub].sort() } : {};
    if (!c) return { day, outcome: pub ? 'published' : 'not_ingested', ...pubList };
    try {
      checkCanonicalGate(day, c, limits);
    } catch (error) {
      if (ValidationGateError.isInstance(error)) {
        return { day, counts: c, outcome: 'blocked', gate: (error as ValidationGateError).gate, message: error.message, ...pubList };
      }
      throw error;
    }
    return { day, counts: c, outcome: pub ? 'published' : 'not_published', ...pubList };
  });
  return { from: reportDays[0]!, to: reportDays.at(-1)!, days: rows };
}

/** Reads every ingest report of the scope's staging area for the given days (whole-day or summed shards). */
async function ingestDays(artifacts: ObjectStorage, scope: Scope, days: readonly string[]): Promise<Map<string, IngestCounts>> {
  const wanted = new Set(days);
  const whole = new Map<string, IngestCounts>();
  const shards = new Map<string, IngestCounts[]>();
  const prefix = keys.ingestReport(scope, '0000-00-00').replace(/0000-00-00\.json$/, '');
  for await (const obj of artifacts.list(prefix)) {
    const m = /([0-9]{4}-[0-9]{2}-[0-9]{2})(\.shard-\d+-of-\d+)?\.json$/.exec(obj.key.slice(prefix.length));
    if (!m || !wanted.has(m[1]!)) continue;
    const data = await artifacts.get(obj.key);
    if (!data) continue;
    let parsed;
    try {
      parsed = StoredIngestReportSchema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    } catch {
      continue;
    }
    if (!parsed.success) continue;
    const counts = parsed.data.counts as IngestCounts;
    if (m[2] === undefined) whole.set(m[1]!, counts);
    else shards.set(m[1]!, [...(shards.get(m[1]!) ?? []), counts]);
  }
  for (const [day, parts] of shards) {
    if (whole.has(day)) continue;
    whole.set(day, sumCounts(parts));
  }
  return whole;
}

function sumCounts(parts: readonly IngestCounts[]): IngestCounts {
  const byReason: Record<string, number> = {};
  const sum = (k: 'read' | 'accepted' | 'duplicates' | 'out_of_window' | 'other_scope' | 'rejected') => parts.reduce((n, p) => n + p[k], 0);
  for (const p of parts) for (const [r, n] of Object.entries(p.rejected_by_reason)) byReason[r] = (byReason[r] ?? 0) + (n ?? 0);
  // A sharded ingest reads each line once in total; other_shard lines are read by another shard.
  const otherShard = parts.reduce((n, p) => n + (p.other_shard ?? 0), 0);
  return {
    read: sum('read') - otherShard,
    accepted: sum('accepted'),
    duplicates: sum('duplicates'),
    out_of_window: sum('out_of_window'),
    other_scope: sum('other_scope'),
    rejected: sum('rejected'),
    rejected_by_reason: byReason,
  } as IngestCounts;
}

/** The day a window ends with (its last whole day). */
function lastDayOf(window: { readonly end: string }): string {
  return dayOfMs(Date.parse(window.end) - 1);
}

/** The N days shown: ending with the newest ingested day or live window, whichever is later. */
async function ingestRange(artifacts: ObjectStorage, scope: Scope, live: readonly LiveArtifact[], n: number): Promise<string[] | undefined> {
  if (n <= 0) return undefined;
  let last: string | undefined;
  const prefix = keys.ingestReport(scope, '0000-00-00').replace(/0000-00-00\.json$/, '');
  // Keys list in order, so the last match is the newest day (one LIST, no reads).
  for await (const obj of artifacts.list(prefix)) {
    const m = /^([0-9]{4}-[0-9]{2}-[0-9]{2})[.]/.exec(obj.key.slice(prefix.length));
    if (m && (last === undefined || m[1]! > last)) last = m[1]!;
  }
  for (const a of live) {
    if (!a.window) continue;
    const day = lastDayOf(a.window);
    if (last === undefined || day > last) last = day;
  }
  if (last === undefined) return undefined;
  const first = dayOfMs(dayStartMs(last) - (n - 1) * 86_400_000);
  return daysInRange(first, last);
}
