import type { ObjectStorage, ObjectWriter, Sha256, Sha256Factory } from '../ports.js';
import { concatBytes } from '../bytes.js';

/** One written session-hash bucket of an ingest part. @since 0.4.0 */
export interface BucketInfo {
  readonly key: string;
  /** Canonical events in the bucket (after removing duplicates within the part). */
  readonly events: number;
  /** Exact duplicates removed within the part from this bucket's sessions. */
  readonly duplicates: number;
  readonly bytes: number;
  readonly sha256: string;
}

const FLUSH_BYTES = 1 << 20;

/**
 * The n session-hash buckets of one ingest part: canonical JSON Lines, each
 * bucket written atomically (nothing is visible until `finish`; `abort`
 * leaves the previous buckets in place). Events are appended in input order.
 */
export class BucketOutputs {
  private readonly writers: (ObjectWriter | undefined)[];
  private readonly pending: Uint8Array[][];
  private readonly pendingBytes: number[];
  private readonly hashes: Sha256[];
  readonly events: number[];
  readonly duplicates: number[];
  private readonly bytes: number[];

  constructor(
    private readonly storage: ObjectStorage,
    private readonly keyOf: (bucket: number) => string,
    readonly count: number,
    sha256: Sha256Factory,
  ) {
    this.writers = new Array<ObjectWriter | undefined>(count).fill(undefined);
    this.pending = Array.from({ length: count }, () => []);
    this.pendingBytes = new Array<number>(count).fill(0);
    this.hashes = Array.from({ length: count }, () => sha256());
    this.events = new Array<number>(count).fill(0);
    this.duplicates = new Array<number>(count).fill(0);
    this.bytes = new Array<number>(count).fill(0);
  }

  /** Appends one or more whole canonical lines (copied: the caller's buffer may be reused). */
  async write(bucket: number, lines: Uint8Array, events: number): Promise<void> {
    this.events[bucket]! += events;
    this.pending[bucket]!.push(lines.slice());
    this.pendingBytes[bucket]! += lines.length;
    if (this.pendingBytes[bucket]! >= FLUSH_BYTES) await this.flush(bucket);
  }

  private async flush(bucket: number): Promise<void> {
    const parts = this.pending[bucket]!;
    if (parts.length === 0) return;
    const size = this.pendingBytes[bucket]!;
    const data = concatBytes(parts, size);
    this.pending[bucket] = [];
    this.pendingBytes[bucket] = 0;
    this.hashes[bucket]!.update(data);
    this.bytes[bucket]! += size;
    const writer = (this.writers[bucket] ??= await this.storage.writer(this.keyOf(bucket)));
    await writer.write(data);
  }

  /** Commits every bucket (an empty one too, so each compute task finds its bucket). */
  async finish(): Promise<BucketInfo[]> {
    const out: BucketInfo[] = [];
    for (let b = 0; b < this.count; b++) {
      await this.flush(b);
      const writer = this.writers[b];
      if (writer) await writer.commit();
      else await this.storage.put(this.keyOf(b), new Uint8Array(0));
      out.push({ key: this.keyOf(b), events: this.events[b]!, duplicates: this.duplicates[b]!, bytes: this.bytes[b]!, sha256: this.hashes[b]!.digest() });
    }
    return out;
  }

  /** Discards every bucket written so far. */
  async abort(): Promise<void> {
    for (const w of this.writers) await w?.abort().catch(() => {});
  }
}
