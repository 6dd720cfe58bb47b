// Helpers of the end-to-end suites that run the built CLI (apps/cli/dist/bin.js)
// against the S3 server: configs, uploads, spawning, reading what it published.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { spawnCli, tempDirs, type CliResult } from '@recsys/vitest-config/cli-runner';
import { parseHistoryEntry, parseManifest, type HistoryEntryV1, type ManifestV1 } from '@recsys/contracts';
import type { S3TestEnv } from './s3-env.js';

export const BIN = fileURLToPath(new URL('../../../apps/cli/dist/bin.js', import.meta.url));
export const SAMPLE_RAW = fileURLToPath(new URL('../../../apps/cli/sample-data/raw/', import.meta.url));
export const TINY_KEY = 'demo/home/exposure.2026-01-01.jsonl';
export const DIGINETICA_DAY = '2016-05-31';
export const DIGINETICA_KEY = `diginetica/web/exposure.${DIGINETICA_DAY}.jsonl`;

/** Versions the Go implementation produces for the tiny set (default segment). */
export const GO_VERSIONS = {
  popularity: '0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9',
  cooc: 'b705f3235774c7c07599a4521ef7cbbdd3beeab82993e0f1dea3a60c856ea7d7',
} as const;

/** A temp folder, removed after the suite. */
export const tempDir = tempDirs('recsys-s3-cli-');

export type { CliResult };

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; nodeArgs?: readonly string[] }): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  // The CLI must keep the AWS SDK's Node-version warning off its JSON-lines stderr by itself.
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return spawnCli(BIN, args, { cwd: options.cwd, env, nodeArgs: options.nodeArgs });
}

/** The `--json` result of a command (throws with the CLI's output when it is not JSON). */
export function jsonOf<T = RunJson>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`CLI printed no JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}

export interface RunJson {
  ok: boolean;
  manifest_uri: string | null;
  error?: { kind: string; exit_code: number; message: string };
  days: { day: string; artifacts: { type: string; key: string; version: string; uri: string; new_blob: boolean }[]; quarantine?: string; counts: Record<string, unknown> }[];
}

/** The `s3` block of a config section for the test server. */
export function s3Section(env: S3TestEnv, prefix: string, extra: Record<string, unknown> = {}) {
  const url = new URL(env.endpoint);
  // Exercise the Go-style form: host:port plus use_ssl, no scheme.
  return { endpoint: url.host, use_ssl: url.protocol === 'https:', bucket: env.bucket, prefix, region: env.region, access_key: env.accessKeyId, secret_key: env.secretAccessKey, ...extra };
}

/** Writes a config file into `dir` and returns its path. */
export function writeConfig(dir: string, config: unknown): string {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** Uploads sample raw files (keys relative to SAMPLE_RAW) under `<prefix>/`. */
export async function uploadSamples(client: S3Client, bucket: string, prefix: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: readFileSync(join(SAMPLE_RAW, key)) }));
  }
}

export async function getText(client: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await r.Body!.transformToString();
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}

export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function readManifest(client: S3Client, bucket: string, prefix: string, tenant: string, surface: string): Promise<ManifestV1 | undefined> {
  const text = await getText(client, bucket, `${prefix}/registry/current/${tenant}/${surface}/manifest.json`);
  return text === undefined ? undefined : parseManifest(JSON.parse(text));
}

/** Every history entry of a scope, by ascending seq. */
export async function readHistory(client: S3Client, bucket: string, prefix: string, tenant: string, surface: string): Promise<HistoryEntryV1[]> {
  const keys = await listKeys(client, bucket, `${prefix}/registry/history/${tenant}/${surface}/`);
  const entries: HistoryEntryV1[] = [];
  for (const key of keys.sort()) entries.push(parseHistoryEntry(JSON.parse((await getText(client, bucket, key))!)));
  return entries;
}

/** Splits `s3://bucket/key`. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** One day (`tenant` demo, `surface` home) of 50k events in 10k sessions over 3000 items: its cooc blob (~15 MB with 100 neighbours per item) is above the 8 MiB multipart part size. */
export function multipartCoocDay(day: string): string {
  let out = '';
  let x = 12345;
  for (let s = 0; s < 10_000; s++) {
    for (let k = 0; k < 5; k++) {
      // A small LCG picks the items, so sessions mix and items get many neighbours (a ~15 MB cooc blob).
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const second = (s * 5 + k) % 86_400;
      const ts = `${day}T${String(Math.floor(second / 3600)).padStart(2, '0')}:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}Z`;
      out += JSON.stringify({ v: 1, ts, tenant: 'demo', surface: 'home', session_id: `s${s}`, item_id: `item-${(x >>> 8) % 3000}` }) + '\n';
    }
  }
  return out;
}
