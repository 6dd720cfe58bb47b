// A corpus with one broken line per reject reason, mixed with good lines:
// every broken line lands in quarantine (source, line number, reason, raw
// text); the good lines are published when limits.max_bad_event_ratio allows
// it; over the ratio the run exits 3 and the previous manifest stays as it was.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { readArtifact, readHistory, readManifest, runJson, snapshot, tempDir, writeConfig, writeRawDay } from './helpers.js';

const good = (session: string, item: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: session, item_id: item, ...extra });

/** [raw line, expected reason]; raw lines are written as bytes exactly. */
const BROKEN: [Buffer, string][] = [
  [Buffer.from(good('s1', 'A', { user_id: 'u'.repeat(1024 * 1024) })), 'line_too_long'],
  [Buffer.concat([Buffer.from('{"v":1,"ts":"2026-01-01T10:00:00Z","tenant":"demo","surface":"home","session_id":"s1","item_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'invalid_utf8'],
  [Buffer.from(good('s1', 'A', { ts: '2026-01-01 10:00:00' })), 'invalid_timestamp'],
  [Buffer.from(good('s1', 'A', { v: 2 })), 'unsupported_version'],
  [Buffer.from(JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: 's1' })), 'missing_field'],
  [Buffer.from(good('s1', 'A', { rank: -1 })), 'negative_rank'],
  [Buffer.from(good('s1', 'A', { price: 9.99 })), 'unknown_field'],
  [Buffer.from('{"v":1,"ts":'), 'invalid_json'],
  [Buffer.from('[1,2,3]'), 'not_an_object'],
  [Buffer.from(good('s1', '   ')), 'empty_field'],
  [Buffer.from(good('s1', 'A', { rank: 2.5 })), 'invalid_rank'],
  [Buffer.from(good('s1', 'A', { item_id: 42 })), 'invalid_type'],
];

const GOOD = [good('s1', 'A'), good('s1', 'B'), good('s2', 'A'), good('s2', 'C'), good('s3', 'D')];

/** Interleaves good and broken lines; returns the bytes and, per broken line, its 1-based line number. */
function corpus(): { bytes: Buffer; lineOf: Map<string, number> } {
  const lines: Buffer[] = [];
  const lineOf = new Map<string, number>();
  let g = 0;
  for (const [raw, reason] of BROKEN) {
    if (g < GOOD.length) lines.push(Buffer.from(GOOD[g++]!));
    lines.push(raw);
    lineOf.set(reason, lines.length);
  }
  while (g < GOOD.length) lines.push(Buffer.from(GOOD[g++]!));
  // Windows line endings on the last good line must not matter.
  return { bytes: Buffer.concat(lines.flatMap((l, i) => [l, Buffer.from(i === lines.length - 1 ? '\r\n' : '\n')])), lineOf };
}

const ARGS = (config: string) => ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

describe('bad input', () => {
  test('each broken line is quarantined with source, line number, reason and raw text; the good lines are published', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { limits: { max_bad_event_ratio: 0.9 } });
    const rawFile = writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', []);
    const { bytes, lineOf } = corpus();
    writeFileSync(rawFile, bytes);

    const r = await runJson(ARGS(config), { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const day = r.json.days[0]!;
    expect(day.counts).toMatchObject({ read: GOOD.length + BROKEN.length, accepted: GOOD.length, rejected: BROKEN.length });
    expect(day.counts.rejected_by_reason).toEqual(Object.fromEntries(BROKEN.map(([, reason]) => [reason, 1])));

    const quarantinePath = join(dir, 'out/quarantine/demo/home/2026-01-01.jsonl');
    expect(day.quarantine).toBe(pathToFileURL(quarantinePath).href);
    const records = readFileSync(quarantinePath, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; line: number; reason: string; detail: string; raw: string; raw_truncated?: boolean });
    expect(records.map((q) => q.reason).sort()).toEqual(BROKEN.map(([, reason]) => reason).sort());
    for (const [raw, reason] of BROKEN) {
      const q = records.find((x) => x.reason === reason)!;
      expect(q.source, reason).toBe(pathToFileURL(rawFile).href);
      expect(q.line, reason).toBe(lineOf.get(reason));
      expect(q.detail.length, reason).toBeGreaterThan(0);
      if (reason === 'line_too_long') {
        expect(q.raw_truncated).toBe(true);
        expect(q.raw).toBe(raw.subarray(0, 1024).toString('utf8'));
        expect(q.detail).toContain(String(raw.length));
      } else if (reason === 'invalid_utf8') {
        expect(q.raw).toBe(raw.toString('utf8'));
        expect(q.raw).toContain('\ufffd');
      } else {
        expect(q.raw, reason).toBe(raw.toString('utf8'));
        expect(q.raw_truncated).toBeUndefined();
      }
    }

    // The good lines alone make the tiny set's artifacts.
    const manifest = readManifest(join(dir, 'out/registry'), 'demo', 'home')!;
    const popularity = readArtifact(manifest.current.popularity!);
    expect(popularity.artifact_type === 'popularity' && popularity.items.map((i) => `${i.item_id}:${i.count}`)).toEqual(['A:2', 'B:1', 'C:1', 'D:1']);
  });

  test('over limits.max_bad_event_ratio: exit 3 with the numbers, nothing published, the previous manifest byte-identical', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const rawFile = writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', GOOD);
    const first = await runJson(ARGS(config), { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const registry = join(dir, 'out/registry');
    const objects = join(dir, 'out/objectstore');
    const manifestBefore = readFileSync(join(registry, 'current/demo/home/manifest.json'));
    const registryBefore = snapshot(registry);
    const objectsBefore = snapshot(objects);

    // Same day, now with broken lines: 12 of 17 lines rejected > 0.001 (the default).
    writeFileSync(rawFile, corpus().bytes);
    const second = await runJson(ARGS(config), { cwd: dir });
    expect(second.code).toBe(3);
    expect(second.json.ok).toBe(false);
    expect(second.json.error).toMatchObject({ kind: 'validation', exit_code: 3, context: { gate: 'max_bad_event_ratio', rejected: 12, read: 17, config_key: 'limits.max_bad_event_ratio' } });
    expect(second.stderr).toContain('12 of 17 lines rejected');
    expect(second.stderr).toContain('limits.max_bad_event_ratio');

    expect(readFileSync(join(registry, 'current/demo/home/manifest.json'))).toEqual(manifestBefore);
    expect(snapshot(registry)).toEqual(registryBefore);
    expect(snapshot(objects)).toEqual(objectsBefore);
    expect(readHistory(registry, 'demo', 'home')).toHaveLength(1);
    // The rejects are still kept for inspection.
    expect(readFileSync(join(dir, 'out/quarantine/demo/home/2026-01-01.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(12);
  });

  test('a clean rerun removes the previous run’s quarantine file', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { limits: { max_bad_event_ratio: 0.9 } });
    const rawFile = writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [...GOOD, '{oops']);
    const a = await runJson(ARGS(config), { cwd: dir });
    expect(a.code, a.stderr).toBe(0);
    expect(a.json.days[0]!.quarantine).toBeDefined();
    writeFileSync(rawFile, GOOD.join('\n') + '\n');
    const b = await runJson(ARGS(config), { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(b.json.days[0]!.quarantine).toBeUndefined();
    expect(Object.keys(snapshot(join(dir, 'out/quarantine'))).filter((k) => k.endsWith('.jsonl'))).toEqual([]);
  });

  test('duplicates, other tenants/surfaces and other days are counted, not published', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [
      ...GOOD,
      good('s1', 'A'), // exact duplicate
      good('s1', ' A '), // the same event once normalised
      good('s1', 'A', { ts: '2026-01-01T12:00:00+02:00' }), // = 10:00Z: a duplicate too
      good('s9', 'Z', { tenant: 'other' }),
      good('s9', 'Z', { surface: 'web' }),
      good('s9', 'Z', { ts: '2026-01-02T00:00:00Z' }),
      good('s9', 'Z', { ts: '2026-01-01T23:30:00-01:00' }), // 2026-01-02 in UTC
    ]);
    const r = await runJson(ARGS(config), { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.days[0]!.counts).toEqual({ read: 12, accepted: 5, duplicates: 3, out_of_window: 2, other_scope: 2, rejected: 0, rejected_by_reason: {} });
  });
});
