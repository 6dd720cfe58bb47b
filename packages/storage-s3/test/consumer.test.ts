// A downstream consumer (what recsys-service does): only @recsys/contracts and
// the AWS SDK, no recsys-pipelines code. It reads the manifest from the
// service's template path, loads every artifact it points to and checks each
// one's content hash against its declared version.
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArtifact, parseManifest, parseManifestKey, verifyArtifactVersion, type ArtifactV1 } from '@recsys/contracts';
import { DIGINETICA_DAY, DIGINETICA_KEY, TINY_KEY, jsonOf, runCli, s3Section, tempDir, uploadSamples, writeConfig } from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const env = s3Env();
const prefix = uniquePrefix('consumer');

/** The consumer's own client: plain SDK, credentials from its environment. */
const consumer = new S3Client({
  endpoint: env.endpoint,
  region: env.region,
  forcePathStyle: true,
  credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
});

async function getJson(uri: string): Promise<unknown> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  const response = await consumer.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
  return JSON.parse(await response.Body!.transformToString());
}

/** What the service does at startup: manifest → artifacts, each verified. */
async function loadServingSet(bucket: string, root: string, tenant: string, surface: string) {
  const manifest = parseManifest(await getJson(`s3://${bucket}/${root}/registry/current/${tenant}/${surface}/manifest.json`));
  const loaded: Record<string, ArtifactV1> = {};
  for (const [key, uri] of Object.entries(manifest.current)) {
    const artifact = parseArtifact(await getJson(uri));
    const check = await verifyArtifactVersion(artifact);
    if (!check.ok) throw new Error(`${uri}: content hash ${check.computed} != declared ${check.declared}`);
    const parts = parseManifestKey(key);
    if (!parts) throw new Error(`malformed manifest key ${key}`);
    const { type, segment } = parts;
    if (artifact.artifact_type !== type || artifact.tenant !== tenant || artifact.surface !== surface || (artifact.segment ?? 'default') !== segment) {
      throw new Error(`${uri} is not the ${key} artifact of ${tenant}/${surface}`);
    }
    if (!uri.endsWith(`/${artifact.build.version}.json`)) throw new Error(`${uri} does not name version ${artifact.build.version}`);
    loaded[key] = artifact;
  }
  return { manifest, loaded };
}

beforeAll(async () => {
  const admin = testClient();
  await uploadSamples(admin, env.bucket, `${prefix}/raw`, [TINY_KEY, DIGINETICA_KEY]);
  const cwd = tempDir();
  const config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) }, object_store: { type: 's3', s3: s3Section(env, prefix) } });
  const publishes = [
    ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'],
    ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01', '--segment', 'returning'],
    ['--tenant', 'diginetica', '--surface', 'web', '--start', DIGINETICA_DAY, '--end', DIGINETICA_DAY],
  ];
  for (const args of publishes) {
    const result = await runCli(['run', '--config', config, '--json', '--log-level', 'warn', ...args], { cwd });
    expect(jsonOf(result).ok, result.stderr).toBe(true);
  }
});
afterAll(async () => {
  await deletePrefix(testClient(), env.bucket, `${prefix}/`);
});

describe('downstream consumer (contracts + AWS SDK only)', () => {
  it('loads and verifies every artifact of the demo/home manifest, segments included', async () => {
    const { manifest, loaded } = await loadServingSet(env.bucket, prefix, 'demo', 'home');
    expect(Object.keys(manifest.current).sort()).toEqual(['cooc', 'cooc@returning', 'popularity', 'popularity@returning']);
    const popularity = loaded.popularity as Extract<ArtifactV1, { artifact_type: 'popularity' }>;
    expect(popularity.items).toEqual([
      { item_id: 'A', count: 2 },
      { item_id: 'B', count: 1 },
      { item_id: 'C', count: 1 },
      { item_id: 'D', count: 1 },
    ]);
    // The same events under another segment: same payload, different version (the segment is hashed in).
    expect(loaded['popularity@returning']!.build.version).not.toBe(popularity.build.version);
  });

  it('loads and verifies the Diginetica manifest', async () => {
    const { loaded } = await loadServingSet(env.bucket, prefix, 'diginetica', 'web');
    expect(Object.keys(loaded).sort()).toEqual(['cooc', 'popularity']);
    const cooc = loaded.cooc as Extract<ArtifactV1, { artifact_type: 'cooc' }>;
    expect(cooc.neighbors.length).toBeGreaterThan(0);
    expect(cooc.window).toEqual({ start: `${DIGINETICA_DAY}T00:00:00Z`, end: '2016-06-01T00:00:00Z' });
  });
});
