import type { PipelineEnv } from '../pipeline-env.js';
import { keys, type Scope } from '../keys.js';
import { checkLimit } from '../check-limit.js';
import { RecsysError } from '../errors.js';
import type { ObjectStorage, ObjectWriter, Sha256 } from '../ports.js';
import type { RejectReason } from './raw-event.js';
import type { RawRecordReject } from './raw-source.js';
import type { SpilledDuplicates } from './spilled-dedupe.js';

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
  /** Valid events of this day that belong to another shard (sharded ingest only). */
  other_shard?: number;
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

/**
 * The two outputs of ingesting a day — the canonical partition (hashed as it
 * is written) and the quarantine file — plus the counts. Both are written
 * atomically: nothing is visible until `finish`, and `abort` leaves the
 * previous versions untouched. Shared by both ingest engines.
 */
export class DayOutputs {
  readonly counts: IngestCounts = { read: 0, accepted: 0, duplicates: 0, out_of_window: 0, other_scope: 0, rejected: 0, rejected_by_reason: {} };
  /** Our own hash of the partition, unless its writer reports one (then every byte is hashed once, not twice). */
  private readonly hash: Sha256 | undefined;
  private quarantineWriter: ObjectWriter | undefined;
  private pending: string[] = [];
  private pendingLength = 0;
  private readonly quarantineKey: string;
  private readonly quarantineArea: ObjectStorage;
  private readonly maxEvents: number;

  /** Where the lines go before duplicates are known (spilled dedupe); `finish` copies the kept ones to the partition. */
  private spool: { readonly storage: ObjectStorage; readonly key: string; writer: ObjectWriter | undefined } | undefined;

  private constructor(
    private readonly env: PipelineEnv,
    private readonly day: string,
    scope: Scope,
    private readonly canonicalKey: string,
    private readonly canonical: ObjectWriter | undefined,
    quarantine: { readonly storage: ObjectStorage; readonly key: string } | undefined,
  ) {
    this.hash = canonical?.reportsSha256 ? undefined : env.sha256();
    this.maxEvents = env.limits.max_events_per_run;
    this.quarantineKey = quarantine?.key ?? keys.quarantine(scope, day);
    this.quarantineArea = quarantine?.storage ?? env.areas.quarantine;
  }

  /** Opens the writers; `partitionKey` defaults to the day's canonical partition. */
  static async open(env: PipelineEnv, scope: Scope, day: string, partitionKey = keys.canonicalPartition(scope, day)): Promise<DayOutputs> {
    return new DayOutputs(env, day, scope, partitionKey, await env.areas.canonical.writer(partitionKey), undefined);
  }

  /**
   * Sends the canonical lines to `spool` (local scratch) until `finish`,
   * which copies every line not marked as a duplicate to the partition:
   * for a dedupe that decides after the whole day was read
   * ({@link SpilledDedupe}). The `max_events_per_run` guardrail is then
   * checked on the deduplicated count, at `finish`.
   */
  async spoolTo(storage: ObjectStorage, key: string): Promise<void> {
    this.spool = { storage, key, writer: await storage.writer(key) };
  }

  /**
   * Opens the outputs of one ingest part of a sharded run: no canonical
   * partition (the events go to session-hash buckets), the part's quarantine
   * at `quarantine`.
   */
  static openPart(env: PipelineEnv, scope: Scope, day: string, quarantine: { readonly storage: ObjectStorage; readonly key: string }): DayOutputs {
    return new DayOutputs(env, day, scope, '', undefined, quarantine);
  }

  /** Records a rejected line in quarantine. */
  async reject(source: string, line: number, reason: RejectReason, detail: string, raw: string, truncated = false): Promise<void> {
    const record: Record<string, unknown> = { source, line, reason, detail, raw };
    if (truncated) record.raw_truncated = true;
    await this.record(record, reason);
  }

  private async record(record: Record<string, unknown>, reason: RejectReason): Promise<void> {
    const c = this.counts;
    c.rejected++;
    c.rejected_by_reason[reason] = (c.rejected_by_reason[reason] ?? 0) + 1;
    this.quarantineWriter ??= await this.quarantineArea.writer(this.quarantineKey);
    const text = JSON.stringify(record) + '\n';
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= FLUSH_BYTES) await this.flushQuarantine();
  }

  /** Records a rejected record of a non-line source (a database row) in quarantine, with its location. */
  async rejectRecord(source: string, record: RawRecordReject): Promise<void> {
    await this.record({ source, location: record.location, reason: record.reason, detail: record.detail, raw: record.raw }, record.reason);
  }

  /** Counts one accepted event (guardrail `max_events_per_run`). */
  accepted(): void {
    // Runs once per event: compare here, build the error's detail only when it is thrown.
    if (++this.counts.accepted > this.maxEvents && !this.spool) checkLimit(this.env.limits, 'max_events_per_run', this.counts.accepted, `day ${this.day}`);
  }

  /**
   * Counts `n` accepted events at once: the same guardrail and error as `n`
   * calls of {@link accepted} (the error names the first event over the limit).
   */
  acceptedMany(n: number): void {
    if (this.counts.accepted + n > this.maxEvents && !this.spool) {
      this.counts.accepted = this.maxEvents;
      this.accepted();
    }
    this.counts.accepted += n;
  }

  /** Appends canonical bytes or text. */
  async write(data: string | Uint8Array): Promise<void> {
    if (this.spool) return this.spool.writer!.write(data);
    this.hash?.update(data);
    await this.canonical!.write(data);
  }

  /**
   * Copies the spooled lines to the partition, skipping line i when bit i
   * of `duplicates.dropped` is set, and counts those as duplicates.
   */
  private async unspool(duplicates: SpilledDuplicates): Promise<void> {
    const spool = this.spool!;
    this.spool = undefined;
    const spooled = spool.writer!;
    spool.writer = undefined;
    const { size } = await spooled.commit();
    const where = spool.storage.uri(spool.key);
    try {
      const stream = await spool.storage.read(spool.key);
      if (!stream) throw new RecsysError('integrity', `spooled partition ${where} disappeared before it was copied`, { key: spool.key });
      const { dropped } = duplicates;
      // `line`: the line that starts or continues at `pos`; one cut by a chunk's end keeps its number in the next chunk.
      let line = 0;
      let bytes = 0;
      for await (const chunk of stream) {
        bytes += chunk.length;
        let runStart = 0;
        let pos = 0;
        for (;;) {
          const nl = chunk.indexOf(10, pos);
          const end = nl === -1 ? chunk.length : nl + 1;
          if ((dropped[line >>> 3]! >>> (line & 7)) & 1) {
            if (pos > runStart) await this.write(chunk.subarray(runStart, pos));
            runStart = end;
          }
          if (nl === -1) break;
          line++;
          pos = end;
        }
        if (runStart < chunk.length) await this.write(chunk.subarray(runStart));
      }
      // Scratch files are not hashed: the line and byte counts are what prove the spool whole.
      if (line !== duplicates.events || bytes !== size) {
        throw new RecsysError('integrity', `spooled partition ${where} reads back ${line} lines / ${bytes} bytes; ${duplicates.events} lines / ${size} bytes were written`, { key: spool.key, lines: line, events: duplicates.events, bytes, size });
      }
    } finally {
      await spool.storage.delete(spool.key);
    }
    this.counts.accepted -= duplicates.count;
    this.counts.duplicates += duplicates.count;
    if (this.counts.accepted > this.maxEvents) checkLimit(this.env.limits, 'max_events_per_run', this.counts.accepted, `day ${this.day}`);
  }

  private async flushQuarantine(): Promise<void> {
    if (this.pending.length === 0 || !this.quarantineWriter) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    await this.quarantineWriter.write(text);
  }

  /** Commits both outputs and returns the report; `duplicates`: what a spilled dedupe found (with {@link spoolTo}). */
  async finish(sources: string[], duplicates?: SpilledDuplicates): Promise<IngestReport> {
    const { areas, logger } = this.env;
    if (this.spool) await this.unspool(duplicates ?? { dropped: new Uint8Array(0), count: 0, events: 0 });
    await this.flushQuarantine();
    const committed = this.canonical ? await this.canonical.commit() : { size: 0, sha256: undefined };
    const size = committed.size;
    const sha256 = this.hash ? this.hash.digest() : committed.sha256;
    if (sha256 === undefined) throw new Error(`the writer of ${this.canonicalKey} promised the partition's SHA-256 and returned none`);
    let quarantineUri: string | undefined;
    if (this.quarantineWriter) {
      await this.quarantineWriter.commit();
      quarantineUri = this.quarantineArea.uri(this.quarantineKey);
    } else {
      // A rerun with clean input must not leave the previous run's rejects behind.
      await this.quarantineArea.delete(this.quarantineKey);
    }
    logger.info({ day: this.day, counts: this.counts }, 'ingested day');
    return {
      day: this.day,
      sources,
      counts: this.counts,
      canonical: { key: this.canonicalKey, uri: this.canonical ? areas.canonical.uri(this.canonicalKey) : '', sha256, bytes: size },
      ...(quarantineUri ? { quarantine: quarantineUri } : {}),
    };
  }

  /** Discards both outputs (the previous partition and quarantine stay). */
  async abort(): Promise<void> {
    if (this.spool) {
      await this.spool.writer?.abort().catch(() => {});
      await this.spool.storage.delete(this.spool.key).catch(() => {});
    }
    await this.canonical?.abort().catch(() => {});
    await this.quarantineWriter?.abort().catch(() => {});
  }
}
