// The divided scale-out on S3 (Ceph RGW, s3-server.ts), through the built
// binary: n ingest processes at once (each reads only its byte range of the
// raw object, by ranged GETs), then n validate+compute processes at once
// (each reads its bucket of every ingest part), then merge and publish —
// the published blobs are the very bytes of the single-process `run`, and
// the day's quarantine is the same file.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { cli, tempDir, writeConfig, type CliResult } from './helpers.js';
import { REPO } from './doc-blocks.js';
import { s3Server, type S3Server } from './s3-server.js';

const NOW = { RECSYS_TEST_NOW: '2026-02-03T04:05:06Z' };
const DAY = '2026-04-01';

// The subset of @aws-sdk/client-s3 used here (it is storage-s3's dependency, not this package's).
interface S3Sdk {
  S3Client: new (config: object) => { send(command: unknown): Promise<unknown> };
  CreateBucketCommand: new (input: object) => unknown;
  ListObjectsV2Command: new (input: object) => unknown;
  DeleteObjectsCommand: new (input: object) => unknown;
  DeleteBucketCommand: new (input: object) => unknown;
  PutObjectCommand: new (input: object) => unknown;
  GetObjectCommand: new (input: object) => unknown;
}
let server: S3Server;
let sdk: S3Sdk;
let client: InstanceType<S3Sdk['S3Client']>;
const bucket = `shards-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  server = await s3Server();
  // The SDK is storage-s3's dependency; tests only use it to make and empty the bucket.
  const resolved = createRequire(join(REPO, 'packages/storage-s3/package.json')).resolve('@aws-sdk/client-s3');
  sdk = (await import(pathToFileURL(resolved).href)) as S3Sdk;
  client = new sdk.S3Client({ endpoint: server.env.S3_ENDPOINT, region: server.env.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: server.env.AWS_ACCESS_KEY_ID!, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY! } });
  await client.send(new sdk.CreateBucketCommand({ Bucket: bucket }));
}, 900_000);

afterAll(async () => {
  if (client) {
    for (;;) {
      const listed = (await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket }))) as { Contents?: { Key?: string }[] };
      if (!listed.Contents?.length) break;
      await client.send(new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: listed.Contents.map((o) => ({ Key: o.Key! })) } }));
    }
    await client.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
  }
}, 120_000);

/** A deterministic day: sessions of 1–8 events over 300 items, some exact duplicates and a few bad lines. */
function rawDay(events: number): string {
  let state = 7;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const lines: string[] = [];
  for (let session = 1; lines.length < events; session++) {
    const length = 1 + Math.floor(next() * 8);
    for (let k = 0; k < length; k++) {
      const ts = new Date(Date.parse(`${DAY}T00:00:00Z`) + Math.floor(next() * 86_400) * 1000).toISOString().replace('.000Z', 'Z');
      const line = JSON.stringify({ v: 1, ts, tenant: 'big', surface: 'home', session_id: `sess-${session}`, item_id: `item-${Math.floor(next() ** 2 * 300)}` });
      lines.push(line);
      if (next() < 0.02) lines.push(line);
      if (next() < 0.003) lines.push('{"v":1,"ts":"not a time"}');
    }
  }
  return lines.join('\n') + '\n';
}

async function ok(args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  const r = await cli(args, { cwd, env });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

const getText = async (key: string): Promise<string> => ((await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }))) as { Body: { transformToString(): Promise<string> } }).Body.transformToString();

test('3 ingest and 3 compute processes at once on S3 publish the bytes of the single-process run', async () => {
  const raw = rawDay(6000);
  // The single-process run, on files.
  const single = tempDir('recsys-s3-single-');
  mkdirSync(join(single, 'raw/big/home'), { recursive: true });
  writeFileSync(join(single, `raw/big/home/exposure.${DAY}.jsonl`), raw);
  const window = ['--tenant', 'big', '--surface', 'home', '--start', DAY, '--end', DAY];
  await ok(['run', '--config', writeConfig(single, { limits: { min_cooc_support: 2, max_bad_event_ratio: 0.01 } }), ...window], single, NOW);

  // The sharded run, every area and the raw input on S3.
  await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: `raw/big/home/exposure.${DAY}.jsonl`, Body: raw }));
  const dir = tempDir('recsys-s3-shards-');
  const s3 = { bucket, endpoint: server.env.S3_ENDPOINT, region: server.env.AWS_REGION };
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ storage: { type: 's3', s3: { ...s3, prefix: 'pipelines' } }, raw_source: { type: 's3', s3: { ...s3, prefix: 'raw' } }, limits: { min_cooc_support: 2, max_bad_event_ratio: 0.01 } }));
  const env = { ...NOW, ...server.env };
  const c = ['--config', config, ...window];
  const n = 3;
  const ingests = await Promise.all(Array.from({ length: n }, (_, i) => ok(['ingest', '--json', ...c, '--shard', `${i}/${n}`], dir, env)));
  // The job shape of docs/how-to/k8s: no validate step; compute --shard applies the canonical gates and reports them.
  const computes = await Promise.all(Array.from({ length: n }, (_, i) => ok(['compute', 'popularity', 'cooc', '--json', ...c, '--shard', `${i}/${n}`], dir, env)));
  type Validated = { counts: { read: number; accepted: number }; canonical: { events: number; sessions: number; sha256: string } };
  const validated = computes.map((r) => (JSON.parse(r.stdout) as { days: { validated: Validated }[] }).days[0]!.validated);
  const singleLines = readFileSync(join(single, `out/canonical/big/home/exposures/${DAY}.jsonl`), 'utf8').split('\n').filter(Boolean).length;
  expect(validated.reduce((s, v) => s + v.canonical.events, 0)).toBe(singleLines);
  for (const v of validated) {
    expect(v.canonical.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v.counts.accepted).toBe(v.canonical.events);
  }
  await ok(['merge', 'popularity', 'cooc', ...c], dir, env);
  const published = JSON.parse((await ok(['publish', '--json', ...c], dir, env)).stdout) as { days: { artifacts: { type: string; version: string }[] }[] };

  // Each ingest task read one byte range of the one raw object: together every byte about once.
  type Part = { mode: string; pieces: { start: number; end: number; bytes: number }[]; buckets: unknown[] };
  const parts = ingests.map((r) => (JSON.parse(r.stdout) as { days: { part: Part }[] }).days[0]!.part);
  expect(parts.map((p) => p.mode)).toEqual(['ranges', 'ranges', 'ranges']);
  expect(parts.map((p) => p.buckets.length)).toEqual([3, 3, 3]);
  expect(parts.reduce((s, p) => s + p.pieces[0]!.bytes, 0)).toBe(Buffer.byteLength(raw));
  for (const p of parts) expect(p.pieces[0]!.bytes).toBeLessThan(Buffer.byteLength(raw) / 2);

  // Same versions, same blob bytes, same quarantine.
  const blobDir = join(single, 'out/objectstore/big/home');
  for (const { type, version } of published.days[0]!.artifacts) {
    const local = readFileSync(join(blobDir, type, `${version}.json`), 'utf8');
    expect(await getText(`pipelines/objectstore/big/home/${type}/${version}.json`)).toBe(local);
  }
  expect(published.days[0]!.artifacts.map((a) => a.type).sort()).toEqual(['cooc', 'popularity']);
  expect(readdirSync(join(blobDir, 'cooc'))).toHaveLength(1);
  const quarantine = readFileSync(join(single, `out/quarantine/big/home/${DAY}.jsonl`), 'utf8');
  expect(quarantine.length).toBeGreaterThan(0);
  expect(await getText(`pipelines/quarantine/big/home/${DAY}.jsonl`)).toBe(quarantine.replaceAll(`file://${join(single, 'raw')}`, `s3://${bucket}/raw`));
}, 300_000);
