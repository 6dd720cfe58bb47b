import { randomBytes } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { RecsysError } from '@recsys/core';
import { S3ObjectStorage, normalizeEndpoint, normalizePrefix } from '../src/index.js';
import { objectStorageContract, patternBytes } from '@recsys/core/testing';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const MiB = 1024 * 1024;
const client = testClient();
const prefixes: string[] = [];

function storage(name: string, options: Partial<ConstructorParameters<typeof S3ObjectStorage>[0]> = {}) {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return new S3ObjectStorage({ client, bucket: s3Env().bucket, prefix, partBytes: 5 * MiB, ...options });
}

afterAll(async () => {
  for (const p of prefixes) await deletePrefix(client, s3Env().bucket, p);
});

objectStorageContract('S3 (Ceph RGW)', async () => ({ storage: storage('contract'), cleanup: async () => {} }), { largeBytes: 12 * MiB + 5 });
// storage-fs runs the same suite on the filesystem adapter, and core on MemoryStorage: every back end behaves alike.

describe('S3ObjectStorage specifics', () => {
  it('keeps every key under its prefix and publishes s3:// URIs of the full key', async () => {
    const s = storage('layout');
    await s.put('registry/current/t/s/manifest.json', '{}');
    const raw = await client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `${s.prefix}/registry/current/t/s/manifest.json` }));
    expect(raw.ContentLength).toBe(2);
    expect(raw.ContentType).toBe('application/json');
    expect(s.uri('registry/current/t/s/manifest.json')).toBe(`s3://${s.bucket}/${s.prefix}/registry/current/t/s/manifest.json`);
    expect(s.location).toBe(`s3://${s.bucket}/${s.prefix}`);
    expect(s.keyOfUri(`s3://${s.bucket}/${s.prefix}/a/b.json`)).toBe('a/b.json');
    expect(s.keyOfUri(`s3://other-bucket/${s.prefix}/a/b.json`)).toBeUndefined();
    expect(s.keyOfUri(`s3://${s.bucket}/${s.prefix}x/a/b.json`)).toBeUndefined();
    // A sibling storage under another prefix of the same bucket sees nothing of it.
    const sibling = new S3ObjectStorage({ client, bucket: s.bucket, prefix: `${s.prefix}x` });
    const listed = [];
    for await (const o of sibling.list('')) listed.push(o.key);
    expect(listed).toEqual([]);
    expect(await sibling.get('registry/current/t/s/manifest.json')).toBeUndefined();
  });

  it('uses the ETag without quotes as generation (what Ceph 16 accepts in If-Match)', async () => {
    const s = storage('etag');
    await s.put('m.json', 'v1');
    const { generation } = (await s.getVersioned('m.json'))!;
    const head = await client.send(new HeadObjectCommand({ Bucket: s.bucket, Key: `${s.prefix}/m.json` }));
    expect(head.ETag).toBe(`"${generation}"`);
    expect(generation).not.toContain('"');
    // A quoted generation (as other tools would pass it) works too.
    expect(await s.putIfGeneration('m.json', 'v2', head.ETag!)).toBe('written');
  });

  it('multipart writes: a generation that is a multipart ETag works for CAS, and an aborted upload leaves no parts behind', async () => {
    const s = storage('mpu');
    const w = await s.writer('big.bin');
    await w.write(patternBytes(11 * MiB));
    await w.commit();
    const { generation } = (await s.getVersioned('big.bin'))!;
    expect(generation).toMatch(/-\d+$/);
    expect(await s.putIfGeneration('big.bin', 'small now', generation)).toBe('written');

    const aborted = await s.writer('aborted.bin');
    await aborted.write(patternBytes(12 * MiB, 3));
    await aborted.abort();
    expect(await s.stat('aborted.bin')).toBeUndefined();
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: s.bucket, Prefix: `${s.prefix}/` }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it('reads in ranges of readChunkBytes, pinned to the ETag: an object replaced mid-read fails cleanly', async () => {
    const s = storage('ranges', { readChunkBytes: MiB });
    const data = patternBytes(3 * MiB + 123, 5);
    await s.put('r.bin', data);
    const parts: Buffer[] = [];
    for await (const c of (await s.read('r.bin'))!) parts.push(Buffer.from(c));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(parts.map((p) => p.length)).toEqual([MiB, MiB, MiB, 123]);

    const stream = (await s.read('r.bin'))![Symbol.asyncIterator]();
    expect((await stream.next()).value?.byteLength).toBe(MiB);
    await s.put('r.bin', 'replaced');
    const error = await (async () => {
      for (;;) if ((await stream.next()).done) return undefined;
    })().catch((e: unknown) => e);
    expect(RecsysError.isInstance(error)).toBe(true);
    expect((error as RecsysError).message).toContain('replaced while being read');
  });

  it('lists past one page (1000 keys) in order and skips objects no key can name', async () => {
    const s = storage('paging');
    const keys = Array.from({ length: 1010 }, (_, i) => `p/k${String(i).padStart(4, '0')}.json`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < keys.length) await s.put(keys[next++]!, 'x');
      }),
    );
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: `${s.prefix}/p/folder/`, Body: '' }));
    await client.send(new PutObjectCommand({ Bucket: s.bucket, Key: `${s.prefix}/p/has space.json`, Body: 'x' }));
    const listed = [];
    for await (const o of s.list('p/')) listed.push(o.key);
    expect(listed).toEqual(keys);
  });

  it('wraps failures as runtime errors naming operation, bucket and key', async () => {
    const missing = `recsys-missing-${randomBytes(6).toString('hex')}`;
    const s = new S3ObjectStorage({ client, bucket: missing, prefix: 'x' });
    const error = await s.put('a.json', '{}').catch((e: unknown) => e);
    expect(RecsysError.isInstance(error)).toBe(true);
    expect((error as RecsysError).kind).toBe('runtime');
    expect((error as RecsysError).message).toMatch(new RegExp(`^S3 put of s3://${missing}/x/a\\.json failed after 1 attempt \\(NoSuchBucket HTTP 404`));
    expect((error as RecsysError).context).toMatchObject({ op: 'put', bucket: missing, key: 'x/a.json', status: 404 });
    await expect(s.get('a.json')).rejects.toThrow(/NoSuchBucket/);
  });

  it('normalises prefixes and endpoints', () => {
    expect(normalizePrefix('/recsys/prod/')).toBe('recsys/prod');
    expect(normalizePrefix(undefined)).toBe('');
    expect(() => normalizePrefix('a/../b')).toThrow(/unsafe S3 key prefix/);
    expect(normalizeEndpoint('minio:9000', false)).toBe('http://minio:9000');
    expect(normalizeEndpoint('minio:9000')).toBe('https://minio:9000');
    expect(normalizeEndpoint('http://127.0.0.1:7480/')).toBe('http://127.0.0.1:7480');
  });

  it('stores objects that plain S3 clients read back unchanged', async () => {
    const s = storage('interop');
    await s.put('a/b.json', '{"x":1}');
    const got = await client.send(new GetObjectCommand({ Bucket: s.bucket, Key: `${s.prefix}/a/b.json` }));
    expect(await got.Body!.transformToString()).toBe('{"x":1}');
  });
});
