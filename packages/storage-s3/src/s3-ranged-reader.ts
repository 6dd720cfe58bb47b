import { GetObjectCommand } from '@aws-sdk/client-s3';
import { RecsysError, type VersionedObject } from '@recsys/core';
import { backoffDelay, sleep } from './retry.js';
import { MiB, s3Failure, statusOf, unquote, type Head, type S3Target, type SdkError } from './s3-request.js';

/*
 * Reads: whole objects with their ETag (retried when the body fails
 * mid-stream), and streams of ranged GETs pinned to the ETag seen at open,
 * a failed range resumed from the last byte received.
 */

/** Bytes handed to a consumer at a time. */
const YIELD_BYTES = MiB;

/** A response body failed or ended early while streaming; the request itself had succeeded. */
class BodyError extends Error {
  constructor(override readonly cause: unknown) {
    super('response body failed while streaming', { cause });
  }
}

/** Runs `fn`, retrying it when a response body fails mid-stream (the SDK retries everything before that). */
async function retryBody<T>(target: S3Target, op: string, fullKey: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof BodyError && attempt < target.retry.maxAttempts) {
        await sleep(backoffDelay(attempt, target.retry));
        continue;
      }
      throw s3Failure(target, op, fullKey, error instanceof BodyError ? error.cause : error, error instanceof BodyError ? attempt : undefined);
    }
  }
}

/** The whole object and its ETag (as the generation), or `undefined` when missing. */
export function getObject(target: S3Target, fullKey: string): Promise<VersionedObject | undefined> {
  return retryBody(target, 'get', fullKey, async () => {
    let response;
    try {
      response = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: fullKey }));
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

/** Streams an object as ranged GETs pinned to its ETag, resuming a failed range from the last byte received. */
export async function* readRanges(target: S3Target, fullKey: string, head: Head, readChunkBytes: number, from = 0): AsyncGenerator<Uint8Array> {
  // Socket reads are ~16-64 KiB; consumers do per-chunk work, so hand them ~1 MiB at a time (as a file stream does).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = () => {
    const out = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    return out;
  };
  for (let start = from; start < head.size; start += readChunkBytes) {
    const end = Math.min(head.size, start + readChunkBytes) - 1;
    let position = start;
    for (let attempt = 1; position <= end; attempt++) {
      let response;
      try {
        response = await target.client.send(new GetObjectCommand({ Bucket: target.bucket, Key: fullKey, Range: `bytes=${position}-${end}`, IfMatch: head.etag }));
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 404) {
          throw new RecsysError('runtime', `S3 object s3://${target.bucket}/${fullKey} was ${status === 404 ? 'deleted' : 'replaced'} while being read`, { bucket: target.bucket, key: fullKey, op: 'read' }, { cause: error });
        }
        throw s3Failure(target, 'read', fullKey, error);
      }
      const stream = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      if (!stream) throw s3Failure(target, 'read', fullKey, new Error('GetObject returned no body'));
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
      if (attempt >= target.retry.maxAttempts) throw s3Failure(target, 'read', fullKey, problem, attempt);
      await sleep(backoffDelay(attempt, target.retry));
    }
  }
  if (pendingBytes > 0) yield take();
}
