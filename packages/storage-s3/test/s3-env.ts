import { randomBytes } from 'node:crypto';
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createS3Client, type S3ClientSettings } from '../src/index.js';

/** The S3 server the suites run against (see global-setup.ts). */
export interface S3TestEnv {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3TestEnv;
  }
}

export function s3Env(): S3TestEnv {
  return inject('s3');
}

/** A client for the test server; `endpoint` may point at a fault proxy instead. */
export function testClient(overrides: S3ClientSettings = {}): S3Client {
  const env = s3Env();
  return createS3Client({ endpoint: env.endpoint, region: env.region, accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey, ...overrides });
}

/** A key prefix no other test (or earlier run) uses. */
export function uniquePrefix(name: string): string {
  return `t/${name}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Deletes every object under `prefix` (test cleanup). */
export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (objects.length === 0) return deleted;
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
    deleted += objects.length;
  }
}
