import { RecsysError } from '../errors.js';
import type { ObjectStorage, ObjectWriter } from '../ports.js';
import { FingerprintSet } from './fingerprint-set.js';

/** Words per spilled record: the four fingerprint words and the event's sequence number. */
const WORDS = 5;
/** Records buffered per partition before they are handed to its writer (160 KiB). */
const DEFAULT_BUFFER_RECORDS = 8192;

/** What {@link SpilledDedupe.resolve} found. @since 0.6.0 */
export interface SpilledDuplicates {
  /** Bit `seq` (byte seq >> 3, LSB first) set for each event that duplicates an earlier one. */
  readonly dropped: Uint8Array;
  /** How many bits are set. */
  readonly count: number;
  /** Events recorded (the spooled partition's lines). */
  readonly events: number;
}

/**
 * Exact duplicate removal for days whose fingerprint table would not fit
 * the memory budget (DESIGN §7: "spill to disk beyond a budget").
 *
 * Instead of deciding each event as it arrives, every fingerprint is
 * appended with the event's sequence number to one of `partitions` spill
 * files on local scratch storage, chosen by the fingerprint's high bits, so
 * an event and its duplicates always share a file. {@link resolve} then
 * reads one file at a time into a {@link FingerprintSet} a `partitions`-th
 * the size of the whole day's, in sequence order, and marks every later
 * occurrence: the same events as the in-memory path drops (first
 * occurrence in input order wins), with at most one partition's table in
 * memory.
 *
 * {@link add} has the in-memory set's signature but always answers "new":
 * the caller keeps every event and removes the marked ones afterwards
 * (DayOutputs spools the partition, the event table drops rows).
 * @since 0.5.0
 */
export class SpilledDedupe {
  /** Allocated on a partition's first record. */
  private readonly buffers: (Uint32Array | undefined)[];
  private readonly fill: Uint32Array;
  private readonly counts: number[];
  private readonly writers: (ObjectWriter | undefined)[];
  private readonly full: { partition: number; records: Uint32Array }[] = [];
  private readonly shift: number;
  private seq = 0;
  private collided = 0;
  private readonly bufferRecords: number;

  /**
   * @param storage scratch storage (local disk) for the spill files; they are deleted by {@link resolve} and {@link abort}.
   * @param prefix key prefix of the spill files, unique to this ingest.
   * @param partitions number of spill files, a power of two from 2 to 4096.
   * @param options.bufferRecords records buffered per partition between writes (default 8192, 160 KiB).
   */
  constructor(
    private readonly storage: ObjectStorage,
    private readonly prefix: string,
    readonly partitions: number,
    options: { readonly bufferRecords?: number } = {},
  ) {
    this.bufferRecords = options.bufferRecords ?? DEFAULT_BUFFER_RECORDS;
    if (!Number.isInteger(Math.log2(partitions)) || partitions < 2 || partitions > 4096) throw new RangeError(`partitions must be a power of two from 2 to 4096, got ${partitions}`);
    this.shift = 32 - Math.log2(partitions);
    this.buffers = new Array<Uint32Array | undefined>(partitions).fill(undefined);
    this.fill = new Uint32Array(partitions);
    this.counts = new Array<number>(partitions).fill(0);
    this.writers = new Array<ObjectWriter | undefined>(partitions).fill(undefined);
  }

  /** Events recorded so far (the next event's sequence number). */
  get size(): number {
    return this.seq;
  }

  /** Distinct events that shared the unkeyed 64-bit part with an earlier one (known after {@link resolve}). */
  get collisions(): number {
    return this.collided;
  }

  /**
   * Records the fingerprint of the next event; always true (the decision is
   * made by {@link resolve}). Call {@link flush} between blocks of events.
   */
  add(h: number, l: number, kh = 0, kl = 0): boolean {
    // The table's index mixes the low bits; the partition takes the high bits of the other word, so the two are independent.
    const p = l >>> this.shift;
    const buffer = this.buffers[p] ?? (this.buffers[p] = new Uint32Array(this.bufferRecords * WORDS));
    let at = this.fill[p]! * WORDS;
    buffer[at++] = h;
    buffer[at++] = l;
    buffer[at++] = kh;
    buffer[at++] = kl;
    buffer[at] = this.seq++;
    if (++this.fill[p]! === this.bufferRecords) {
      this.full.push({ partition: p, records: buffer });
      this.buffers[p] = undefined;
      this.fill[p] = 0;
      this.counts[p]! += this.bufferRecords;
    }
    return true;
  }

  /**
   * {@link add} for each event `k < n` whose `keep[k]` is 1 (fingerprints
   * `fp[4k..4k+4)`), as {@link FingerprintSet.addBlock}; returns 0 and
   * leaves `keep` as it is (duplicates are found by {@link resolve}).
   */
  addBlock(fp: Uint32Array, n: number, keep: Uint8Array): number {
    for (let k = 0; k < n; k++) if (keep[k] === 1) this.add(fp[k * 4]!, fp[k * 4 + 1]!, fp[k * 4 + 2]!, fp[k * 4 + 3]!);
    return 0;
  }

  /** Writes the buffers that filled up since the last call (bounded memory between blocks). */
  async flush(): Promise<void> {
    while (this.full.length > 0) {
      const { partition, records } = this.full.shift()!;
      await this.write(partition, records);
    }
  }

  private async write(partition: number, records: Uint32Array): Promise<void> {
    const writer = (this.writers[partition] ??= await this.storage.writer(this.key(partition)));
    await writer.write(new Uint8Array(records.buffer, records.byteOffset, records.byteLength));
  }

  private key(partition: number): string {
    return `${this.prefix}/fp-${partition.toString(16).padStart(4, '0')}.bin`;
  }

  /**
   * Reads the spill files back one at a time and returns which events are
   * duplicates of an earlier one: bit `seq` of `dropped` (LSB first) is set
   * for each, `count` of them. Deletes the spill files.
   */
  async resolve(): Promise<SpilledDuplicates> {
    await this.flush();
    const dropped = new Uint8Array(Math.ceil(this.seq / 8));
    let count = 0;
    let keep = new Uint8Array(0);
    try {
      for (let p = 0; p < this.partitions; p++) {
        const tail = this.fill[p]!;
        const total = this.counts[p]! + tail;
        if (total === 0) continue;
        const seen = new FingerprintSet(total, [0, 0]);
        // A partition's table is as big as a whole day's in memory: its inserts are batched the same way.
        const decide = (w: Uint32Array, records: number) => {
          if (keep.length < records) keep = new Uint8Array(records);
          keep.fill(1, 0, records);
          if (seen.addBlock(w, records, keep, WORDS) === 0) return;
          for (let r = 0; r < records; r++) {
            if (keep[r] === 0) {
              const s = w[r * WORDS + 4]!;
              dropped[s >>> 3]! |= 1 << (s & 7);
              count++;
            }
          }
        };
        // Spilled records come first: they are older than the ones still buffered.
        if (this.counts[p]! > 0) await this.readBack(p, decide);
        if (tail > 0) decide(this.buffers[p]!, tail);
        this.collided += seen.collisions;
      }
    } finally {
      await this.abort();
    }
    return { dropped, count, events: this.seq };
  }

  private async readBack(partition: number, decide: (words: Uint32Array, records: number) => void): Promise<void> {
    const writer = this.writers[partition]!;
    this.writers[partition] = undefined;
    await writer.commit();
    const stream = await this.storage.read(this.key(partition));
    if (!stream) throw new RecsysError('integrity', `spill file ${this.storage.uri(this.key(partition))} disappeared before it was read back`, { key: this.key(partition) });
    const recordBytes = WORDS * 4;
    // Chunks end anywhere; a record cut in two is completed from the next chunk.
    const carry = new Uint8Array(recordBytes);
    let carried = 0;
    let expected = this.counts[partition]!;
    for await (const chunk of stream) {
      let offset = 0;
      if (carried > 0) {
        const take = Math.min(recordBytes - carried, chunk.length);
        carry.set(chunk.subarray(0, take), carried);
        carried += take;
        offset = take;
        if (carried < recordBytes) continue;
        decide(new Uint32Array(carry.buffer, 0, WORDS), 1);
        expected--;
        carried = 0;
      }
      const records = Math.floor((chunk.length - offset) / recordBytes);
      if (records > 0) {
        const bytes = chunk.subarray(offset, offset + records * recordBytes);
        // Uint32Array needs 4-byte alignment; copy only when the chunk does not provide it.
        const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
        decide(new Uint32Array(aligned.buffer, aligned.byteOffset, records * WORDS), records);
        expected -= records;
      }
      const rest = chunk.length - offset - records * recordBytes;
      if (rest > 0) {
        carry.set(chunk.subarray(chunk.length - rest), 0);
        carried = rest;
      }
    }
    if (expected !== 0 || carried !== 0) throw new RecsysError('integrity', `spill file ${this.storage.uri(this.key(partition))} is truncated: ${expected} records missing`, { key: this.key(partition), missing: expected });
  }

  /** Discards the spill files (also after {@link resolve}). */
  async abort(): Promise<void> {
    for (let p = 0; p < this.partitions; p++) {
      const writer = this.writers[p];
      this.writers[p] = undefined;
      if (writer) await writer.abort().catch(() => {});
      await this.storage.delete(this.key(p));
    }
  }
}

/**
 * How an ingest removes duplicates: in memory, or spilled when the
 * in-memory table would take more than a quarter of `memoryBudget` bytes
 * (the rest is for the event table, the id dictionaries and the parse
 * workers). Sized from the raw bytes, as the in-memory table is.
 * @since 0.5.0
 */
export function dedupePlan(expectedEvents: number, memoryBudget: number | undefined): { readonly spill: false } | { readonly spill: true; readonly partitions: number } {
  if (memoryBudget === undefined) return { spill: false };
  const tableBytes = FingerprintSet.bytesFor(expectedEvents);
  const share = memoryBudget / 4;
  if (tableBytes <= share) return { spill: false };
  // Partitions small enough that one partition's table takes a sixteenth of the share, 16 to 256 of them
  // (their write buffers, 160 KiB each, stay under 40 MiB).
  let partitions = 16;
  while (partitions < 256 && tableBytes / partitions > share / 16) partitions *= 2;
  return { spill: true, partitions };
}
