// `report` and `show` against a registry on S3 (the shared Ceph RGW): the
// same data as on the filesystem, blobs streamed from the bucket, and
// --next-to-manifest writing report.html beside the manifest in the bucket.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_RAW, TINY_KEY, getText, jsonOf, runCli, s3Section, tempDir, writeConfig } from './cli.js';
import { deletePrefix, s3Env, testClient, uniquePrefix } from './s3-env.js';

const env = s3Env();
const client = testClient();
const prefix = uniquePrefix('cli-report');
let cwd: string;
let config: string;

async function cli(args: string[]) {
  return runCli([...args, '--config', config, '--log-level', 'warn'], { cwd, env: { RECSYS_TEST_NOW: '2026-01-03T06:00:00Z' } });
}

beforeAll(async () => {
  const tiny = readFileSync(join(SAMPLE_RAW, TINY_KEY), 'utf8');
  const days: Record<string, string> = {
    '2026-01-01': tiny,
    // Day 2: D is exposed three more times, so it moves up from #4 to #1.
    '2026-01-02': tiny.replaceAll('2026-01-01', '2026-01-02') + ['x1', 'x2', 'x3'].map((s) => `{"v":1,"ts":"2026-01-02T12:00:00Z","tenant":"demo","surface":"home","session_id":"${s}","item_id":"D"}\n`).join(''),
  };
  for (const [day, text] of Object.entries(days)) {
    await client.send(new PutObjectCommand({ Bucket: env.bucket, Key: `${prefix}/raw/demo/home/exposure.${day}.jsonl`, Body: text }));
  }
  cwd = tempDir();
  config = writeConfig(cwd, { raw_source: { type: 's3', s3: s3Section(env, `${prefix}/raw`) }, storage: { type: 's3', s3: s3Section(env, prefix) } });
  for (const day of Object.keys(days)) {
    const r = await runCli(['run', '--config', config, '--log-level', 'warn', '--tenant', 'demo', '--surface', 'home', '--start', day, '--end', day], { cwd, env: { RECSYS_TEST_NOW: `${day}T23:00:00Z` } });
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await deletePrefix(client, env.bucket, `${prefix}/`);
});

describe('report and show with the registry on S3', () => {
  it('report --json: live keys, top items with their change, neighbours, ingest days', async () => {
    const r = await cli(['report', '--json', '--days', '2']);
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonOf<{ scopes: { tenant: string; freshness: { fresh: boolean }; live: { key: string; uri: string; bytes?: number }[]; top_items: { items: { item_id: string; count: number; change: string }[] }; neighbors: { rows: { item_id: string; neighbors: unknown[] }[] }; ingest: { days: { day: string; outcome: string; counts?: { accepted: number } }[] } }[] }>(r);
    const s = doc.scopes[0]!;
    expect(s.freshness.fresh).toBe(true);
    expect(s.live.map((a) => a.key)).toEqual(['cooc', 'popularity']);
    expect(s.live.every((a) => a.uri.startsWith(`s3://${env.bucket}/${prefix}/`) && a.bytes! > 0)).toBe(true);
    expect(s.top_items.items.map((i) => [i.item_id, i.count, i.change])).toEqual([
      ['D', 4, 'up'],
      ['A', 2, 'down'],
      ['B', 1, 'down'],
      ['C', 1, 'down'],
    ]);
    expect(s.neighbors.rows.find((row) => row.item_id === 'A')!.neighbors).toHaveLength(2);
    expect(s.ingest.days.map((d) => [d.day, d.outcome, d.counts?.accepted])).toEqual([
      ['2026-01-01', 'published', 5],
      ['2026-01-02', 'published', 8],
    ]);
  });

  it('report --next-to-manifest writes report.html into the bucket beside the manifest', async () => {
    const r = await cli(['report', '--tenant', 'demo', '--surface', 'home', '--next-to-manifest']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`s3://${env.bucket}/${prefix}/registry/current/demo/home/report.html`);
    const html = await getText(client, env.bucket, `${prefix}/registry/current/demo/home/report.html`);
    expect(html).toContain('<!doctype html>');
    expect(html).toContain('demo / home');
  });

  it('show streams the top rows from the bucket', async () => {
    const r = await cli(['show', '--tenant', 'demo', '--surface', 'home', '--type', 'popularity', '--top', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/#1 +D +4\n +#2 +A +2\n/);
  });
});
