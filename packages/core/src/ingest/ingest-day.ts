import type { PipelineEnv } from '../storage-areas.js';
import type { Scope } from '../keys.js';
import { keys } from '../keys.js';
import { checkLimit } from '../limits.js';
import type { ObjectWriter } from '../ports.js';
import type { EventTable } from '../compute/event-table.js';
import { FingerprintSet } from './fingerprint-set.js';
import { splitLines } from './line-splitter.js';
import { canonicalLine, checkRawEvent, type CanonicalEvent, type RejectReason } from './raw-event.js';
import { openRawSource, rawSourcesForDay } from './raw-source.js';

/** Counts reported for one ingested day (DESIGN §5.2). @since 0.1.0 */
export interface IngestCounts {
  /** Non-blank lines read from all sources. */
  read: number;
  /** Events written to the canonical partition. */
  accepted: number;
  /** Exact duplicates removed (same canonical content). */
  duplicates: number;
  /** Valid events of this tenant/surface whose `ts` is on another day. */
  out_of_window: number;
  /** Valid events of another tenant or surface. */
  other_scope: number;
  /** Lines sent to quarantine. */
  rejected: number;
  rejected_by_reason: Partial<Record<RejectReason, number>>;
}

/** Result of ingesting one day. @since 0.1.0 */
export interface IngestReport {
  readonly day: string;
  readonly sources: string[];
  readonly counts: IngestCounts;
  readonly canonical: { readonly key: string; readonly uri: string; readonly sha256: string; readonly bytes: number };
  /** URI of the day's quarantine file, when anything was rejected. */
  readonly quarantine?: string;
}

const FLUSH_BYTES = 1 << 20;

/** Buffers text and writes it in large chunks. */
class BatchedWriter {
  private buffer: string[] = [];
  private pending = 0;
  constructor(private readonly writer: ObjectWriter, private readonly onText?: (text: string) => void) {}

  async push(text: string): Promise<void> {
    this.buffer.push(text);
    this.pending += text.length;
    if (this.pending >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.pending = 0;
    this.onText?.(text);
    await this.writer.write(text);
  }
}

/**
 * Ingests one UTC day (DESIGN §5.2): streams every raw source, validates and
 * normalises each line, keeps this tenant/surface/day, drops exact
 * duplicates, and atomically replaces the day's canonical partition (empty
 * when nothing was accepted) and quarantine file. Accepted events are also
 * fed to `table`, so `run` computes artifacts without re-reading the
 * partition.
 * @since 0.1.0
 */
export async function ingestDay(env: PipelineEnv, scope: Scope, day: string, table?: EventTable): Promise<IngestReport> {
  const { areas, limits, logger } = env;
  const counts: IngestCounts = { read: 0, accepted: 0, duplicates: 0, out_of_window: 0, other_scope: 0, rejected: 0, rejected_by_reason: {} };
  const canonicalKey = keys.canonicalPartition(scope, day);
  const quarantineKey = keys.quarantine(scope, day);
  const sources = await rawSourcesForDay(areas.raw, scope, day);
  const hash = env.sha256();
  const canonicalWriter = await areas.canonical.writer(canonicalKey);
  const canonical = new BatchedWriter(canonicalWriter, (text) => hash.update(text));
  let quarantineWriter: ObjectWriter | undefined;
  let quarantine: BatchedWriter | undefined;
  const seen = new FingerprintSet();

  const rejectLine = async (source: string, line: number, reason: RejectReason, detail: string, raw: string, truncated = false) => {
    counts.rejected++;
    counts.rejected_by_reason[reason] = (counts.rejected_by_reason[reason] ?? 0) + 1;
    if (!quarantine) {
      quarantineWriter = await areas.quarantine.writer(quarantineKey);
      quarantine = new BatchedWriter(quarantineWriter);
    }
    const record: Record<string, unknown> = { source, line, reason, detail, raw };
    if (truncated) record.raw_truncated = true;
    await quarantine.push(JSON.stringify(record) + '\n');
  };

  try {
    for (const file of sources) {
      const source = areas.raw.uri(file.key);
      logger.debug({ source, day }, 'reading raw source');
      for await (const line of splitLines(await openRawSource(areas.raw, file))) {
        counts.read++;
        if (line.kind === 'too_long') {
          await rejectLine(source, line.lineNo, 'line_too_long', `line is ${line.bytes} bytes; the limit is 1 MiB`, line.prefix, true);
          continue;
        }
        if (line.kind === 'invalid_utf8') {
          await rejectLine(source, line.lineNo, 'invalid_utf8', 'line is not valid UTF-8', line.text);
          continue;
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(line.text);
        } catch (error) {
          await rejectLine(source, line.lineNo, 'invalid_json', (error as Error).message, line.text);
          continue;
        }
        const result = checkRawEvent(parsed);
        if (!result.ok) {
          await rejectLine(source, line.lineNo, result.reason, result.detail, line.text);
          continue;
        }
        const event: CanonicalEvent = result.event;
        if (event.tenant !== scope.tenant || event.surface !== scope.surface) {
          counts.other_scope++;
          continue;
        }
        if (!event.ts.startsWith(day)) {
          counts.out_of_window++;
          continue;
        }
        const text = canonicalLine(event);
        if (!seen.addText(text)) {
          counts.duplicates++;
          continue;
        }
        counts.accepted++;
        checkLimit(limits, 'max_events_per_run', counts.accepted, `day ${day}`);
        await canonical.push(text + '\n');
        table?.add(event);
      }
    }
    await canonical.flush();
    await quarantine?.flush();
  } catch (error) {
    await canonicalWriter.abort().catch(() => {});
    await quarantineWriter?.abort().catch(() => {});
    throw error;
  }
  const { size: canonicalBytes } = await canonicalWriter.commit();
  let quarantineUri: string | undefined;
  if (quarantineWriter) {
    await quarantineWriter.commit();
    quarantineUri = areas.quarantine.uri(quarantineKey);
  } else {
    // A rerun with clean input must not leave the previous run's rejects behind.
    await areas.quarantine.delete(quarantineKey);
  }
  const report: IngestReport = {
    day,
    sources: sources.map((s) => areas.raw.uri(s.key)),
    counts,
    canonical: { key: canonicalKey, uri: areas.canonical.uri(canonicalKey), sha256: hash.digest(), bytes: canonicalBytes },
    ...(quarantineUri ? { quarantine: quarantineUri } : {}),
  };
  logger.info({ day, counts }, 'ingested day');
  return report;
}
