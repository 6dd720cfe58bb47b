import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIGINETICA_DAY,
  DIGINETICA_KEY,
  GO_VERSIONS,
  SAMPLE_RAW,
  TINY_KEY,
  getText,
  jsonOf,
  listKeys,
  readHistory,
  readManifest,
  runCli,
  s3Section,
  tempDir,
  uploadSamples,
  writeConfig,
  type RunJson,
} from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('cli-e2e');
const bucket = env.bucket;

const versionsOf = (j: RunJson) => Object.fromEntries(j.days.flatMap((d) => d.artifacts.map((a) => [a.key, a.version])));

/** Config with raw input, object store and (by default) registry on S3; everything else on local disk. */
function s3Config(extra: Record<string, unknown> = {}) {
  return {
    raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) },
    object_store: { type: 's3', s3: s3Section(env, prefix) },
    ...extra,
  };
}

const run = (cwd: string, config: string, ...args: string[]) => runCli(['run', '--config', config, '--json', '--log-level', 'warn', ...args], { cwd });

beforeAll(async () => {
  await uploadSamples(client, bucket, `${prefix}/raw`, [TINY_KEY, DIGINETICA_KEY]);
});
afterAll(async () => {
  await deletePrefix(client, bucket, `${prefix}/`);
});

describe('recsys-pipelines run on S3', () => {
  it('publishes the Go versions with raw source, object store and registry in the bucket; a rerun changes nothing', async () => {
    const cwd = tempDir();
    const config = writeConfig(cwd, s3Config());
    const first = await runCli(['run', '--config', config, '--json', '--log-level', 'info', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd });
    expect(first.code, first.stderr).toBe(0);
    // stderr is JSON lines only (no SDK warnings), and never carries the credentials.
    const logLines = first.stderr.split('\n').filter((l) => l !== '');
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(first.stderr).not.toContain(env.secretAccessKey);
    const j = jsonOf(first);
    expect(versionsOf(j)).toEqual(GO_VERSIONS);
    expect(j.manifest_uri).toBe(`s3://${bucket}/${prefix}/registry/current/demo/home/manifest.json`);
    const manifest = await readManifest(client, bucket, prefix, 'demo', 'home');
    expect(manifest?.current).toEqual({
      cooc: `s3://${bucket}/${prefix}/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      popularity: `s3://${bucket}/${prefix}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
    });
    expect(await listKeys(client, bucket, `${prefix}/registry/records/demo/home/`)).toEqual([
      `${prefix}/registry/records/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      `${prefix}/registry/records/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
    ]);
    // Only the canonical data (not configured for S3 here) is on local disk.
    expect(existsSync(join(cwd, '.out/canonical/demo/home/exposures/2026-01-01.jsonl'))).toBe(true);
    expect(existsSync(join(cwd, '.out/registry'))).toBe(false);
    expect(existsSync(join(cwd, '.out/objectstore'))).toBe(false);

    const blobKey = `${prefix}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`;
    const blobBefore = await getText(client, bucket, blobKey);
    const again = jsonOf(await run(cwd, config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'));
    expect(again.ok).toBe(true);
    expect(versionsOf(again)).toEqual(GO_VERSIONS);
    expect(again.days[0]!.artifacts.map((a) => a.new_blob)).toEqual([false, false]);
    expect(await getText(client, bucket, blobKey)).toBe(blobBefore);
    expect((await readManifest(client, bucket, prefix, 'demo', 'home'))?.current).toEqual(manifest?.current);
  });

  it('produces the same versions as the filesystem for a real Diginetica day', async () => {
    const fsDir = tempDir();
    const fsConfig = writeConfig(fsDir, { raw_events_dir: SAMPLE_RAW, out_dir: 'out' });
    const s3Dir = tempDir();
    const s3ConfigFile = writeConfig(s3Dir, s3Config());
    const args = ['--tenant', 'diginetica', '--surface', 'web', '--start', DIGINETICA_DAY, '--end', DIGINETICA_DAY];
    const [onFs, onS3] = await Promise.all([run(fsDir, fsConfig, ...args), run(s3Dir, s3ConfigFile, ...args)]);
    expect(onFs.code, onFs.stderr).toBe(0);
    expect(onS3.code, onS3.stderr).toBe(0);
    const fsVersions = versionsOf(jsonOf(onFs));
    expect(Object.keys(fsVersions).sort()).toEqual(['cooc', 'popularity']);
    expect(versionsOf(jsonOf(onS3))).toEqual(fsVersions);
    // Byte-identical blobs apart from build.built_at.
    const fsBlob = JSON.parse(readFileSync(join(fsDir, `out/objectstore/diginetica/web/cooc/${fsVersions.cooc}.json`), 'utf8'));
    const s3Blob = JSON.parse((await getText(client, bucket, `${prefix}/objectstore/diginetica/web/cooc/${fsVersions.cooc}.json`))!);
    expect({ ...s3Blob, build: { ...s3Blob.build, built_at: '' } }).toEqual({ ...fsBlob, build: { ...fsBlob.build, built_at: '' } });
  });

  it('`storage: {type: "s3"}` puts every area in the bucket under <prefix>/<area>/', async () => {
    const cwd = tempDir();
    const all = `${prefix}/all`;
    const config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) }, storage: { type: 's3', s3: s3Section(env, all) } });
    const result = await run(cwd, config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01', '--incremental');
    expect(result.code, result.stderr).toBe(0);
    expect(versionsOf(jsonOf(result))).toEqual(GO_VERSIONS);
    const keys = await listKeys(client, bucket, `${all}/`);
    expect(keys).toEqual(
      expect.arrayContaining([
        `${all}/canonical/demo/home/exposures/2026-01-01.jsonl`,
        `${all}/checkpoints/demo/home.json`,
        `${all}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
        `${all}/registry/current/demo/home/manifest.json`,
        `${all}/registry/history/demo/home/000000000001.json`,
      ]),
    );
    expect(JSON.parse((await getText(client, bucket, `${all}/checkpoints/demo/home.json`))!).last_completed_day).toBe('2026-01-01');
    const canonical = (await getText(client, bucket, `${all}/canonical/demo/home/exposures/2026-01-01.jsonl`))!;
    expect(canonical.trim().split('\n')).toHaveLength(5);
    expect(existsSync(join(cwd, '.out'))).toBe(false);
    // --incremental resumes from the checkpoint stored in the bucket.
    const next = jsonOf(await run(cwd, config, '--tenant', 'demo', '--surface', 'home', '--end', '2026-01-01', '--incremental'));
    expect(next).toMatchObject({ ok: true, days: [] });
  });

  it('quarantines bad lines read from S3 (with reasons), and a bad day blocks the publish with the pointer unchanged', async () => {
    const cwd = tempDir();
    const q = `${prefix}/q`;
    const tiny = readFileSync(join(SAMPLE_RAW, TINY_KEY), 'utf8');
    const day = (d: string) => tiny.replaceAll('2026-01-01', d);
    const bad = '{"v":1,"ts":"2026-01-0XT00:00:00Z"\n{"v":1,"tenant":"demo","surface":"home","session_id":"s9","item_id":"Z"}\n';
    for (const [d, text] of [
      ['2026-01-02', day('2026-01-02') + bad],
      ['2026-01-03', day('2026-01-03') + bad],
    ] as const) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${q}/raw/demo/home/exposure.${d}.jsonl`, Body: text }));
    }
    const base = { raw_source: { type: 's3', s3: s3Section(env, `${q}/raw`) }, storage: { type: 's3', s3: s3Section(env, q) } };
    const lenient = writeConfig(cwd, { ...base, limits: { max_bad_event_ratio: 0.5 } });
    const ok = await run(cwd, lenient, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-02', '--end', '2026-01-02');
    expect(ok.code, ok.stderr).toBe(0);
    const okJson = jsonOf(ok);
    expect(okJson.days[0]!.counts).toMatchObject({ read: 7, accepted: 5, rejected: 2, rejected_by_reason: { invalid_json: 1, missing_field: 1 } });
    expect(okJson.days[0]!.quarantine).toBe(`s3://${bucket}/${q}/quarantine/demo/home/2026-01-02.jsonl`);
    const quarantined = (await getText(client, bucket, `${q}/quarantine/demo/home/2026-01-02.jsonl`))!.trim().split('\n').map((l) => JSON.parse(l));
    expect(quarantined.map((r) => [r.line, r.reason])).toEqual([
      [6, 'invalid_json'],
      [7, 'missing_field'],
    ]);
    expect(quarantined[0].source).toBe(`s3://${bucket}/${q}/raw/demo/home/exposure.2026-01-02.jsonl`);

    const manifestKey = `${q}/registry/current/demo/home/manifest.json`;
    const before = await getText(client, bucket, manifestKey);
    const historyBefore = await readHistory(client, bucket, q, 'demo', 'home');
    const strict = writeConfig(tempDir(), base);
    const blocked = await run(cwd, strict, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-03', '--end', '2026-01-03');
    expect(blocked.code).toBe(3);
    expect(jsonOf(blocked).error?.kind).toBe('validation');
    expect(await getText(client, bucket, manifestKey)).toBe(before);
    expect(await readHistory(client, bucket, q, 'demo', 'home')).toEqual(historyBefore);
    expect(await getText(client, bucket, `${q}/quarantine/demo/home/2026-01-03.jsonl`)).toContain('"reason":"invalid_json"');
  });

  it('config errors name the key and never print credentials', async () => {
    const cwd = tempDir();
    const section = s3Section(env, prefix, { secret_key: undefined, access_key: 'AKIA-ONLY-ACCESS' });
    const config = writeConfig(cwd, { raw_source: { type: 's3', s3: section }, object_store: { type: 's3', s3: { ...section, prefix: 'a/../b' } } });
    const result = await run(cwd, config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01');
    expect(result.code).toBe(2);
    expect(jsonOf(result).error?.message).toMatch(/^config raw_source\.s3\.secret_key: /);
    const secret = writeConfig(cwd, s3Config({ object_store: { type: 's3', s3: s3Section(env, 'a/../b') } }));
    const bad = await run(cwd, secret, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01');
    expect(bad.code).toBe(2);
    expect(jsonOf(bad).error?.message).toMatch(/^config object_store\.s3\.prefix: unsafe S3 key prefix/);
    expect(bad.stdout + bad.stderr).not.toContain(env.secretAccessKey);
  });
});
