import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ConditionalPutResult } from '@recsys/core';
import { backoffDelay, isTransientError, sleep } from './retry.js';
import { WRITE_ID, attemptsOf, contentTypeOf, headObject, s3Failure, statusOf, toBytes, unquote, type S3Target } from './s3-request.js';

/**
 * A PutObject with `If-None-Match: *` (`generation` null) or `If-Match`.
 * A rejected precondition is only trusted as-is on the first attempt; after
 * a retry (an earlier attempt may have landed) the object's write id tells
 * whether the write that won was ours. `key` names the content type.
 */
export async function conditionalPut(target: S3Target, op: string, key: string, fullKey: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
  const writeId = randomUUID();
  const condition = generation === null ? { IfNoneMatch: '*' } : { IfMatch: unquote(generation) };
  const body = toBytes(data);
  for (let round = 1; ; round++) {
    try {
      await target.client.send(
        new PutObjectCommand({ Bucket: target.bucket, Key: fullKey, Body: body, ContentType: contentTypeOf(key), Metadata: { [WRITE_ID]: writeId }, ...condition }),
      );
      return 'written';
    } catch (error) {
      const status = statusOf(error);
      const rejected = status === 412 || status === 409 || (status === 404 && generation !== null);
      if (!rejected) {
        // The SDK has used up its retries; the last attempt may still have landed before its response was lost.
        if (isTransientError(error)) {
          const head = await headObject(target, op, fullKey).catch(() => undefined);
          if (head?.writeId === writeId) return 'written';
        }
        throw s3Failure(target, op, fullKey, error);
      }
      // A first attempt that was refused cannot be ours.
      if (status !== 409 && attemptsOf(error) === 1 && round === 1) return 'conflict';
      // Retried (an earlier attempt may have landed) or a concurrent conditional write (409): look at the object.
      const head = await headObject(target, op, fullKey);
      if (head?.writeId === writeId) return 'written';
      if (head || generation !== null) return 'conflict';
      // If-None-Match refused but nothing is there (the competing write failed or was deleted): try again, bounded.
      if (round >= target.retry.maxAttempts) throw s3Failure(target, op, fullKey, error);
      await sleep(backoffDelay(round, target.retry));
    }
  }
}
