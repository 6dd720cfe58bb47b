import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseVersionRecord, type ManifestV1 } from '@recsys/contracts';
import { GO_VERSIONS, TINY_KEY, getText, jsonOf, multipartCoocDay, parseS3Uri, readHistory, readManifest, runCli, s3Section, tempDir, uploadSamples, writeConfig } from './cli.js';
import { FaultProxy, type FaultRule } from './fault-proxy.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const GENERATE = fileURLToPath(new URL('../../../tooling/data/src/generate.mjs', import.meta.url));
const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('cli-faults');
let proxy: FaultProxy;

/** Config whose S3 traffic goes through the proxy: 3 attempts per request, 1.5 s timeout. */
function proxiedConfig(root: string): string {
  const section = { ...s3Section(env, root), endpoint: new URL(proxy.url).host, max_attempts: 3, request_timeout_ms: 1500 };
  return writeConfig(tempDir(), { raw_source: { type: 's3', s3: { ...section, prefix: `${prefix}/raw` } }, storage: { type: 's3', s3: section } });
}

function run(config: string, rule: FaultRule, ...extra: string[]) {
  proxy.reset();
  proxy.rule = rule;
  return runCli(['run', '--config', config, '--json', '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01', ...extra], {
    cwd: tempDir(),
  });
}

async function exists(uri: string): Promise<boolean> {
  const { bucket, key } = parseS3Uri(uri);
  return client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

/** Never a pointer at a missing blob: every URI of the manifest and of every history entry exists. */
async function expectAllPointersResolve(root: string, manifest: ManifestV1 | undefined) {
  const uris = new Set(Object.values(manifest?.current ?? {}));
  for (const entry of await readHistory(client, env.bucket, root, 'demo', 'home')) for (const uri of Object.values(entry.next)) uris.add(uri);
  for (const uri of uris) expect(await exists(uri), uri).toBe(true);
}

beforeAll(async () => {
  proxy = await FaultProxy.start(env.endpoint);
  await uploadSamples(client, env.bucket, `${prefix}/raw`, [TINY_KEY]);
});
beforeEach(() => proxy.reset());
afterAll(async () => {
  await proxy.close();
  await deletePrefix(client, env.bucket, `${prefix}/`);
});

const isBlobPut = (method: string, key: string) => method === 'PUT' && key.includes('/objectstore/');

describe('run through a faulty S3 connection', () => {
  it('retries 503s, resets, a lost answer and a 5 s stall, and publishes exactly once', async () => {
    const root = `${prefix}/ok`;
    const result = await run(proxiedConfig(root), ({ method, key, count }) => {
      if (isBlobPut(method, key) && count === 1) return { kind: 'status', status: 503 };
      if (method === 'GET' && key.endsWith('exposure.2026-01-01.jsonl') && count === 1) return { kind: 'reset' };
      // The history claim lands but its answer is lost: the retry must not count it as a lost race.
      if (method === 'PUT' && key.includes('/registry/history/') && count === 1) return { kind: 'lose-response' };
      if (method === 'PUT' && key.endsWith('manifest.json') && count === 1) return { kind: 'stall', ms: 5000, then: 'forward' };
      return undefined;
    });
    expect(result.code, result.stderr).toBe(0);
    expect(Object.fromEntries(jsonOf(result).days[0]!.artifacts.map((a) => [a.key, a.version]))).toEqual(GO_VERSIONS);
    const manifest = await readManifest(client, env.bucket, root, 'demo', 'home');
    expect(Object.keys(manifest!.current).sort()).toEqual(['cooc', 'popularity']);
    const history = await readHistory(client, env.bucket, root, 'demo', 'home');
    expect(history.map((e) => e.seq)).toEqual([1]);
    expect(history[0]!.next).toEqual(manifest!.current);
    await expectAllPointersResolve(root, manifest);
    // Each injected fault was followed by a retry of the same request.
    for (const type of ['popularity', 'cooc']) {
      const puts = proxy.log.filter((r) => isBlobPut(r.method, r.key) && r.key.includes(`/${type}/`));
      expect(puts.slice(0, 2).map((r) => [r.fault, r.status])).toEqual([
        ['status', undefined],
        ['pass', 200],
      ]);
    }
    expect(proxy.requests('PUT', '000000000001.json').map((r) => [r.fault, r.status])).toEqual([
      ['lose-response', 200],
      ['pass', 412],
    ]);
    expect(proxy.requests('PUT', 'manifest.json').map((r) => r.fault)).toEqual(['stall', 'pass']);
    const warnings = result.stderr.split('\n').filter((l) => l.includes('S3 request failed; retrying')).map((l) => JSON.parse(l));
    expect(warnings.map((w) => w.op).sort()).toEqual(['GetObjectCommand', 'PutObjectCommand', 'PutObjectCommand', 'PutObjectCommand', 'PutObjectCommand'].sort());
    expect(warnings.find((w) => w.key.endsWith('manifest.json'))?.error).toBe('TimeoutError');
    expect(result.stderr).not.toContain(env.secretAccessKey);
  });

  it('a blob PUT and the manifest PUT whose answers are lost (applied, answer dropped): one version, published once, every pointer resolves', async () => {
    const root = `${prefix}/lost-answers`;
    const config = proxiedConfig(root);
    const result = await run(config, ({ method, key, count }) => {
      // The cooc blob lands but its answer is lost: the retried exclusive create finds it and must adopt it.
      if (isBlobPut(method, key) && key.includes('/cooc/') && count === 1) return { kind: 'lose-response' };
      // The manifest compare-and-swap lands but its answer is lost: the retry must not undo or repeat the move.
      if (method === 'PUT' && key.endsWith('manifest.json') && count === 1) return { kind: 'lose-response' };
      return undefined;
    });
    expect(result.code, result.stderr).toBe(0);
    expect(Object.fromEntries(jsonOf(result).days[0]!.artifacts.map((a) => [a.key, a.version]))).toEqual(GO_VERSIONS);
    expect(proxy.log.filter((r) => isBlobPut(r.method, r.key) && r.key.includes('/cooc/'))[0]).toMatchObject({ fault: 'lose-response', status: 200 });
    expect(proxy.requests('PUT', 'manifest.json')[0]).toMatchObject({ fault: 'lose-response', status: 200 });
    const manifest = await readManifest(client, env.bucket, root, 'demo', 'home');
    const history = await readHistory(client, env.bucket, root, 'demo', 'home');
    expect(history.map((e) => e.seq)).toEqual([1]);
    expect(history[0]!.next).toEqual(manifest!.current);
    await expectAllPointersResolve(root, manifest);
    // A rerun of the same window (nothing changed) still finds everything in place.
    const again = await run(config, () => undefined);
    expect(again.code, again.stderr).toBe(0);
    await expectAllPointersResolve(root, await readManifest(client, env.bucket, root, 'demo', 'home'));
  });

  it('the multipart path (an object above the part size): a lost part answer, a 503 and a lost completion answer; published once, no upload left', async () => {
    const root = `${prefix}/multipart`;
    // ~150k events of one day: the canonical partition (~20 MB) goes up in several parts.
    const rawPrefix = `${prefix}/raw-multipart`;
    const lines = execFileSync(process.execPath, [GENERATE, '--events', '150000', '--days', '1', '--seed', '7', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--layout', 'flat', '--out', '-'], { maxBuffer: 1 << 30 });
    await client.send(new PutObjectCommand({ Bucket: env.bucket, Key: `${rawPrefix}/demo/home/exposure.2026-01-01.jsonl`, Body: lines }));
    const section = { ...s3Section(env, root), endpoint: new URL(proxy.url).host, max_attempts: 3, request_timeout_ms: 20_000 };
    const config = writeConfig(tempDir(), { raw_source: { type: 's3', s3: { ...section, prefix: rawPrefix } }, storage: { type: 's3', s3: section } });
    const isPart = (method: string, query: URLSearchParams) => method === 'PUT' && query.has('partNumber') && query.has('uploadId');
    const isComplete = (method: string, query: URLSearchParams) => method === 'POST' && query.has('uploadId');
    let parts = 0;
    let completions = 0;
    const result = await run(config, ({ method, query }) => {
      if (isPart(method, query) && ++parts === 1) return { kind: 'lose-response' };
      if (isPart(method, query) && parts === 2) return { kind: 'status', status: 503 };
      if (isComplete(method, query) && ++completions === 1) return { kind: 'lose-response' };
      return undefined;
    });
    expect(result.code, result.stderr).toBe(0);
    // The faults were really injected on a multipart upload.
    expect(proxy.log.filter((r) => r.fault === 'lose-response' && r.query.includes('partNumber'))).toHaveLength(1);
    expect(proxy.log.filter((r) => r.fault === 'lose-response' && r.method === 'POST' && r.query.includes('uploadId'))).toHaveLength(1);
    const manifest = await readManifest(client, env.bucket, root, 'demo', 'home');
    expect((await readHistory(client, env.bucket, root, 'demo', 'home')).map((e) => e.seq)).toEqual([1]);
    await expectAllPointersResolve(root, manifest);
    const canonical = await client.send(new HeadObjectCommand({ Bucket: env.bucket, Key: `${root}/canonical/demo/home/exposures/2026-01-01.jsonl` }));
    expect(canonical.ETag).toMatch(/-\d+"$/); // a multipart object
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: env.bucket, Prefix: `${root}/` }));
    expect(uploads.Uploads ?? []).toEqual([]);
  }, 600_000);

  it('a published blob above the part size (multipart): its first part answer lost, a 503 on a part, its completion answer lost; published once, record = stored bytes, verify clean, no upload left', async () => {
    const root = `${prefix}/multipart-blob`;
    const rawPrefix = `${prefix}/raw-multipart-blob`;
    await client.send(new PutObjectCommand({ Bucket: env.bucket, Key: `${rawPrefix}/demo/home/exposure.2026-01-01.jsonl`, Body: multipartCoocDay('2026-01-01') }));
    const section = { ...s3Section(env, root), endpoint: new URL(proxy.url).host, max_attempts: 3, request_timeout_ms: 20_000 };
    // Every row and a 100-neighbour list, no byte cap: the cooc blob stays above the 8 MiB part size.
    const limits = { max_items_per_artifact: 1_000_000, max_neighbors_per_item: 100, max_artifact_bytes: 0 };
    const config = writeConfig(tempDir(), { raw_source: { type: 's3', s3: { ...section, prefix: rawPrefix } }, storage: { type: 's3', s3: section }, limits, blob_format: 'pretty' }); // pretty: keeps the cooc blob above the part size
    // Only the uploads of published blobs (objectstore/…) get faults; staging and canonical writes pass.
    const isBlob = (key: string) => key.includes('/objectstore/');
    const isPart = (method: string, key: string, query: URLSearchParams) => method === 'PUT' && isBlob(key) && query.has('partNumber') && query.has('uploadId');
    const isComplete = (method: string, key: string, query: URLSearchParams) => method === 'POST' && isBlob(key) && query.has('uploadId');
    let parts = 0;
    let completions = 0;
    const result = await run(config, ({ method, key, query }) => {
      if (isPart(method, key, query) && ++parts === 1) return { kind: 'lose-response' };
      if (isPart(method, key, query) && parts === 2) return { kind: 'status', status: 503 };
      if (isComplete(method, key, query) && ++completions === 1) return { kind: 'lose-response' };
      return undefined;
    });
    expect(result.code, result.stderr).toBe(0);
    // The faults were really injected on the multipart upload of a published blob.
    const blobFaults = proxy.log.filter((r) => r.fault !== 'pass' && isBlob(r.key));
    expect(blobFaults.map((r) => [r.method, r.fault, r.query.includes('partNumber')])).toEqual([
      ['PUT', 'lose-response', true],
      ['PUT', 'status', true],
      ['POST', 'lose-response', false],
    ]);
    const manifest = (await readManifest(client, env.bucket, root, 'demo', 'home'))!;
    expect((await readHistory(client, env.bucket, root, 'demo', 'home')).map((e) => e.seq)).toEqual([1]);
    await expectAllPointersResolve(root, manifest);
    // The record describes the bytes as stored (sha256 and size), and the blob is a multipart object.
    const { key: coocKey } = parseS3Uri(manifest.current.cooc!);
    const head = await client.send(new HeadObjectCommand({ Bucket: env.bucket, Key: coocKey }));
    expect(head.ETag).toMatch(/-\d+"$/);
    expect(head.ContentLength).toBeGreaterThan(8 * 2 ** 20);
    const version = /([0-9a-f]{64})\.json$/.exec(coocKey)![1]!;
    const record = parseVersionRecord(JSON.parse((await getText(client, env.bucket, `${root}/registry/records/demo/home/cooc/${version}.json`))!));
    const stored = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: coocKey }))).Body!.transformToByteArray());
    expect(record.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
    expect(record.size_bytes).toBe(stored.byteLength);
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: env.bucket, Prefix: `${root}/` }));
    expect(uploads.Uploads ?? []).toEqual([]);
    proxy.reset();
    const verify = await runCli(['verify', '--config', config, '--log-level', 'warn'], { cwd: tempDir() });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 600_000);

  it('a manifest write that keeps failing fails the run cleanly: exit 1, pointer where it was, no dangling URI', async () => {
    const root = `${prefix}/manifest-down`;
    const config = proxiedConfig(root);
    expect((await run(config, () => undefined)).code).toBe(0);
    const before = await getText(client, env.bucket, `${root}/registry/current/demo/home/manifest.json`);
    const failed = await run(config, ({ method, key }) => (method === 'PUT' && key.endsWith('manifest.json') ? { kind: 'status', status: 503 } : undefined), '--segment', 'new');
    expect(failed.code).toBe(1);
    const error = jsonOf(failed).error!;
    expect(error.kind).toBe('runtime');
    expect(error.message).toContain(`S3 putIfGeneration of s3://${env.bucket}/${root}/registry/current/demo/home/manifest.json failed after 3 attempts`);
    expect(proxy.requests('PUT', 'manifest.json')).toHaveLength(3);
    expect(await getText(client, env.bucket, `${root}/registry/current/demo/home/manifest.json`)).toBe(before);
    await expectAllPointersResolve(root, await readManifest(client, env.bucket, root, 'demo', 'home'));
  });

  it('a blob write that keeps failing stops before the pointer: manifest and history untouched', async () => {
    const root = `${prefix}/blob-down`;
    const config = proxiedConfig(root);
    expect((await run(config, () => undefined)).code).toBe(0);
    const before = await getText(client, env.bucket, `${root}/registry/current/demo/home/manifest.json`);
    const historyBefore = await readHistory(client, env.bucket, root, 'demo', 'home');
    const failed = await run(config, ({ method, key }) => (isBlobPut(method, key) && key.includes('/cooc/') ? { kind: 'reset' } : undefined), '--segment', 'new');
    expect(failed.code).toBe(1);
    expect(jsonOf(failed).error!.message).toMatch(new RegExp(`^S3 \\w+ of s3://${env.bucket}/${root}/objectstore/demo/home/cooc/[0-9a-f]{64}\\.json failed after 3 attempts`));
    expect(await getText(client, env.bucket, `${root}/registry/current/demo/home/manifest.json`)).toBe(before);
    expect(await readHistory(client, env.bucket, root, 'demo', 'home')).toEqual(historyBefore);
    await expectAllPointersResolve(root, await readManifest(client, env.bucket, root, 'demo', 'home'));
  });

  it('an unreachable raw source fails the run before anything is written', async () => {
    const root = `${prefix}/raw-down`;
    const failed = await run(proxiedConfig(root), ({ key }) => (key.endsWith('exposure.2026-01-01.jsonl') ? { kind: 'status', status: 503 } : undefined));
    expect(failed.code).toBe(1);
    expect(jsonOf(failed).error!.message).toContain(`s3://${env.bucket}/${prefix}/raw/demo/home/exposure.2026-01-01.jsonl failed after 3 attempts`);
    expect(await readManifest(client, env.bucket, root, 'demo', 'home')).toBeUndefined();
    expect(await readHistory(client, env.bucket, root, 'demo', 'home')).toEqual([]);
  });
});
