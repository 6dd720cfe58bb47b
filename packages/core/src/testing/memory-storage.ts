import { UsageError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import { isStorageKey } from '../keys.js';
import type { ConditionalPutResult, ObjectInfo, ObjectStorage, ObjectWriter, VersionedObject, WriterOptions } from '../ports.js';

const encoder = new TextEncoder();

/** The key, if it follows the storage key grammar; else a usage error (exit 2), as the adapters throw. */
function checked(key: string): string {
  if (!isStorageKey(key)) throw new UsageError(`unsafe storage key ${JSON.stringify(key)}`, { key });
  return key;
}
const bytesOf = (data: string | Uint8Array) => (typeof data === 'string' ? encoder.encode(data) : data);

/**
 * In-memory {@link ObjectStorage} for core's unit tests (core cannot depend
 * on an adapter). Same contract as the real adapters: atomic put, exclusive
 * create, compare-and-swap on a generation, sorted listing. URIs look like
 * S3's so that they pass the contracts' `blobUri` rule.
 * @since 0.1.0
 */
export class MemoryStorage implements ObjectStorage {
  readonly objects = new Map<string, { data: Uint8Array; generation: string }>();
  private nextGeneration = 1;
  /** Called before every operation (tests use it to interleave two actors deterministically). */
  beforeOp: (op: string, key: string) => Promise<void> | void = (op, key) => this.checkPauses(op, key);

  /** Checks the key (like every adapter, before any I/O), then runs {@link MemoryStorage.beforeOp}. */
  private async enter(op: string, key: string): Promise<void> {
    if (op !== 'list') checked(key);
    await this.beforeOp(op, key);
  }
  private readonly pauses: { op: string; match: (key: string) => boolean; reached: () => void; resumed: Promise<void> }[] = [];

  /**
   * Pauses the next operation `op` on a key matching `match` until `resume`
   * is called; `reached` resolves when an actor is parked there.
   */
  pauseAt(op: string, match: (key: string) => boolean): { reached: Promise<void>; resume: () => void } {
    let reached!: () => void;
    let resume!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const resumed = new Promise<void>((r) => (resume = r));
    this.pauses.push({ op, match, reached, resumed });
    return { reached: reachedP, resume };
  }

  private async checkPauses(op: string, key: string): Promise<void> {
    const i = this.pauses.findIndex((p) => p.op === op && p.match(key));
    if (i === -1) return;
    const [pause] = this.pauses.splice(i, 1);
    pause!.reached();
    await pause!.resumed;
  }

  constructor(readonly bucket: string) {}

  get location(): string {
    return `s3://${this.bucket}`;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${checked(key)}`;
  }

  keyOfUri(uri: string): string | undefined {
    const prefix = `s3://${this.bucket}/`;
    const key = uri.slice(prefix.length);
    return uri.startsWith(prefix) && isStorageKey(key) ? key : undefined;
  }

  private set(key: string, data: string | Uint8Array): void {
    this.objects.set(key, { data: bytesOf(data).slice(), generation: String(this.nextGeneration++) });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    await this.enter('get', key);
    return this.objects.get(key)?.data.slice();
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    await this.enter('getVersioned', key);
    const o = this.objects.get(key);
    return o ? { data: o.data.slice(), generation: o.generation } : undefined;
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const data = await this.get(key);
    if (!data) return undefined;
    return (async function* () {
      yield data;
    })();
  }

  async readFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array> | undefined> {
    const data = await this.get(key);
    if (!data) return undefined;
    // Small pieces, so readers meet chunk edges everywhere.
    return (async function* () {
      for (let at = start; at < data.length; at += 5) yield data.subarray(at, at + 5);
    })();
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    await this.enter('stat', key);
    const o = this.objects.get(key);
    return o ? { key, size: o.data.byteLength } : undefined;
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    await this.enter('put', key);
    this.set(key, data);
  }

  async putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    await this.enter('putIfAbsent', key);
    if (this.objects.has(key)) return 'conflict';
    this.set(key, data);
    return 'written';
  }

  async putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    await this.enter('putIfGeneration', key);
    const current = this.objects.get(key)?.generation ?? null;
    if (current !== generation) return 'conflict';
    this.set(key, data);
    return 'written';
  }

  // The expected SHA-256 (`options.sha256`) is not checked here: nothing is hashed, nothing reports one.
  async writer(key: string, _options?: WriterOptions): Promise<ObjectWriter> {
    checked(key);
    const chunks: Uint8Array[] = [];
    let size = 0;
    return {
      write: async (chunk) => {
        // Copied: callers may reuse the chunk's memory once this resolves (ObjectWriter.write).
        const b = bytesOf(chunk).slice();
        chunks.push(b);
        size += b.byteLength;
      },
      commit: async (options) => {
        await this.enter(options?.exclusive ? 'writer.commit.exclusive' : 'writer.commit', key);
        const all = concatBytes(chunks, size);
        if (options?.exclusive && this.objects.has(key)) return { size, written: false };
        this.set(key, all);
        return { size, written: true };
      },
      abort: async () => {},
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.enter('list', prefix);
    const found = [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([key, o]) => ({ key, size: o.data.byteLength }));
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string): Promise<void> {
    await this.enter('delete', key);
    this.objects.delete(key);
  }
}
