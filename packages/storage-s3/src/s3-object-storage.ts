import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { UsageError, isStorageKey, isStorageKeyPrefix, type ConditionalPutResult, type ObjectInfo, type ObjectStorage, type ObjectWriter, type VersionedObject } from '@recsys/core';
import { resolveRetry, type ResolvedRetryOptions, type RetryOptions } from './retry.js';
import { MiB, contentTypeOf, headObject, s3Failure, statusOf, toBytes, type S3Target } from './s3-request.js';
import { conditionalPut } from './s3-conditional-put.js';
import { getObject, readRanges } from './s3-ranged-reader.js';
import { openWriter } from './s3-writer.js';

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

/**
 * Normalises a storage prefix (`a/b/`, `/a/b` → `a/b`) and checks every part
 * like a key part. Throws a `UsageError` naming the prefix.
 * @since 0.1.0
 */
export function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed !== '' && !isStorageKey(trimmed)) {
    throw new UsageError(`unsafe S3 key prefix ${JSON.stringify(prefix)}: parts must be non-empty, not "." or "..", and use only [A-Za-z0-9._@-]`, { prefix });
  }
  return trimmed;
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

  /** The bucket, client and retry policy every request of this storage uses. */
  private get target(): S3Target {
    return { client: this.client, bucket: this.bucket, retry: this.retry };
  }

  /** Full object key of a storage key; rejects anything unsafe (core's key grammar, as every adapter). */
  fullKey(key: string): string {
    if (!isStorageKey(key)) throw new UsageError(`unsafe storage key ${JSON.stringify(key)}`, { key, location: this.location });
    return this.base + key;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${this.fullKey(key)}`;
  }

  keyOfUri(uri: string): string | undefined {
    const head = `s3://${this.bucket}/${this.base}`;
    if (!uri.startsWith(head)) return undefined;
    const key = uri.slice(head.length);
    return key !== '' && isStorageKey(key) ? key : undefined;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getVersioned(key))?.data;
  }

  getVersioned(key: string): Promise<VersionedObject | undefined> {
    return getObject(this.target, this.fullKey(key));
  }

  async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const fullKey = this.fullKey(key);
    const head = await headObject(this.target, 'read', fullKey);
    if (!head) return undefined;
    return readRanges(this.target, fullKey, head, this.readChunkBytes);
  }

  async readFrom(key: string, start: number): Promise<AsyncIterable<Uint8Array> | undefined> {
    const fullKey = this.fullKey(key);
    const head = await headObject(this.target, 'read', fullKey);
    if (!head) return undefined;
    // Ranged GETs from `start`: the bytes before it are never fetched.
    return readRanges(this.target, fullKey, head, this.readChunkBytes, start);
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const head = await headObject(this.target, 'stat', this.fullKey(key));
    return head ? { key, size: head.size } : undefined;
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const fullKey = this.fullKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: fullKey, Body: toBytes(data), ContentType: contentTypeOf(key) }));
    } catch (error) {
      throw s3Failure(this.target, 'put', fullKey, error);
    }
  }

  putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    return conditionalPut(this.target, 'putIfAbsent', key, this.fullKey(key), data, null);
  }

  putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    return conditionalPut(this.target, 'putIfGeneration', key, this.fullKey(key), data, generation);
  }

  /**
   * The writer reads nothing back to check it (an upload is checked by the
   * service) and reports no SHA-256: `verifiedByReader` and `reportSha256`
   * change nothing here, and a known `sha256` is not needed.
   */
  async writer(key: string): Promise<ObjectWriter> {
    const fullKey = this.fullKey(key);
    return openWriter(this.target, key, fullKey, {
      partBytes: this.partBytes,
      uploadConcurrency: this.uploadConcurrency,
      put: (data) => this.put(key, data),
      putIfAbsent: (data) => conditionalPut(this.target, 'commit', key, fullKey, data, null),
    });
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    if (!isStorageKeyPrefix(prefix)) {
      throw new UsageError(`unsafe storage key prefix ${JSON.stringify(prefix)}`, { prefix, location: this.location });
    }
    const fullPrefix = this.base + prefix;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: fullPrefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (error) {
        throw s3Failure(this.target, 'list', fullPrefix, error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        const key = object.Key.slice(this.base.length);
        // Objects no key of ours can name (folder markers, foreign names) are not part of the key space.
        if (!isStorageKey(key)) continue;
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
      if (statusOf(error) !== 404) throw s3Failure(this.target, 'delete', fullKey, error);
    }
  }
}
