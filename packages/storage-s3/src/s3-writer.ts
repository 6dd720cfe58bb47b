import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectWriter } from '@recsys/core';
import { isTransientError } from './retry.js';
import { MiB, WRITE_ID, contentTypeOf, headObject, s3Failure, statusOf, type S3Target } from './s3-request.js';

/*
 * The streaming writer: up to one part is buffered, so a small object
 * becomes one (conditional) PutObject at commit with the same
 * exclusive-create semantics and lost-response handling as putIfAbsent; a
 * larger one streams through a multipart upload (lib-storage) that becomes
 * visible only at CompleteMultipartUpload.
 */

/** What a writer needs besides the bucket. */
export interface WriterOptions {
  readonly partBytes: number;
  readonly uploadConcurrency: number;
  /** A plain PutObject of the whole object (small, non-exclusive commits). */
  readonly put: (data: Uint8Array) => Promise<void>;
  /** A PutObject with `If-None-Match: *` (small, exclusive commits). */
  readonly putIfAbsent: (data: Uint8Array) => Promise<'written' | 'conflict'>;
}

/** The streaming part of a writer, once it outgrew one part. */
interface MultipartWrite {
  write(bytes: Buffer): Promise<void>;
  commit(exclusive: boolean, size: number): Promise<{ size: number; written: boolean }>;
  abort(): Promise<void>;
}

/** A multipart upload through lib-storage fed by a stream; nothing is visible before CompleteMultipartUpload. */
function startMultipart(target: S3Target, key: string, fullKey: string, options: WriterOptions): MultipartWrite {
  const writeId = randomUUID();
  const body = new PassThrough({ highWaterMark: MiB });
  const params: NonNullable<ConstructorParameters<typeof Upload>[0]>['params'] = {
    Bucket: target.bucket,
    Key: fullKey,
    Body: body,
    ContentType: contentTypeOf(key),
    Metadata: { [WRITE_ID]: writeId },
  };
  const upload = new Upload({ client: target.client, params, partSize: options.partBytes, queueSize: options.uploadConcurrency, leavePartsOnError: false });
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
      if (failed) throw s3Failure(target, 'write', fullKey, failure);
      if (!body.write(bytes)) {
        const stop = new AbortController();
        await Promise.race([once(body, 'drain', { signal: stop.signal }).catch(() => {}), finished]);
        stop.abort();
      }
      if (failed) throw s3Failure(target, 'write', fullKey, failure);
    },
    commit: async (exclusive, size) => {
      if (exclusive) {
        // AWS honours If-None-Match on CompleteMultipartUpload (lib-storage sends these params with it);
        // Ceph 16 ignores it, so also refuse up front when the key exists.
        if (await headObject(target, 'commit', fullKey)) {
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
        const head = await headObject(target, 'commit', fullKey).catch(() => undefined);
        if (head?.writeId === writeId) return { size, written: true };
        if (status === 412 && head) return { size, written: false };
      }
      throw s3Failure(target, 'commit', fullKey, failure);
    },
    abort,
  };
}

/** An atomic streaming writer of one object (see the note at the top of this file). */
export function openWriter(target: S3Target, key: string, fullKey: string, options: WriterOptions): ObjectWriter {
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
      if (bufferedBytes > options.partBytes) {
        multipart = startMultipart(target, key, fullKey, options);
        const pending = buffered;
        buffered = [];
        for (const b of pending) await multipart.write(b);
      }
    },
    commit: async (commitOptions) => {
      finish();
      const exclusive = commitOptions?.exclusive === true;
      if (!multipart) {
        const data = Buffer.concat(buffered);
        buffered = [];
        if (!exclusive) {
          await options.put(data);
          return { size, written: true };
        }
        return { size, written: (await options.putIfAbsent(data)) === 'written' };
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
