import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonOf, runCli, s3Section, tempDir, writeConfig } from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const MiB = 1024 * 1024;
const GENERATE = fileURLToPath(new URL('../../../tooling/data/src/generate.mjs', import.meta.url));
const REPORT_RSS = fileURLToPath(new URL('./fixtures/report-rss.mjs', import.meta.url));
// ≈ 300 MB of JSON lines (~141 bytes/event): a flat exposure.jsonl where one tenant's day is followed by
// another tenant's events. The run streams all of it but keeps only its own events, so its peak memory
// shows what the S3 read/write path holds, not the size of the aggregates (those are bounded by distinct
// items/pairs and are the same on every storage).
const OWN_EVENTS = 200_000;
const OTHER_EVENTS = 1_930_000;

const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('large');

// memstore keeps objects in the OSD's RAM: never leave the big objects behind.
afterAll(async () => {
  await deletePrefix(client, env.bucket, `${prefix}/`);
});

describe('large raw input on S3', () => {
  it('streams a ~300 MB raw object through `run` with memory far below the object size', async () => {
    const rawKey = `${prefix}/raw/exposure.jsonl`;
    const body = new PassThrough();
    const generate = async (tenant: string, events: number, seed: string) => {
      const args = [GENERATE, '--events', String(events), '--days', '1', '--seed', seed, '--tenant', tenant, '--surface', 'home', '--start', '2026-02-01', '--layout', 'flat', '--out', '-'];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.pipe(body, { end: false });
      const [code] = (await once(child, 'close')) as [number | null];
      if (code !== 0) throw new Error(`generate.mjs exited ${code}`);
    };
    const uploaded = new Upload({ client, params: { Bucket: env.bucket, Key: rawKey, Body: body }, partSize: 16 * MiB, queueSize: 4 }).done();
    await generate('big', OWN_EVENTS, '1');
    await generate('other', OTHER_EVENTS, '2');
    body.end();
    await uploaded;
    const rawBytes = (await client.send(new HeadObjectCommand({ Bucket: env.bucket, Key: rawKey }))).ContentLength!;
    expect(rawBytes).toBeGreaterThan(290 * 1000 * 1000);

    const cwd = tempDir();
    const config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) }, storage: { type: 's3', s3: s3Section(env, `${prefix}/out`) } });
    const rssFile = join(cwd, 'rss.json');
    const result = await runCli(['run', '--config', config, '--json', '--log-level', 'warn', '--tenant', 'big', '--surface', 'home', '--start', '2026-02-01', '--end', '2026-02-01'], {
      cwd,
      // A memory-limited container: a 128 MiB V8 heap (an object held in the heap would crash the run) and
      // parsing on the main thread (the worker parse pool's own buffers are the same on every storage).
      nodeArgs: ['--max-old-space-size=128', '--import', REPORT_RSS],
      env: { RECSYS_TEST_RSS_FILE: rssFile, RECSYS_WORKERS: '0' },
    });
    expect(result.code, result.stderr).toBe(0);
    const day = jsonOf(result).days[0]!;
    expect(day.counts).toMatchObject({ read: OWN_EVENTS + OTHER_EVENTS, accepted: OWN_EVENTS, other_scope: OTHER_EVENTS, rejected: 0 });
    const canonicalBytes = (await client.send(new HeadObjectCommand({ Bucket: env.bucket, Key: `${prefix}/out/canonical/big/home/exposures/2026-02-01.jsonl` }))).ContentLength!;
    const peak = JSON.parse(readFileSync(rssFile, 'utf8')).maxRssKiB * 1024;
    console.log(`large input: raw ${(rawBytes / MiB).toFixed(0)} MiB, canonical ${(canonicalBytes / MiB).toFixed(0)} MiB (multipart), run peak RSS ${(peak / MiB).toFixed(0)} MiB`);
    expect(canonicalBytes).toBeGreaterThan(16 * MiB); // several multipart parts
    // Far below the object: neither the raw object nor the canonical partition is ever held whole.
    expect(peak).toBeLessThan(300 * 1000 * 1000);
  }, 300_000);
});
