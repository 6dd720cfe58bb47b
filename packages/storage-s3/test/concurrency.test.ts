import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseVersionRecord } from '@recsys/contracts';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntryV1 } from '@recsys/contracts';
import { GO_VERSIONS, TINY_KEY, getText, jsonOf, listKeys, multipartCoocDay, parseS3Uri, readHistory, readManifest, runCli, s3Section, tempDir, uploadSamples, writeConfig } from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('concurrency');
const WORKER = fileURLToPath(new URL('./fixtures/commit-worker.mjs', import.meta.url));

/** The history is one unbroken chain: seqs 1..n, each entry starting where the previous one ended. */
function expectChain(history: HistoryEntryV1[]) {
  expect(history.map((e) => e.seq)).toEqual(history.map((_, i) => i + 1));
  expect(history[0]!.previous).toEqual({});
  for (let i = 1; i < history.length; i++) expect(history[i]!.previous, `entry ${i + 1}`).toEqual(history[i - 1]!.next);
}

/** Keys an entry added on top of its previous map. */
const added = (e: HistoryEntryV1) => Object.keys(e.next).filter((k) => e.previous[k] !== e.next[k]);

beforeAll(async () => {
  await uploadSamples(client, env.bucket, `${prefix}/raw`, [TINY_KEY]);
});
afterAll(async () => {
  await deletePrefix(client, env.bucket, `${prefix}/`);
});

describe('concurrent publishers on one tenant/surface (S3)', () => {
  it('8 CLI processes publishing different segments at once: no lost pointer update, one complete history chain', async () => {
    const cwd = tempDir();
    const config = writeConfig(cwd, {
      raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) },
      storage: { type: 's3', s3: s3Section(env, `${prefix}/cli`) },
    });
    const segments = Array.from({ length: 8 }, (_, i) => `seg${i + 1}`);
    const results = await Promise.all(
      segments.map((segment) =>
        runCli(['run', '--config', config, '--json', '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01', '--segment', segment], {
          cwd,
          env: { RECSYS_WORKERS: '0' },
        }),
      ),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const published = results.map((r) => jsonOf(r).days[0]!.artifacts);
    const manifest = await readManifest(client, env.bucket, `${prefix}/cli`, 'demo', 'home');
    // Every process's two keys are in the final pointer, each at the URI that process published.
    expect(Object.keys(manifest!.current).sort()).toEqual(segments.flatMap((s) => [`cooc@${s}`, `popularity@${s}`]).sort());
    for (const artifacts of published) for (const a of artifacts) expect(manifest!.current[a.key]).toBe(a.uri);
    const history = await readHistory(client, env.bucket, `${prefix}/cli`, 'demo', 'home');
    expect(history).toHaveLength(8);
    expectChain(history);
    expect(history.at(-1)!.next).toEqual(manifest!.current);
    expect(history.map((e) => added(e).sort().join(','))).toEqual(expect.arrayContaining(segments.map((s) => `cooc@${s},popularity@${s}`)));
    expect(new Set(history.map((e) => e.run_id)).size).toBe(8);
    // The default-segment versions are not touched by segment publishes; segment versions differ from them.
    expect(published.flat().some((a) => a.version === GO_VERSIONS.popularity)).toBe(false);
  });

  it('8 processes × 5 back-to-back Registry.commit calls through S3ObjectStorage: 40 contiguous entries, no update lost', async () => {
    const workers = Array.from({ length: 8 }, (_, w) =>
      new Promise<{ worker: string; seqs: number[]; retries: number }>((resolve, reject) => {
        const child = spawn(process.execPath, [WORKER], {
          env: {
            ...process.env,
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            S3_ENDPOINT: env.endpoint,
            S3_REGION: env.region,
            S3_ACCESS_KEY_ID: env.accessKeyId,
            S3_SECRET_ACCESS_KEY: env.secretAccessKey,
            BUCKET: env.bucket,
            PREFIX: `${prefix}/stress`,
            WORKER: String(w),
            COMMITS: '5',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker ${w} exited ${code}: ${err}`))));
      }),
    );
    const reports = await Promise.all(workers);
    const seqs = reports.flatMap((r) => r.seqs).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const history = await readHistory(client, env.bucket, `${prefix}/stress`, 'race', 'home');
    expect(history).toHaveLength(40);
    expectChain(history);
    for (const e of history) expect(added(e)).toEqual([`popularity@${e.run_id}`]);
    const manifest = await readManifest(client, env.bucket, `${prefix}/stress`, 'race', 'home');
    expect(Object.keys(manifest!.current)).toHaveLength(40);
    expect(manifest!.current).toEqual(history.at(-1)!.next);
    expect(await listKeys(client, env.bucket, `${prefix}/stress/registry/history/race/home/`)).toHaveLength(40);
    console.log(`registry stress: lost races retried ${reports.reduce((n, r) => n + r.retries, 0)} times in total`);
  });
});


describe('two runs of the same window at once (S3, issue 11 items 2 and 11)', () => {
  const ROUNDS = 4;
  it(`${ROUNDS} rounds: both succeed with one version per type whose bytes, sha256 and records agree, multipart blobs included`, { timeout: 1_200_000 }, async () => {
    const raw = multipartCoocDay('2026-01-03');
    let multipartRounds = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const base = `${prefix}/same-window-${round}`;
      await client.send(new PutObjectCommand({ Bucket: env.bucket, Key: `${base}/raw/demo/home/exposure.2026-01-03.jsonl`, Body: raw }));
      const cwd = tempDir();
      // Every row and a 100-neighbour list, no byte cap: the cooc blob must stay above the multipart threshold.
      const limits = { max_items_per_artifact: 1_000_000, max_neighbors_per_item: 100, max_artifact_bytes: 0 };
      const config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${base}/raw`) }, storage: { type: 's3', s3: s3Section(env, `${base}/out`) }, limits, blob_format: 'pretty' }); // pretty: compact would fall under it
      const args = ['run', '--config', config, '--json', '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-03', '--end', '2026-01-03'];
      const first = runCli(args, { cwd });
      // A little over a second later: another built_at (second precision), still overlapping the first run.
      await new Promise((resolve) => setTimeout(resolve, 1100 + round * 100));
      const [a, b] = await Promise.all([first, runCli(args, { cwd })]);
      const where = `round ${round}`;
      expect(a.code, `${where}: first: ${a.stderr}`).toBe(0);
      expect(b.code, `${where}: second: ${b.stderr}`).toBe(0);
      const versions = (r: typeof a) => Object.fromEntries(jsonOf(r).days[0]!.artifacts.map((x) => [x.key, x.version]));
      expect(versions(b), where).toEqual(versions(a));
      const manifest = (await readManifest(client, env.bucket, `${base}/out`, 'demo', 'home'))!;
      for (const [key, uri] of Object.entries(manifest.current)) {
        const { key: blobKey } = parseS3Uri(uri);
        const blob = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: env.bucket, Key: blobKey }))).Body!.transformToByteArray());
        const record = parseVersionRecord(JSON.parse((await getText(client, env.bucket, `${base}/out/registry/records/demo/home/${key}/${versions(a)[key]}.json`))!));
        expect(record.sha256, `${where}: ${key}`).toBe(createHash('sha256').update(blob).digest('hex'));
        expect(record.size_bytes, `${where}: ${key}`).toBe(blob.byteLength);
        if (key === 'cooc' && blob.byteLength > 8 * 1024 * 1024) multipartRounds++;
      }
      const verify = await runCli(['verify', '--config', config, '--log-level', 'warn'], { cwd });
      expect(verify.code, `${where}: ${verify.stdout}${verify.stderr}`).toBe(0);
    }
    // The cooc blob went through the multipart path (where Ceph ignores If-None-Match) every round.
    expect(multipartRounds).toBe(ROUNDS);
  });
});
