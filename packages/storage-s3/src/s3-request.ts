import type { S3Client } from '@aws-sdk/client-s3';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { RecsysError } from '@recsys/core';
import type { ResolvedRetryOptions } from './retry.js';

/*
 * What every S3 operation of the adapter shares: the bucket it talks to,
 * the error mapping (SDK error → RecsysError naming op, bucket and key),
 * HeadObject and the write-id metadata that recognises our own writes.
 */

/** The bucket and policies an operation runs with. */
export interface S3Target {
  readonly client: S3Client;
  readonly bucket: string;
  readonly retry: ResolvedRetryOptions;
}

/** User metadata that tags each conditional write with a unique id, to recognise our own write after a lost response. */
export const WRITE_ID = 'recsys-write-id';

export const MiB = 1024 * 1024;

/** An SDK error as the adapter reads it. */
export type SdkError = Error & { $metadata?: { httpStatusCode?: number; attempts?: number }; Code?: string };

export const statusOf = (error: unknown) => (error as SdkError | undefined)?.$metadata?.httpStatusCode;
export const attemptsOf = (error: unknown) => (error as SdkError | undefined)?.$metadata?.attempts ?? 1;
export const unquote = (etag: string) => etag.replace(/^W\//, '').replaceAll('"', '');
export const toBytes = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/** The Content-Type stored with an object, from its key's extension. */
export function contentTypeOf(key: string): string {
  if (key.endsWith('.json')) return 'application/json';
  if (key.endsWith('.jsonl')) return 'application/x-ndjson';
  if (key.endsWith('.gz')) return 'application/gzip';
  return 'application/octet-stream';
}

/** Metadata of an object, from HeadObject. */
export interface Head {
  readonly size: number;
  readonly etag: string;
  readonly writeId: string | undefined;
}

/** The error an operation throws once its retries are used up: `RecsysError('runtime')` naming op, bucket, key, attempts. */
export function s3Failure(target: S3Target, op: string, fullKey: string, error: unknown, attempts = attemptsOf(error)): RecsysError {
  if (RecsysError.isInstance(error)) return error;
  const e = error as SdkError;
  const status = statusOf(error);
  const what = [e?.name, status !== undefined ? `HTTP ${status}` : undefined, (e as { code?: string })?.code].filter(Boolean).join(' ');
  const detail = e?.message && e.message !== e.name ? `: ${e.message}` : '';
  return new RecsysError(
    'runtime',
    `S3 ${op} of s3://${target.bucket}/${fullKey} failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (${what || 'error'}${detail})`,
    { op, bucket: target.bucket, key: fullKey, attempts, ...(status !== undefined ? { status } : {}), ...(e?.name ? { error: e.name } : {}) },
    { cause: error },
  );
}

/** HeadObject; `undefined` on 404. */
export async function headObject(target: S3Target, op: string, fullKey: string): Promise<Head | undefined> {
  let response;
  try {
    response = await target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: fullKey }));
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw s3Failure(target, op, fullKey, error);
  }
  return { size: response.ContentLength ?? 0, etag: unquote(response.ETag ?? ''), writeId: response.Metadata?.[WRITE_ID] };
}
