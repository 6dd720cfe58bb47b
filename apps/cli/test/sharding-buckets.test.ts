// The buckets of ingest parts (format recsys-bucket/2) as compute --shard
// reads them: a bucket that is missing, a copy of another bucket, changed,
// truncated, or of an earlier format is refused by name (nothing is
// computed from it), and a part of the earlier report version too.
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { cli, event, tempDir, writeConfig, writeRawDay } from './helpers.js';

const dir = tempDir('recsys-buckets-');
const PARTS = join(dir, 'out/artifacts/demo/home/_parts/2026-01-01');
const SAVED = join(dir, 'saved-out');
const args = ['--config', 'config.json', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
const compute = (shard: number) => cli(['compute', 'popularity', 'cooc', ...args, '--shard', `${shard}/2`], { cwd: dir });
const bucket = (part: number, j: number) => join(PARTS, `${part}-of-2/bucket-${j}.bin`);

beforeAll(async () => {
  writeConfig(dir);
  const lines = Array.from({ length: 40 }, (_, k) => event(`s${k % 9}`, `i${(k * 7) % 11}`, { ts: `2026-01-01T10:00:${String(k).padStart(2, '0')}Z` }));
  writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', lines);
  for (let i = 0; i < 2; i++) {
    const r = await cli(['ingest', ...args, '--shard', `${i}/2`], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  cpSync(join(dir, 'out'), SAVED, { recursive: true });
}, 60_000);

// Every test starts from the ingest parts alone (a shard assembled once is not assembled again from the same parts).
beforeEach(() => {
  rmSync(join(dir, 'out'), { recursive: true, force: true });
  cpSync(SAVED, join(dir, 'out'), { recursive: true });
});

describe('compute --shard refuses a bad bucket by name', () => {
  test('the buckets as written compute', async () => {
    for (const j of [0, 1]) expect((await compute(j)).code).toBe(0);
  });

  test('a missing bucket', async () => {
    rmSync(bucket(1, 0));
    const r = await compute(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket file:\/\/\S+\/1-of-2\/bucket-0\.bin of ingest part 1\/2 is missing; re-run that ingest part/);
  });

  test('a copy of another bucket under its name (duplicate)', async () => {
    cpSync(bucket(0, 1), bucket(0, 0));
    const r = await compute(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bucket-0.bin of ingest part 0/2: holds bucket 1 of ingest part 0/2, not bucket 0 of part 0/2 as its name says');
  });

  test('a changed byte, a truncation', async () => {
    const data = readFileSync(bucket(1, 1));
    data[data.length - 30] = data[data.length - 30]! ^ 1; // inside the last block's lines
    writeFileSync(bucket(1, 1), data);
    let r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-1\.bin is not what ingest part 1\/2 wrote/);
    cpSync(join(SAVED, 'artifacts/demo/home/_parts/2026-01-01/1-of-2/bucket-1.bin'), bucket(1, 1));
    truncateSync(bucket(1, 1), data.length - 5);
    r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-1\.bin of ingest part 1\/2: truncated/);
  });

  test("a bucket of another shard's sessions, consistent with its part report", async () => {
    // Bucket 1 of part 0 relabelled as bucket 0 (header and part report), so only its sessions give it away.
    const data = Buffer.from(readFileSync(bucket(0, 1)).toString('latin1').replace('"bucket":1}', '"bucket":0}'), 'latin1');
    writeFileSync(bucket(0, 0), data);
    const path = join(PARTS, '0-of-2.json');
    const report = JSON.parse(readFileSync(path, 'utf8')) as { buckets: { events: number; bytes: number; sha256: string }[] };
    report.buckets[0] = { ...report.buckets[0]!, events: report.buckets[1]!.events, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
    writeFileSync(path, JSON.stringify(report));
    const r = await compute(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-0\.bin of ingest part 0\/2: session "s\d" belongs to shard 1 of 2, not 0; re-run that ingest part/);
  });

  test('a bucket of the earlier JSON Lines format', async () => {
    writeFileSync(bucket(0, 1), JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: 's1', item_id: 'i1' }) + '\n');
    const r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bucket-1.bin of ingest part 0/2: is in format recsys-bucket/1 (canonical JSON Lines) of an earlier version');
  });

  test('a part report of the earlier version (JSON Lines buckets)', async () => {
    const path = join(PARTS, '1-of-2.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), v: 1 }));
    const r = await compute(0);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ingest part 1-of-2.json is of version 1 (buckets in format recsys-bucket/1, written by an earlier release), not 2');
    expect(r.stderr).not.toContain('missing ingest part');
  });
});
