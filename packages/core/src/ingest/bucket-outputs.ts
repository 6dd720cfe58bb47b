import type { Crc32, ObjectStorage, ObjectWriter, Sha256Factory } from '../ports.js';
import { crc32Hex, portableCrc32 } from '../crc32-portable.js';
import { Interner } from '../compute/interner.js';
import { ByteInterner } from './byte-interner.js';
import { BucketEncoder, bucketHeaderBytes, type BucketHeader } from '../pipeline/bucket-format.js';

/** One written session-hash bucket of an ingest part. @since 0.4.0 */
export interface BucketInfo {
  readonly key: string;
  /** Canonical events in the bucket (after removing duplicates within the part). */
  readonly events: number;
  /** Exact duplicates removed within the part from this bucket's sessions. */
  readonly duplicates: number;
  /** Distinct sessions in the bucket (its session footer lists their hashes). @since 0.9.0 */
  readonly sessions: number;
  readonly bytes: number;
  /** The bucket's CRC-32 (8 lower-case hex digits), which compute checks before it uses the bucket. @since 0.10.0 */
  readonly crc32: string;
}

/** The shard partition that the only part of a one-part day writes itself (see {@link BucketOutputs}). @since 0.15.0 */
export interface PartPartition {
  readonly key: string;
  /** SHA-256 of its bytes (lower-case hex), as the shard's ingest report and version records cite it. */
  readonly sha256: string;
  readonly bytes: number;
  readonly events: number;
}

/** Where the lines of a one-part day go: the shard's canonical partition (its storage and key), and how to hash them. @since 0.15.0 */
export interface PartLinesTarget {
  readonly storage: ObjectStorage;
  readonly key: string;
  readonly sha256: Sha256Factory;
}

const FLUSH_BYTES = 1 << 20;
const NO_LINES = new Uint8Array(0);

/**
 * The n session-hash buckets of one ingest part, in format `recsys-bucket/3`
 * (pipeline/bucket-format.ts: the events' interned ids and their canonical
 * lines), each bucket written atomically (nothing is visible until
 * `finish`; `abort` leaves the previous buckets in place). Events are
 * appended in input order: {@link row} for each event's ids, then
 * {@link write} for its line (in runs).
 */
export class BucketOutputs {
  private readonly writers: (ObjectWriter | undefined)[];
  /** Each bucket's lines of its open block so far (a buffer reused block after block) and their length. */
  private readonly pending: Uint8Array[];
  private readonly pendingBytes: number[];
  /** Each bucket's CRC-32 so far. */
  private readonly checksums: number[];
  readonly events: number[];
  readonly duplicates: number[];
  private readonly bytes: number[];
  private readonly encoders: BucketEncoder[];
  /**
   * The part's item ids (every bucket numbers the ones it uses itself): `itemNames[id]` is item `id`'s name. While
   * one parser dictionary alone has sent items (one parse thread: `RECSYS_WORKERS=0`, or a part of one chunk), its
   * own ids are the part's, each name new to it is new to the part, and no name is looked up: interning every name
   * of the part again into a `Map` took ~0.4 CPU s per task on the 5M scale-out day, whatever n (each part meets
   * most of the catalogue). A second dictionary starts {@link itemIds}, from the names so far.
   */
  private itemNames: string[] = [];
  private itemIds: Interner | undefined;
  private firstDictionary: number | undefined;
  private readonly dictionaryItems = new Map<number, number[]>();
  /**
   * The part's sessions by their UTF-8 bytes, keyed as the parse workers
   * hash them (no string per session), and each one's id in its bucket.
   */
  private readonly sessionDict: ByteInterner;
  private bucketSession = new Uint32Array(1024);
  /** The runtime's CRC-32 (PipelineEnv.crc32), else core's portable one: the same values. */
  private readonly crc32: Crc32;
  /**
   * With `lines` (one part, one bucket): the shard partition's writer. The bucket then holds the ids and the footer
   * only, and the lines go straight into the partition: with n = 1 the shard's partition is exactly bucket 0's lines,
   * so writing them into the bucket, for the compute task to read back, check and copy into the partition (its
   * SHA-256 taken there), wrote, read and checksummed the day's 0.75 GB at 5 M events once more than `run` does.
   */
  private linesWriter: ObjectWriter | undefined;
  private linesHash: ReturnType<Sha256Factory> | undefined;
  private linesBytes = 0;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly keyOf: (bucket: number) => string,
    readonly count: number,
    crc32: Crc32 | undefined,
    private readonly header: Omit<BucketHeader, 'format' | 'bucket'>,
    sessionKey?: readonly [number, number],
    private readonly lines?: PartLinesTarget,
  ) {
    if (lines && count !== 1) throw new Error(`a part writes its lines into the shard partition only when it is the only part (not with ${count} buckets)`);
    this.crc32 = crc32 ?? portableCrc32;
    this.sessionDict = new ByteInterner({ strings: false, ...(sessionKey ? { key: sessionKey } : {}) });
    this.encoders = Array.from({ length: count }, () => new BucketEncoder());
    this.writers = new Array<ObjectWriter | undefined>(count).fill(undefined);
    this.pending = Array.from({ length: count }, () => new Uint8Array(0));
    this.pendingBytes = new Array<number>(count).fill(0);
    this.checksums = new Array<number>(count).fill(0);
    this.events = new Array<number>(count).fill(0);
    this.duplicates = new Array<number>(count).fill(0);
    this.bytes = new Array<number>(count).fill(0);
  }

  /** The key under which {@link sessions} expects the sessions' hashes. */
  get sessionKey(): readonly [number, number] {
    return this.sessionDict.key;
  }

  /**
   * The bucket ids of a chunk's sessions: session k is the UTF-8 bytes
   * `bytes[ends[k-1]..ends[k])` (from 0 for k = 0), its hash under
   * {@link sessionKey} `hashes[k]` (ByteInterner.hashOf, as the parse
   * workers send it), its bucket `bucketOf[k]`. A session new to the part is
   * named in its bucket's open block.
   */
  sessions(bytes: Uint8Array, ends: Uint32Array, hashes: Uint32Array, bucketOf: Uint16Array): Uint32Array {
    const dict = this.sessionDict;
    const out = new Uint32Array(ends.length);
    let from = 0;
    for (let k = 0; k < ends.length; k++) {
      const to = ends[k]!;
      const known = dict.size;
      const id = dict.internHashed(bytes, from, to, hashes[k]!);
      if (id === known) {
        if (id >= this.bucketSession.length) {
          const bigger = new Uint32Array(this.bucketSession.length * 2);
          bigger.set(this.bucketSession);
          this.bucketSession = bigger;
        }
        this.bucketSession[id] = this.encoders[bucketOf[k]!]!.newSession(bytes, from, to);
      }
      out[k] = this.bucketSession[id]!;
      from = to;
    }
    return out;
  }

  /**
   * The part's item ids of parser dictionary `dictionary`'s items, by the dictionary's own ids, after adding
   * `newItems`: its items not sent before, in the order of its ids (ChunkResult.newItems).
   */
  items(dictionary: number, newItems: readonly string[]): readonly number[] {
    let ids = this.dictionaryItems.get(dictionary);
    if (!ids) {
      this.dictionaryItems.set(dictionary, (ids = []));
      if (this.firstDictionary === undefined) {
        this.firstDictionary = dictionary;
      } else if (!this.itemIds) {
        // A second dictionary: from now on every name goes through a lookup (the first dictionary's ids are the
        // ids these names get, interned in that order).
        const interner = new Interner();
        for (const name of this.itemNames) interner.intern(name);
        this.itemIds = interner;
        this.itemNames = interner.values;
      }
    }
    const interner = this.itemIds;
    if (interner) {
      for (const name of newItems) ids.push(interner.intern(name));
    } else {
      const names = this.itemNames;
      for (const name of newItems) {
        ids.push(names.length);
        names.push(name);
      }
    }
    return ids;
  }

  /** Appends one event's ids (its item id from {@link items}; its line follows with {@link write}). */
  row(bucket: number, session: number, partItem: number): void {
    this.encoders[bucket]!.row(session, partItem, this.itemNames);
  }

  /**
   * Appends one or more whole canonical lines, after their {@link row}s.
   * Returns a promise only when they close the bucket's block and it is
   * being written, and then the caller must await it before it calls
   * `write` again or reuses `lines`: the block's lines (the bucket's buffer
   * and that run) are handed to the writer as they are, not copied (with
   * n = 1 the run is a whole parse chunk; ObjectWriter.write keeps nothing
   * once it resolves). Otherwise they are copied into the bucket's buffer
   * before this returns, and the caller may reuse them: most runs are a line
   * or two (n > 1), so the usual path is that copy and no await.
   */
  write(bucket: number, lines: Uint8Array, events: number): Promise<void> | undefined {
    this.events[bucket]! += events;
    const at = this.pendingBytes[bucket]!;
    const bytes = at + lines.length;
    if (bytes >= FLUSH_BYTES) return this.flush(bucket, lines);
    let buf = this.pending[bucket]!;
    if (bytes > buf.length) {
      const bigger = new Uint8Array(Math.min(FLUSH_BYTES, Math.max(buf.length * 2, bytes, 1 << 16)));
      bigger.set(buf.subarray(0, at));
      this.pending[bucket] = buf = bigger;
    }
    buf.set(lines, at);
    this.pendingBytes[bucket] = bytes;
    return undefined;
  }

  /**
   * Writes the bucket's open block: its buffered lines and then `closing` (the run that filled it), both as they
   * are. The buffer is written into again only after the returned promise resolves (see {@link write}).
   */
  private flush(bucket: number, closing?: Uint8Array): Promise<void> {
    const at = this.pendingBytes[bucket]!;
    if (at === 0 && !closing) return Promise.resolve();
    this.pendingBytes[bucket] = 0;
    const encoder = this.encoders[bucket]!;
    if (encoder.rows !== this.events[bucket]! - encoder.total) throw new Error(`bucket ${bucket}: ${encoder.rows} rows for ${this.events[bucket]! - encoder.total} lines`);
    const buffered = this.pending[bucket]!.subarray(0, at);
    if (this.lines) return Promise.all([this.out(bucket, encoder.block(NO_LINES)), this.outLines(buffered, closing)]).then(() => undefined);
    return this.out(bucket, encoder.block(buffered, closing));
  }

  /** A block's lines, into the shard partition (with {@link lines}). */
  private async outLines(buffered: Uint8Array, closing: Uint8Array | undefined): Promise<void> {
    const writer = await this.partitionWriter();
    for (const data of closing && closing.length > 0 ? [buffered, closing] : [buffered]) {
      if (data.length === 0) continue;
      this.linesHash?.update(data);
      this.linesBytes += data.length;
      await writer.write(data);
    }
  }

  private async partitionWriter(): Promise<ObjectWriter> {
    if (!this.linesWriter) {
      // A canonical partition: every check of the storage's writer, as run's partition (no verifiedByReader).
      const writer = await this.lines!.storage.writer(this.lines!.key);
      // A writer that hashes what it writes anyway (fs) reports the hash: every byte is hashed once.
      if (!writer.reportsSha256) this.linesHash = this.lines!.sha256();
      this.linesWriter = writer;
    }
    return this.linesWriter;
  }

  private async out(bucket: number, pieces: readonly Uint8Array[]): Promise<void> {
    let writer = this.writers[bucket];
    if (!writer) {
      // The compute task checks every bucket against the CRC-32, size and event count recorded in the part report
      // before it uses any of it (assembleShard), so the writer need not read the bucket back to check it as well, nor
      // hash it (a CRC-32 costs half a SHA-256 here; a bucket is an intermediate that this pipeline writes and reads).
      writer = this.writers[bucket] = await this.storage.writer(this.keyOf(bucket), { verifiedByReader: true, reportSha256: false });
      const head = bucketHeaderBytes({ ...this.header, bucket });
      this.checksums[bucket] = this.crc32(head, this.checksums[bucket]!);
      this.bytes[bucket]! += head.length;
      await writer.write(head);
    }
    for (const data of pieces) {
      this.checksums[bucket] = this.crc32(data, this.checksums[bucket]!);
      this.bytes[bucket]! += data.length;
      await writer.write(data);
    }
  }

  /**
   * Commits every bucket (an empty one too, so each compute task finds its bucket), and with {@link lines} first the
   * shard partition (an empty one too), which it returns.
   */
  async finish(): Promise<{ buckets: BucketInfo[]; partition?: PartPartition }> {
    const out: BucketInfo[] = [];
    let partition: PartPartition | undefined;
    if (this.lines) {
      await this.flush(0);
      const writer = await this.partitionWriter();
      const committed = await writer.commit();
      const sha256 = this.linesHash ? this.linesHash.digest() : committed.sha256;
      if (sha256 === undefined) throw new Error(`the writer of ${this.lines.key} promised the partition's SHA-256 and returned none`);
      partition = { key: this.lines.key, sha256, bytes: this.linesBytes, events: this.events[0]! };
    }
    for (let b = 0; b < this.count; b++) {
      await this.flush(b);
      await this.out(b, [this.encoders[b]!.trailer()]);
      await this.writers[b]!.commit();
      out.push({ key: this.keyOf(b), events: this.events[b]!, duplicates: this.duplicates[b]!, sessions: this.encoders[b]!.sessions, bytes: this.bytes[b]!, crc32: crc32Hex(this.checksums[b]!) });
    }
    return partition ? { buckets: out, partition } : { buckets: out };
  }

  /** Discards every bucket (and the partition) written so far. */
  async abort(): Promise<void> {
    for (const w of this.writers) await w?.abort().catch(() => {});
    await this.linesWriter?.abort().catch(() => {});
  }
}
