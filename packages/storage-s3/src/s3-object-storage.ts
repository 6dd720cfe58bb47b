import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { RecsysError, UsageError, type ConditionalPutResult, type ObjectInfo, type ObjectStorage, type ObjectWriter, type VersionedObject } from '@recsys/core';
import { backoffDelay, isTransientError, resolveRetry, sleep, type ResolvedRetryOptions, type RetryOptions } from './retry.js';

/** Options of {@link S3ObjectStorage}. @since 0.1.0 */
export interface S3ObjectStorageOptions {
  /** A client from {@link createS3Client} (its retry strategy and timeouts apply to every request). */
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of this storage inside the bucket, without leading/trailing `/` (default: bucket root). */
  readonly prefix?: string | undefined;
  /** Size of each ranged GET of {@link S3ObjectStorage.read} (default 8 MiB). */
  readonly readChunkBytes?: number | undefined;
  /** Multipart part size of {@link S3ObjectStorage.writer} (default 8 MiB; S3's minimum is 5 MiB). */
  readonly partBytes?: number | undefined;
  /** Parts uploaded concurrently by a writer (default 2); memory is about (this + 1) × `partBytes`. */
  readonly uploadConcurrency?: number | undefined;
  /**
   * Retries of what the SDK cannot retry by itself: a response body that
   * fails or stalls while streaming (resumed from the last byte received),
   * and a conditional write whose outcome is unknown. Default: 5 attempts.
   */
  readonly retry?: RetryOptions | undefined;
}

const MiB = 1024 * 1024;
const YIELD_BYTES = MiB;
const SAFE_KEY_PART = /^[A-Za-z0-9._@-]+$/;
/** User metadata that tags each conditional write with a unique id, to recognise our own write after a lost response. */
const WRITE_ID = 'recsys-write-id';

type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number }; Code?: string };

const statusOf = (error: unknown) => (error as SdkError | undefined)?.$metadata?.httpStatusCode;
const attemptsOf = (error: unknown) => (error as SdkError | undefined)?.$metadata?.attempts ?? 1;
const unquote = (etag: string) => etag.replace(/^W\//, '').replaceAll('"', '');
const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

function isValidKey(key: string): boolean {
  return key.split('/').every((part) => part !== '.' && part !== '..' && SAFE_KEY_PART.test(part));
}

/**
 * Normalises a storage prefix (`a/b/`, `/a/b` → `a/b`) and checks every part
 * like a key part. Throws a `UsageError` naming the prefix.
 * @since 0.1.0
 */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed !== '' && !isValidKey(trimmed)) {
    throw new UsageError(`unsafe S3 key prefix ${JSON.stringify(prefix)}: parts must be non-empty, not "." or "..", and use only [A-Za-z0-9._@-]`, { prefix });
  }
  return trimmed;
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.jsonl')) return 'application/x-ndjson';
  if (key.endsWith('.gz')) return 'application/gzip';
  return 'application/octet-stream';
}

/** A response body failed or ended early while streaming; the request itself had succeeded. */
class BodyError extends Error {
  constructor(override readonly cause: unknown) {
    super('response body failed while streaming', { cause });
  }
}

/** The streaming part of a writer, once it outgrew one part. */
interface MultipartWrite {
  write(bytes: Buffer): Promise<void>;
  commit(exclusive: boolean, size: number): Promise<{ size: number; written: boolean }>;
  abort(): Promise<void>;
}

/** Metadata of an object, from HeadObject. */
interface Head {
  readonly size: number;
  readonly etag: string;
  readonly writeId: string | undefined;
}

/**
 * {@link ObjectStorage} on an S3 bucket (AWS S3, MinIO, Ceph RGW, any
 * S3-compatible store), under a key prefix.
 *
 * - `put` is a single PutObject (atomic per object); `writer` streams
 *   through `@aws-sdk/lib-storage` (multipart for large objects, so nothing
 *   is visible until CompleteMultipartUpload; `abort` aborts the upload).
 * - `putIfAbsent` is `If-None-Match: *`; `putIfGeneration` is `If-Match:
 *   <ETag>` (the generation is the ETag without quotes: Ceph 16 rejects a
 *   quoted `If-Match`). 412, a 409 ConditionalRequestConflict and a 404 of
 *   a vanished key mean `conflict`.
 * - Every request is retried on transient failures by the client's retry
 *   strategy ({@link createS3Client}). A conditional write whose earlier
 *   attempt may have landed (timeout, reset) and that then reports a
 *   conflict is disambiguated by reading the object's write id, so a retry
 *   never reports `conflict` for its own successful write; the precondition
 *   itself guarantees it never writes twice.
 * - `read` streams ranged GETs of `readChunkBytes`, pinned to the ETag seen
 *   at open; a body that fails or stalls mid-range is resumed from the last
 *   byte received.
 * - Failures after the retries throw `RecsysError('runtime')` naming the
 *   operation, bucket and key.
 * @since 0.1.0
 */
export class S3ObjectStorage implements ObjectStorage {
  readonly client: S3Client;
  readonly bucket: string;
  /** Normalised prefix (no leading/trailing `/`), `''` for the bucket root. */
  readonly prefix: string;
  readonly location: string;
  private readonly base: string;
  private readonly readChunkBytes: number;
  private readonly partBytes: number;
  private readonly uploadConcurrency: number;
  private readonly retry: ResolvedRetryOptions;

  constructor(options: S3ObjectStorageOptions) {
    if (!options.bucket) throw new UsageError('S3 bucket name is empty');
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix);
    this.base = this.prefix === '' ? '' : `${this.prefix}/`;
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.readChunkBytes = options.readChunkBytes ?? 8 * MiB;
    this.partBytes = Math.max(options.partBytes ?? 8 * MiB, 5 * MiB);
    this.uploadConcurrency = options.uploadConcurrency ?? 2;
    this.retry = resolveRetry(options.retry);
    if (!(this.readChunkBytes >= 1)) throw new RangeError('readChunkBytes must be >= 1');
  }

  /** Full object key of a storage key; rejects anything unsafe (same rules as the filesystem storage). */
  fullKey(key: string): string {
    if (!isValidKey(key)) throw new UsageError(`unsafe storage key ${JSON.stringify(key)}`, { key, location: this.location });
    return this.base + key;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.fullKey(key)}`;
  }

  keyOfUri(uri: string): string | undefined {
    const head = `s3://${this.bucket}/${this.base}`;
    if (!uri.startsWith(head)) return undefined;
    const key = uri.slice(head.length);
    return key !== '' && isValidKey(key) ? key : undefined;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getVersioned(key))?.data;
  }

  async getVersioned(key: string): Promise<VersionedObject | undefined> {
    const fullKey = this.fullKey(key);
    return this.retryBody('get', fullKey, async () => {
      let response;
      try {
        response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey }));
      } catch (error) {
        if (statusOf(error) === 404 && (error as SdkError).name !== 'NoSuchBucket') return undefined;
        throw error;
      }
      if (!response.Body || response.ETag === undefined) throw new Error('GetObject returned no body or no ETag');
      let data: Uint8Array;
      try {
        data = await response.Body.transformToByteArray();
      } catch (error) {
        throw new BodyError(error);
      }
      if (response.ContentLength !== undefined && data.byteLength !== response.ContentLength) {
        throw new BodyError(new Error(`short body: ${data.byteLength} of ${response.ContentLength} bytes`));
      }
      return { data, generation: unquote(response.ETag) };
    });
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const fullKey = this.fullKey(key);
    const head = await this.head('read', fullKey);
    if (!head) return undefined;
    return this.readRanges(fullKey, head);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const head = await this.head('stat', this.fullKey(key));
    return head ? { key, size: head.size } : undefined;
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const fullKey = this.fullKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: fullKey, Body: toBytes(data), ContentType: contentTypeOf(key) }));
    } catch (error) {
      throw this.failure('put', fullKey, error);
    }
  }

  putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    return this.conditionalPut('putIfAbsent', key, data, null);
  }

  putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    return this.conditionalPut('putIfGeneration', key, data, generation);
  }

  async writer(key: string): Promise<ObjectWriter> {
    const fullKey = this.fullKey(key);
    // Up to one part is buffered: a small object becomes one (conditional) PutObject at commit, so it
    // gets the same exclusive-create semantics and lost-response handling as putIfAbsent.
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let size = 0;
    let multipart: MultipartWrite | undefined;
    let state: 'open' | 'done' = 'open';
    const finish = () => {
      if (state !== 'open') throw new Error('writer already finished');
      state = 'done';
    };
    return {
      write: async (chunk) => {
        if (state !== 'open') throw new Error('writer already finished');
        // Copied: the bytes are held until their part is sent, and callers may reuse their buffer.
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
        size += bytes.byteLength;
        if (multipart) return multipart.write(bytes);
        buffered.push(bytes);
        bufferedBytes += bytes.byteLength;
        if (bufferedBytes > this.partBytes) {
          multipart = this.startMultipart(key, fullKey);
          const pending = buffered;
          buffered = [];
          for (const b of pending) await multipart.write(b);
        }
      },
      commit: async (options) => {
        finish();
        const exclusive = options?.exclusive === true;
        if (!multipart) {
          const data = Buffer.concat(buffered);
          buffered = [];
          if (!exclusive) {
            await this.put(key, data);
            return { size, written: true };
          }
          return { size, written: (await this.conditionalPut('commit', key, data, null)) === 'written' };
        }
        return multipart.commit(exclusive, size);
      },
      abort: async () => {
        if (state !== 'open') return;
        state = 'done';
        buffered = [];
        await multipart?.abort();
      },
    };
  }

  /** A multipart upload through lib-storage fed by a stream; nothing is visible before CompleteMultipartUpload. */
  private startMultipart(key: string, fullKey: string): MultipartWrite {
    const writeId = randomUUID();
    const body = new PassThrough({ highWaterMark: MiB });
    const params: NonNullable<ConstructorParameters<typeof Upload>[0]>['params'] = {
      Bucket: this.bucket,
      Key: fullKey,
      Body: body,
      ContentType: contentTypeOf(key),
      Metadata: { [WRITE_ID]: writeId },
    };
    const upload = new Upload({ client: this.client, params, partSize: this.partBytes, queueSize: this.uploadConcurrency, leavePartsOnError: false });
    let failure: unknown;
    let failed = false;
    // Never rejects: write/commit read the outcome from `failure`.
    const finished = upload.done().then(
      () => undefined,
      (error: unknown) => {
        failed = true;
        failure = error;
        body.destroy();
      },
    );
    const abort = async () => {
      // Failing the body stream makes lib-storage stop and abort the multipart upload before `done` settles.
      body.destroy(new Error('writer aborted'));
      await finished;
    };
    return {
      write: async (bytes) => {
        if (failed) throw this.failure('write', fullKey, failure);
        if (!body.write(bytes)) {
          const stop = new AbortController();
          await Promise.race([once(body, 'drain', { signal: stop.signal }).catch(() => {}), finished]);
          stop.abort();
        }
        if (failed) throw this.failure('write', fullKey, failure);
      },
      commit: async (exclusive, size) => {
        if (exclusive) {
          // AWS honours If-None-Match on CompleteMultipartUpload (lib-storage sends these params with it);
          // Ceph 16 ignores it, so also refuse up front when the key exists.
          if (await this.head('commit', fullKey)) {
            await abort();
            return { size, written: false };
          }
          params.IfNoneMatch = '*';
        }
        body.end();
        await finished;
        if (!failed) return { size, written: true };
        const status = statusOf(failure);
        if (status === 412 || isTransientError(failure)) {
          // The completion may have landed before its response was lost, or lost to another writer.
          const head = await this.head('commit', fullKey).catch(() => undefined);
          if (head?.writeId === writeId) return { size, written: true };
          if (status === 412 && head) return { size, written: false };
        }
        throw this.failure('commit', fullKey, failure);
      },
      abort,
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const dir = prefix.slice(0, Math.max(slash, 0));
    const rest = prefix.slice(slash + 1);
    if ((dir !== '' && !isValidKey(dir)) || (rest !== '' && !SAFE_KEY_PART.test(rest))) {
      throw new UsageError(`unsafe storage key prefix ${JSON.stringify(prefix)}`, { prefix, location: this.location });
    }
    const fullPrefix = this.base + prefix;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: fullPrefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (error) {
        throw this.failure('list', fullPrefix, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        const key = object.Key.slice(this.base.length);
        // Objects no key of ours can name (folder markers, foreign names) are not part of the key space.
        if (!isValidKey(key)) continue;
        yield { key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    const fullKey = this.fullKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    } catch (error) {
      if (statusOf(error) !== 404) throw this.failure('delete', fullKey, error);
    }
  }

  /** HeadObject; `undefined` on 404. */
  private async head(op: string, fullKey: string): Promise<Head | undefined> {
    let response;
    try {
      response = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure(op, fullKey, error);
    }
    return { size: response.ContentLength ?? 0, etag: unquote(response.ETag ?? ''), writeId: response.Metadata?.[WRITE_ID] };
  }

  /**
   * A PutObject with `If-None-Match: *` (`generation` null) or `If-Match`.
   * A rejected precondition is only trusted as-is on the first attempt; after
   * a retry (an earlier attempt may have landed) the object's write id tells
   * whether the write that won was ours.
   */
  private async conditionalPut(op: string, key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    const fullKey = this.fullKey(key);
    const writeId = randomUUID();
    const condition = generation === null ? { IfNoneMatch: '*' } : { IfMatch: unquote(generation) };
    const body = toBytes(data);
    for (let round = 1; ; round++) {
      try {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: fullKey, Body: body, ContentType: contentTypeOf(key), Metadata: { [WRITE_ID]: writeId }, ...condition }),
        );
        return 'written';
      } catch (error) {
        const status = statusOf(error);
        const rejected = status === 412 || status === 409 || (status === 404 && generation !== null);
        if (!rejected) {
          // The SDK has used up its retries; the last attempt may still have landed before its response was lost.
          if (isTransientError(error)) {
            const head = await this.head(op, fullKey).catch(() => undefined);
            if (head?.writeId === writeId) return 'written';
          }
          throw this.failure(op, fullKey, error);
        }
        // A first attempt that was refused cannot be ours.
        if (status !== 409 && attemptsOf(error) === 1 && round === 1) return 'conflict';
        // Retried (an earlier attempt may have landed) or a concurrent conditional write (409): look at the object.
        const head = await this.head(op, fullKey);
        if (head?.writeId === writeId) return 'written';
        if (head || generation !== null) return 'conflict';
        // If-None-Match refused but nothing is there (the competing write failed or was deleted): try again, bounded.
        if (round >= this.retry.maxAttempts) throw this.failure(op, fullKey, error);
        await sleep(backoffDelay(round, this.retry));
      }
    }
  }

  /** Runs `fn`, retrying it when a response body fails mid-stream (the SDK retries everything before that). */
  private async retryBody<T>(op: string, fullKey: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (error instanceof BodyError && attempt < this.retry.maxAttempts) {
          await sleep(backoffDelay(attempt, this.retry));
          continue;
        }
        throw this.failure(op, fullKey, error instanceof BodyError ? error.cause : error, error instanceof BodyError ? attempt : undefined);
      }
    }
  }

  /** Streams an object as ranged GETs pinned to its ETag, resuming a failed range from the last byte received. */
  private async *readRanges(fullKey: string, head: Head): AsyncGenerator<Uint8Array> {
    // Socket reads are ~16-64 KiB; consumers do per-chunk work, so hand them ~1 MiB at a time (as a file stream does).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = () => {
      const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      return out;
    };
    for (let start = 0; start < head.size; start += this.readChunkBytes) {
      const end = Math.min(head.size, start + this.readChunkBytes) - 1;
      let position = start;
      for (let attempt = 1; position <= end; attempt++) {
        let response;
        try {
          response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: fullKey, Range: `bytes=${position}-${end}`, IfMatch: head.etag }));
        } catch (error) {
          const status = statusOf(error);
          if (status === 412 || status === 404) {
            throw new RecsysError('runtime', `S3 object s3://${this.bucket}/${fullKey} was ${status === 404 ? 'deleted' : 'replaced'} while being read`, { bucket: this.bucket, key: fullKey, op: 'read' }, { cause: error });
          }
          throw this.failure('read', fullKey, error);
        }
        const stream = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
        if (!stream) throw this.failure('read', fullKey, new Error('GetObject returned no body'));
        let problem: unknown;
        try {
          for await (const chunk of stream) {
            const bytes = chunk.byteLength > end - position + 1 ? chunk.subarray(0, end - position + 1) : chunk;
            position += bytes.byteLength;
            pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
            pendingBytes += bytes.byteLength;
            if (pendingBytes >= YIELD_BYTES) yield take();
            if (position > end) break;
          }
          if (position <= end) problem = new Error(`range ended early at byte ${position} of ${end + 1}`);
        } catch (error) {
          problem = error;
        } finally {
          stream.destroy?.();
        }
        if (problem === undefined) break;
        if (attempt >= this.retry.maxAttempts) throw this.failure('read', fullKey, problem, attempt);
        await sleep(backoffDelay(attempt, this.retry));
      }
    }
    if (pendingBytes > 0) yield take();
  }

  private failure(op: string, fullKey: string, error: unknown, attempts = attemptsOf(error)): RecsysError {
    if (RecsysError.isInstance(error)) return error;
    const e = error as SdkError;
    const status = statusOf(error);
    const what = [e?.name, status !== undefined ? `HTTP ${status}` : undefined, (e as { code?: string })?.code].filter(Boolean).join(' ');
    const detail = e?.message && e.message !== e.name ? `: ${e.message}` : '';
    return new RecsysError(
      'runtime',
      `S3 ${op} of s3://${this.bucket}/${fullKey} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${what || 'error'}${detail})`,
      { op, bucket: this.bucket, key: fullKey, attempts, ...(status !== undefined ? { status } : {}), ...(e?.name ? { error: e.name } : {}) },
      { cause: error },
    );
  }
}
