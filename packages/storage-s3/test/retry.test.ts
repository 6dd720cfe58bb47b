import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecsysError } from '@recsys/core';
import { BackoffRetryStrategy, S3ObjectStorage, backoffDelay, isTransientError, resolveRetry, type S3AttemptFailure } from '../src/index.js';
import { patternBytes } from '@recsys/core/testing';
import { FaultProxy, type FaultRule } from './fault-proxy.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString() : undefined);

describe('BackoffRetryStrategy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const top = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map((r) => backoffDelay(r, top))).toEqual([99, 199, 399, 799, 999, 999]);
    const bottom = resolveRetry({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(backoffDelay(4, bottom)).toBe(0);
    const mid = resolveRetry({ baseDelayMs: 100, random: () => 0.5 });
    expect(backoffDelay(3, mid)).toBe(200);
  });

  it('retries transient and throttling failures up to maxAttempts, never client errors', async () => {
    const strategy = new BackoffRetryStrategy({ maxAttempts: 3, baseDelayMs: 10, random: () => 0.5 });
    let token = await strategy.acquireInitialRetryToken('');
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' });
    expect([token.getRetryCount(), token.getRetryDelay()]).toEqual([1, 5]);
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    expect([token.getRetryCount(), token.getRetryDelay()]).toEqual([2, 10]);
    await expect(strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow();
    const fresh = await strategy.acquireInitialRetryToken('');
    await expect(strategy.refreshRetryTokenForRetry(fresh, { errorType: 'CLIENT_ERROR' })).rejects.toThrow();
    await expect(strategy.refreshRetryTokenForRetry(fresh, { errorType: 'SERVER_ERROR' })).rejects.toThrow();
  });

  it('waits at least a server Retry-After hint, within maxDelayMs', async () => {
    const strategy = new BackoffRetryStrategy({ baseDelayMs: 10, maxDelayMs: 3000, random: () => 0 });
    const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(''), { errorType: 'THROTTLING', retryAfterHint: new Date(Date.now() + 60_000) });
    expect(token.getRetryDelay()).toBe(3000);
  });

  it('classifies errors that escape the SDK', () => {
    expect(isTransientError(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransientError(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 412 } }))).toBe(false);
    expect(isTransientError(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe(false);
    expect(isTransientError(new Error('wrapped', { cause: Object.assign(new Error('aborted'), { code: 'ECONNRESET' }) }))).toBe(true);
  });
});

describe('S3ObjectStorage through a fault-injecting proxy', () => {
  const env = s3Env();
  const direct = testClient();
  let proxy: FaultProxy;
  let failures: S3AttemptFailure[];
  const prefixes: string[] = [];

  beforeAll(async () => {
    proxy = await FaultProxy.start(env.endpoint);
  });
  afterEach(() => {
    proxy.rule = () => undefined;
  });
  afterAll(async () => {
    await proxy.close();
    for (const p of prefixes) await deletePrefix(direct, env.bucket, p);
  });

  /** A storage whose requests go through the proxy (fast backoff, 1 s timeout), and the same prefix without it. */
  function pair(name: string, rule: FaultRule, maxAttempts = 5) {
    const prefix = uniquePrefix(name);
    prefixes.push(prefix);
    proxy.reset();
    proxy.rule = rule;
    failures = [];
    const client = testClient({
      endpoint: proxy.url,
      requestTimeoutMs: 1000,
      retry: { maxAttempts, baseDelayMs: 20, maxDelayMs: 200 },
      onAttemptFailed: (f) => failures.push(f),
    });
    const faulty = new S3ObjectStorage({ client, bucket: env.bucket, prefix, partBytes: 5 * MiB, readChunkBytes: 4096, retry: { maxAttempts, baseDelayMs: 20, maxDelayMs: 200 } });
    const clean = new S3ObjectStorage({ client: direct, bucket: env.bucket, prefix });
    return { faulty, clean, suffix: (key: string) => `${prefix}/${key}` };
  }

  it('retries 503s and connection resets until the request succeeds', async () => {
    const { faulty, clean } = pair('503', ({ method, key, count }) => {
      if (method === 'PUT' && key.endsWith('a.json') && count <= 2) return { kind: 'status', status: 503 };
      if (method === 'GET' && key.endsWith('a.json') && count === 1) return { kind: 'reset' };
      return undefined;
    });
    await faulty.put('a.json', 'payload');
    expect(text(await clean.get('a.json'))).toBe('payload');
    expect(text(await faulty.get('a.json'))).toBe('payload');
    expect(proxy.requests('PUT', 'a.json').map((r) => r.fault)).toEqual(['status', 'status', 'pass']);
    expect(proxy.requests('GET', 'a.json').map((r) => r.fault)).toEqual(['reset', 'pass']);
    expect(failures.map((f) => [f.operation, f.attempt, f.status, f.transient])).toEqual([
      ['PutObjectCommand', 1, 503, true],
      ['PutObjectCommand', 2, 503, true],
      ['GetObjectCommand', 1, undefined, true],
    ]);
  });

  it('gives up after maxAttempts with a runtime error naming operation, bucket and key', async () => {
    const { faulty, clean, suffix } = pair('giveup', ({ method, key }) => (method === 'PUT' && key.endsWith('m.json') ? { kind: 'status', status: 503 } : undefined), 4);
    await clean.put('m.json', 'before');
    const error = await faulty.putIfGeneration('m.json', 'after', (await clean.getVersioned('m.json'))!.generation).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.kind).toBe('runtime');
    expect((error as Error).message).toContain(`S3 putIfGeneration of s3://${env.bucket}/${suffix('m.json')} failed after 4 attempts`);
    expect(proxy.requests('PUT', 'm.json')).toHaveLength(4);
    expect(text(await clean.get('m.json'))).toBe('before');
  });

  it('a conditional create whose response was lost reports its own write as written, not conflict', async () => {
    const { faulty, clean } = pair('lost-create', ({ method, key, count }) => (method === 'PUT' && key.endsWith('h.json') && count === 1 ? { kind: 'lose-response' } : undefined));
    expect(await faulty.putIfAbsent('h.json', 'mine')).toBe('written');
    expect(text(await clean.get('h.json'))).toBe('mine');
    // The first attempt landed (200 upstream, answer lost); the retry was refused by the precondition.
    expect(proxy.requests('PUT', 'h.json').map((r) => r.status)).toEqual([200, 412]);
  });

  it('a compare-and-swap whose response was lost reports written, and a later stale swap still conflicts', async () => {
    const { faulty, clean } = pair('lost-cas', ({ method, key, count }) => (method === 'PUT' && key.endsWith('m.json') && count === 2 ? { kind: 'lose-response' } : undefined));
    expect(await faulty.putIfGeneration('m.json', 'v1', null)).toBe('written');
    const g1 = (await clean.getVersioned('m.json'))!.generation;
    expect(await faulty.putIfGeneration('m.json', 'v2', g1)).toBe('written');
    expect(text(await clean.get('m.json'))).toBe('v2');
    expect(proxy.requests('PUT', 'm.json').map((r) => r.status)).toEqual([200, 200, 412]);
    expect(await faulty.putIfGeneration('m.json', 'v3', g1)).toBe('conflict');
  });

  it('disambiguates even when the SDK itself gave up (no retries left)', async () => {
    const { faulty, clean } = pair('lost-noretry', ({ method, key }) => (method === 'PUT' && key.endsWith('h.json') ? { kind: 'lose-response' } : undefined), 1);
    expect(await faulty.putIfAbsent('h.json', 'mine')).toBe('written');
    expect(text(await clean.get('h.json'))).toBe('mine');
  });

  it('a retried create that lost to another writer reports conflict', async () => {
    let other: Promise<unknown> | undefined;
    const { faulty, clean } = pair('lost-race', ({ method, key, count }) => {
      if (method === 'PUT' && key.endsWith('h.json') && count === 1) {
        // While our first attempt hangs, another writer creates the key; then our attempt is dropped.
        other = clean.putIfAbsent('h.json', 'theirs');
        return { kind: 'stall', ms: 0, until: other, then: 'drop' };
      }
      return undefined;
    });
    expect(await faulty.putIfAbsent('h.json', 'mine')).toBe('conflict');
    expect(await other).toBe('written');
    expect(text(await clean.get('h.json'))).toBe('theirs');
  });

  it('a stalled conditional write times out, is retried, and its late ghost is refused (5 s stall)', async () => {
    const { faulty, clean } = pair('stall', ({ method, key, count }) => (method === 'PUT' && key.endsWith('h.json') && count === 1 ? { kind: 'stall', ms: 5000, then: 'forward' } : undefined));
    expect(await faulty.putIfAbsent('h.json', 'mine')).toBe('written');
    expect(failures[0]).toMatchObject({ operation: 'PutObjectCommand', attempt: 1, transient: true });
    expect(failures[0]!.error.name).toBe('TimeoutError');
    await expect.poll(() => proxy.requests('PUT', 'h.json')[0]?.status, { timeout: 10_000, interval: 200 }).toBe(412);
    expect(text(await clean.get('h.json'))).toBe('mine');
  });

  it('a read whose body stalls mid-range resumes from the last byte received', async () => {
    const { faulty, clean } = pair('stall-body', ({ method, key, count }) =>
      method === 'GET' && key.endsWith('big.bin') && count === 2 ? { kind: 'stall-body', afterBytes: 1000, ms: 5000 } : undefined,
    );
    const data = patternBytes(20_000, 11);
    await clean.put('big.bin', data);
    const parts: Buffer[] = [];
    for await (const chunk of (await faulty.read('big.bin'))!) parts.push(Buffer.from(chunk));
    expect(sha(Buffer.concat(parts))).toBe(sha(data));
    const ranges = proxy.requests('GET', 'big.bin').map((r) => r.range);
    expect(ranges.slice(0, 4)).toEqual(['bytes=0-4095', 'bytes=4096-8191', 'bytes=5096-8191', 'bytes=8192-12287']);
  });

  it('multipart writes retry failed parts, and a completion whose every answer was lost still commits', async () => {
    let part2Failed = false;
    const { faulty, clean } = pair('mpu', ({ method, key, query }) => {
      if (!key.endsWith('big.bin')) return undefined;
      if (method === 'PUT' && query.get('partNumber') === '2' && !part2Failed) {
        part2Failed = true;
        return { kind: 'status', status: 503 };
      }
      // Every CompleteMultipartUpload lands but its answer is lost, so the SDK gives up: only the object can tell.
      if (method === 'POST' && query.has('uploadId')) return { kind: 'lose-response' };
      return undefined;
    });
    const data = patternBytes(12 * MiB, 13);
    const w = await faulty.writer('big.bin');
    for (let i = 0; i < data.length; i += MiB) await w.write(data.subarray(i, i + MiB));
    expect(await w.commit()).toEqual({ size: data.length, written: true });
    expect(sha((await clean.get('big.bin'))!)).toBe(sha(data));
    // Part 2 fails once with a 503 and then passes. On a loaded machine an upload can also outlast the test's 1 s
    // timeout and be sent again: each extra attempt must then be one of the timeouts the client reported.
    const part2 = proxy.log.filter((r) => r.method === 'PUT' && r.query.includes('partNumber=2')).map((r) => r.fault);
    expect(part2.slice(0, 2)).toEqual(['status', 'pass']);
    expect(part2.slice(2).every((f) => f === 'pass')).toBe(true);
    const partTimeouts = failures.filter((f) => f.operation === 'UploadPartCommand' && f.error.name === 'TimeoutError').length;
    expect(part2.length - 2).toBeLessThanOrEqual(partTimeouts);
    const completes = proxy.log.filter((r) => r.method === 'POST' && r.query.includes('uploadId'));
    expect(completes.length).toBe(5);
    expect(completes.every((r) => r.status === 200)).toBe(true);
  });
});
