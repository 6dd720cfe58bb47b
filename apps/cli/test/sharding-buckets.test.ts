// The buckets of ingest parts (format recsys-bucket/3) as compute --shard
// reads them: a bucket that is missing, a copy of another bucket, changed,
// truncated, with a session footer that lies, or of an earlier format is
// refused by name (nothing is computed from it), and a part of an earlier
// report version too; an event repeated across parts is kept once.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { cli, event, tempDir, writeConfig, writeRawDay } from './helpers.js';

const dir = tempDir('recsys-buckets-');
const PARTS = join(dir, 'out/artifacts/demo/home/_parts/2026-01-01');
const SAVED = join(dir, 'saved-out');
const args = ['--config', 'config.json', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
const compute = (shard: number) => cli(['compute', 'popularity', 'cooc', ...args, '--shard', `${shard}/2`], { cwd: dir });
const bucket = (part: number, j: number) => join(PARTS, `${part}-of-2/bucket-${j}.bin`);
/** A bucket's CRC-32 as its part report names it. */
const crc32 = (data: Uint8Array) => zlibCrc32(data).toString(16).padStart(8, '0');

beforeAll(async () => {
  writeConfig(dir);
  const lines = Array.from({ length: 40 }, (_, k) => event(`s${k % 9}`, `i${(k * 7) % 11}`, { ts: `2026-01-01T10:00:${String(k).padStart(2, '0')}Z` }));
  // The first event again at the end: part 0 holds it, part 1 its exact duplicate (the day is cut in two byte ranges).
  lines.push(lines[0]!);
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
    const report = (JSON.parse(readFileSync(join(PARTS, '1-of-2.json'), 'utf8')) as { buckets: { crc32: string }[] }).buckets[1]!;
    expect(report.crc32).toBe(crc32(data));
    data[data.length - 100] = data[data.length - 100]! ^ 1; // inside the last block's lines (before the session footer and trailer)
    writeFileSync(bucket(1, 1), data);
    let r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-1\.bin is not what ingest part 1\/2 wrote \(\d+ events, \d+ bytes, CRC-32 [0-9a-f]{8}; its report says \d+, \d+, [0-9a-f]{8}\); re-run that ingest part/);
    expect(r.stderr).toContain(`CRC-32 ${crc32(data)}; its report says`);
    // Nothing was committed: no partition, no partial.
    expect(existsSync(join(dir, 'out/canonical/demo/home/exposures/2026-01-01.shard-1-of-2.jsonl'))).toBe(false);
    cpSync(join(SAVED, 'artifacts/demo/home/_parts/2026-01-01/1-of-2/bucket-1.bin'), bucket(1, 1));
    truncateSync(bucket(1, 1), data.length - 5);
    r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-1\.bin of ingest part 1\/2: truncated/);
  });

  test('a part report whose size or event count is not the bucket’s', async () => {
    const path = join(PARTS, '0-of-2.json');
    const saved = readFileSync(path, 'utf8');
    for (const [field, by] of [['bytes', 4], ['events', 1]] as const) {
      const report = JSON.parse(saved) as { buckets: Record<string, number>[] };
      report.buckets[1]![field] = report.buckets[1]![field]! + by;
      writeFileSync(path, JSON.stringify(report));
      const r = await compute(1);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bucket-1\.bin is not what ingest part 0\/2 wrote \(\d+ events, \d+ bytes, CRC-32 [0-9a-f]{8}; its report says \d+, \d+, [0-9a-f]{8}\); re-run that ingest part/);
      expect(existsSync(join(dir, 'out/canonical/demo/home/exposures/2026-01-01.shard-1-of-2.jsonl'))).toBe(false);
    }
  });

  test("a bucket of another shard's sessions, consistent with its part report", async () => {
    // Bucket 1 of part 0 relabelled as bucket 0 (header and part report), so only its sessions give it away.
    const data = Buffer.from(readFileSync(bucket(0, 1)).toString('latin1').replace('"bucket":1}', '"bucket":0}'), 'latin1');
    writeFileSync(bucket(0, 0), data);
    const path = join(PARTS, '0-of-2.json');
    const report = JSON.parse(readFileSync(path, 'utf8')) as { buckets: { events: number; sessions: number; bytes: number; crc32: string }[] };
    report.buckets[0] = { ...report.buckets[0]!, events: report.buckets[1]!.events, sessions: report.buckets[1]!.sessions, bytes: data.length, crc32: crc32(data) };
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

  test('a bucket of the earlier binary format without a session footer', async () => {
    const data = Buffer.from(readFileSync(bucket(0, 1)).toString('latin1').replace('"format":"recsys-bucket/3"', '"format":"recsys-bucket/2"'), 'latin1');
    writeFileSync(bucket(0, 1), data);
    const r = await compute(1);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bucket-1.bin of ingest part 0/2: is in format recsys-bucket/2 (no session footer) of an earlier version, not recsys-bucket/3; re-run that ingest part');
  });

  test('part reports of the earlier versions (JSON Lines buckets; buckets without a session footer; buckets named by SHA-256)', async () => {
    const path = join(PARTS, '1-of-2.json');
    const report = JSON.parse(readFileSync(path, 'utf8')) as { buckets: { crc32?: string; sha256?: string }[] } & Record<string, unknown>;
    // What version 3 wrote: each bucket's SHA-256 where version 4 names its CRC-32.
    const v3buckets = report.buckets.map(({ crc32: _, ...b }) => ({ ...b, sha256: 'a'.repeat(64) }));
    const held = { 1: 'buckets in format recsys-bucket/1, written by an earlier release', 2: 'buckets in format recsys-bucket/2, written by an earlier release', 3: 'buckets checked by SHA-256, written by an earlier release' };
    for (const v of [1, 2, 3] as const) {
      writeFileSync(path, JSON.stringify({ ...report, v, ...(v === 3 ? { buckets: v3buckets } : {}) }));
      const r = await compute(0);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`ingest part 1-of-2.json is of version ${v} (${held[v]}), not 4`);
      expect(r.stderr).toContain('run `recsys-pipelines ingest --shard i/2` for the named parts');
      expect(r.stderr).not.toContain('missing ingest part');
    }
  });

  test('an event repeated across parts is kept once (its session is in both parts)', async () => {
    const first = readFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), 'utf8').split('\n')[0]!;
    const session = (JSON.parse(first) as { session_id: string }).session_id;
    const j = [0, 1].find((k) => readFileSync(bucket(1, k)).includes(`"session_id":"${session}"`))!;
    expect(readFileSync(bucket(0, j)).includes(`"session_id":"${session}"`)).toBe(true);
    expect((await compute(j)).code).toBe(0);
    const partition = readFileSync(join(dir, `out/canonical/demo/home/exposures/2026-01-01.shard-${j}-of-2.jsonl`), 'utf8');
    const canonical = partition.split('\n').filter((l) => l.includes(`"session_id":"${session}"`) && l.includes('"ts":"2026-01-01T10:00:00Z"'));
    expect(canonical).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(dir, `out/artifacts/demo/home/_ingest/2026-01-01.shard-${j}-of-2.json`), 'utf8')) as { counts: { duplicates: number } };
    expect(report.counts.duplicates).toBe(1);
  });

  test("a session footer that does not list its bucket's sessions, consistent with its part report", async () => {
    // One hash of the footer of part 0's bucket 0 changed (its last hash: the trailer is the last 12 bytes), the part
    // report's CRC-32 made to match: the hash check passes, the footer check does not.
    const data = readFileSync(bucket(0, 0));
    data[data.length - 16] = data[data.length - 16]! ^ 1;
    writeFileSync(bucket(0, 0), data);
    const path = join(PARTS, '0-of-2.json');
    const report = JSON.parse(readFileSync(path, 'utf8')) as { buckets: { crc32: string }[] };
    report.buckets[0]!.crc32 = crc32(data);
    writeFileSync(path, JSON.stringify(report));
    const r = await compute(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-0\.bin of ingest part 0\/2: session footer: session \d+ hashes to \d+, the footer says \d+; re-run that ingest part/);
  });
});

// With one part, the part's bucket 0 is the shard's whole partition: ingest writes the lines there itself and the
// bucket keeps the ids only. compute takes the partition as the part report names it and refuses one of another size.
describe('one part: the ingest part writes the shard partition', () => {
  const one = tempDir('recsys-buckets-one-');
  const PARTITION = join(one, 'out/canonical/demo/home/exposures/2026-01-01.shard-0-of-1.jsonl');
  const REPORT = join(one, 'out/artifacts/demo/home/_parts/2026-01-01/0-of-1.json');
  const computeOne = () => cli(['compute', 'popularity', 'cooc', ...args, '--shard', '0/1'], { cwd: one });
  const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

  beforeEach(async () => {
    rmSync(join(one, 'out'), { recursive: true, force: true });
    writeConfig(one);
    const lines = Array.from({ length: 30 }, (_, k) => event(`s${k % 7}`, `i${(k * 5) % 9}`, { ts: `2026-01-01T11:00:${String(k).padStart(2, '0')}Z` }));
    writeRawDay(join(one, 'raw'), 'demo', 'home', '2026-01-01', lines);
    const r = await cli(['ingest', ...args, '--shard', '0/1'], { cwd: one });
    expect(r.code, r.stderr).toBe(0);
  }, 30_000);

  test('the partition is written by ingest, named with its SHA-256 in the part report; the bucket holds no lines; compute cites it', async () => {
    const data = readFileSync(PARTITION);
    const part = JSON.parse(readFileSync(REPORT, 'utf8')) as { partition: { key: string; sha256: string; bytes: number; events: number }; buckets: { events: number; bytes: number }[] };
    expect(part.partition).toEqual({ key: 'demo/home/exposures/2026-01-01.shard-0-of-1.jsonl', sha256: sha256(data), bytes: data.length, events: 30 });
    expect(part.buckets[0]!.events).toBe(30);
    const bucketBytes = readFileSync(join(one, 'out/artifacts/demo/home/_parts/2026-01-01/0-of-1/bucket-0.bin'));
    expect(bucketBytes.includes('"session_id"')).toBe(false);
    const r = await computeOne();
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(PARTITION).equals(data)).toBe(true);
    const shard = JSON.parse(readFileSync(join(one, 'out/artifacts/demo/home/_ingest/2026-01-01.shard-0-of-1.json'), 'utf8')) as { canonical: { sha256: string; bytes: number }; counts: { accepted: number } };
    expect(shard.canonical).toMatchObject({ sha256: sha256(data), bytes: data.length });
    expect(shard.counts.accepted).toBe(30);
  });

  test('a partition truncated or missing is refused by name; one changed in place is refused when it is read', async () => {
    const data = readFileSync(PARTITION);
    truncateSync(PARTITION, data.length - 3);
    let r = await computeOne();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`shard partition \\S+shard-0-of-1\\.jsonl is not what ingest part 0/1 wrote \\(${data.length - 3} bytes; its report says ${data.length}\\); re-run that ingest part`));
    rmSync(PARTITION);
    r = await computeOne();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`is not what ingest part 0/1 wrote (missing; its report says ${data.length})`);
    // The same size, a byte changed: compute of the ids cites the part's SHA-256; the next reader of the partition refuses it.
    const changed = Buffer.from(data);
    changed[10] = changed[10] === 0x61 ? 0x62 : 0x61;
    writeFileSync(PARTITION, changed);
    expect((await computeOne()).code).toBe(0);
    r = await computeOne();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/canonical partition \S+shard-0-of-1\.jsonl .*re-run ingest for 2026-01-01/);
  });

  test('a part report whose bucket has lines, or one without the partition whose bucket has none, is refused by name', async () => {
    const saved = readFileSync(REPORT, 'utf8');
    const report = JSON.parse(saved) as { partition?: unknown };
    delete report.partition;
    writeFileSync(REPORT, JSON.stringify(report));
    const r = await computeOne();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bucket-0\.bin of ingest part 0\/1: a block of \d+ events holds 0 bytes of lines; re-run that ingest part/);
  });
});
