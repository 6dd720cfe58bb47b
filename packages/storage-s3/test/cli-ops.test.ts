import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GO_VERSIONS, SAMPLE_RAW, TINY_KEY, jsonOf, listKeys, parseS3Uri, readManifest, runCli, s3Section, tempDir, writeConfig } from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('cli-ops');
let cwd: string;
let config: string;

/** A command with the shared config and scope; `--json` output parsed. */
async function cli<T = Record<string, unknown>>(command: string[], ...args: string[]): Promise<{ code: number | null; json: T }> {
  const result = await runCli([...command, '--config', config, '--json', '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', ...args], { cwd });
  return { code: result.code, json: jsonOf<T>(result) };
}

const versionOf = (uri: string | undefined) => uri?.match(/([0-9a-f]{64})\.json$/)?.[1];
const exists = (uri: string) =>
  client.send(new HeadObjectCommand({ Bucket: parseS3Uri(uri).bucket, Key: parseS3Uri(uri).key })).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  // Three days with different content, so each publish moves the pointer to new versions.
  const tiny = readFileSync(join(SAMPLE_RAW, TINY_KEY), 'utf8');
  const days: Record<string, string> = {
    '2026-01-01': tiny,
    '2026-01-02': tiny.replaceAll('2026-01-01', '2026-01-02').replace('"item_id":"D"', '"item_id":"A"'),
    '2026-01-03': tiny.replaceAll('2026-01-01', '2026-01-03').replace('"item_id":"B"', '"item_id":"C"'),
  };
  for (const [day, text] of Object.entries(days)) {
    await client.send(new PutObjectCommand({ Bucket: env.bucket, Key: `${prefix}/raw/demo/home/exposure.${day}.jsonl`, Body: text }));
  }
  cwd = tempDir();
  config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) }, storage: { type: 's3', s3: s3Section(env, prefix) } });
});
afterAll(async () => {
  await deletePrefix(client, env.bucket, `${prefix}/`);
});

describe('operations commands with everything on S3', () => {
  it('job-mode steps share their staging in the bucket and publish what `run` would', async () => {
    const window = ['--start', '2026-01-01', '--end', '2026-01-01', '--segment', 'jobs'];
    expect((await cli(['ingest'], ...window)).code).toBe(0);
    expect((await cli(['validate'], ...window)).code).toBe(0);
    expect((await cli(['compute', 'popularity', 'cooc'], ...window)).code).toBe(0);
    expect((await listKeys(client, env.bucket, `${prefix}/artifacts/demo/home/jobs/`)).length).toBeGreaterThan(0);
    const published = await cli<{ days: { artifacts: { key: string; version: string }[] }[] }>(['publish'], ...window);
    expect(published.code).toBe(0);
    const viaRun = await cli<{ days: { artifacts: { key: string; version: string }[] }[] }>(['run'], ...window.slice(0, 4), '--segment', 'jobs');
    expect(published.json.days[0]!.artifacts.map((a) => [a.key, a.version])).toEqual(viaRun.json.days[0]!.artifacts.map((a) => [a.key, a.version]));
  });

  it('history, status, rollback, verify and gc work against the bucket', async () => {
    const ran = await cli(['run'], '--start', '2026-01-01', '--end', '2026-01-03');
    expect(ran.code).toBe(0);
    const served = async () => (await readManifest(client, env.bucket, prefix, 'demo', 'home'))!.current;
    const day3 = await served();

    const history = await cli<{ total: number; entries: { seq: number; reason: string }[] }>(['history'], '--limit', '2');
    expect(history.code).toBe(0);
    expect(history.json.entries.map((e) => e.reason)).toEqual(['publish', 'publish']);

    // Freshness is the data age of the oldest live key (now − end of its window): ask as of half an hour
    // after day 3 ended, with an SLO that covers every window this prefix has published (days 1–3).
    const status = await runCli(['status', '--config', config, '--json', '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', '--max-age', '72h'], { cwd, env: { RECSYS_TEST_NOW: '2026-01-04T00:30:00Z' } }).then((r) => ({ code: r.code, json: JSON.parse(r.stdout) as { stale: boolean; scopes: { manifest_uri: string }[] } }));
    expect(status.code).toBe(0);
    expect(status.json.stale).toBe(false);
    expect(status.json.scopes[0]!.manifest_uri).toBe(`s3://${env.bucket}/${prefix}/registry/current/demo/home/manifest.json`);

    const rollback = await cli(['rollback'], '--type', 'popularity', '--steps', '1', '--reason', 'test rollback on S3');
    expect(rollback.code).toBe(0);
    // One step back from day 3's publish: day 2's popularity; cooc untouched.
    const afterRollback = await served();
    expect(afterRollback.cooc).toBe(day3.cooc);
    expect(afterRollback.popularity).not.toBe(day3.popularity);
    // And forward again, naming the version by a unique prefix as `history` prints it.
    const back = await cli(['rollback'], '--type', 'popularity', '--to', versionOf(day3.popularity)!.slice(0, 12), '--reason', 'undo');
    expect(back.code).toBe(0);
    expect((await served()).popularity).toBe(day3.popularity);

    // Day 1's versions are referenced by nothing recent: gc removes them from the bucket, never what is served.
    const day1Popularity = `s3://${env.bucket}/${prefix}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`;
    expect(await exists(day1Popularity)).toBe(true);
    const gc = await cli<{ deleted_versions: number }>(['gc'], '--keep-versions', '1', '--keep-history', '1', '--older-than', '0s');
    expect(gc.code).toBe(0);
    expect(gc.json.deleted_versions).toBeGreaterThan(0);
    expect(await exists(day1Popularity)).toBe(false);
    for (const uri of Object.values(await served())) expect(await exists(uri), uri).toBe(true);

    const verify = await cli<{ ok: boolean; problems: unknown[] }>(['verify']);
    expect(verify.code).toBe(0);
    expect(verify.json).toMatchObject({ ok: true, problems: [] });
  });
});
