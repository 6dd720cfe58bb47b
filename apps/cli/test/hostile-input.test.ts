// Hostile raw input, end to end through the CLI (issue 11 items 10, 13, 14, 16):
// whatever a single line contains, it ends in the canonical partition or in
// quarantine, and nothing a line holds can abort the day or the other
// tenants of a shared flat file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, readArtifact, runJson, snapshot, tempDir, writeConfig, writeRawDay } from './helpers.js';
import { collidingItemIds, scopedMessage, unkeyedFingerprint } from './fingerprint-collision.js';

const line = (tenant: string, session: string, item: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, ts: '2026-01-01T10:00:00Z', tenant, surface: 'home', session_id: session, item_id: item, ...extra });

const args = (config: string, tenant: string) => ['--config', config, '--tenant', tenant, '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

type QuarantineRecord = { line: number; reason: string; detail: string; raw: string };
const quarantine = (dir: string, tenant: string): QuarantineRecord[] =>
  readFileSync(join(dir, `out/quarantine/${tenant}/home/2026-01-01.jsonl`), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as QuarantineRecord);

describe('hostile raw input', () => {
  test('a deeply nested JSON value is quarantined; every tenant of a flat file still gets its day', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { limits: { max_bad_event_ratio: 0.9 } });
    // ~200k levels: JSON.parse copes, a recursive JSON.stringify of the value does not.
    const depth = 200_000;
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    const deepV = `{"v":${nested},"ts":"2026-01-01T10:00:00Z","tenant":"a","surface":"home","session_id":"s9","item_id":"Z"}`;
    const deepRank = `{"v":1,"ts":"2026-01-01T10:00:00Z","tenant":"b","surface":"home","session_id":"s9","item_id":"Z","rank":${nested}}`;
    const lines = [line('a', 's1', 'A'), line('b', 's1', 'B'), deepV, line('a', 's2', 'A'), deepRank, line('b', 's2', 'C'), line('a', 's2', 'C')];
    mkdirSync(join(dir, 'raw'));
    writeFileSync(join(dir, 'raw/exposure.jsonl'), lines.join('\n') + '\n');

    for (const [tenant, accepted] of [['a', 3], ['b', 2]] as const) {
      const r = await runJson(args(config, tenant), { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      const day = r.json.days[0]!;
      expect(day.counts).toMatchObject({ read: 7, accepted, rejected: 2, other_scope: 5 - accepted });
      expect(day.counts.rejected_by_reason).toEqual({ unsupported_version: 1, invalid_rank: 1 });
      const q = quarantine(dir, tenant);
      expect(q.map((x) => [x.line, x.reason])).toEqual([[3, 'unsupported_version'], [5, 'invalid_rank']]);
      expect(q[0]!.raw).toBe(deepV);
      expect(q[1]!.raw).toBe(deepRank);
      // The detail describes the value without echoing 400 kB of brackets.
      for (const x of q) expect(x.detail.length).toBeLessThan(200);
      const pop = readArtifact(day.artifacts.find((a) => a.type === 'popularity')!.uri) as { items: { item_id: string; count: number }[] };
      expect(pop.items.map((i) => i.item_id).sort()).toEqual(tenant === 'a' ? ['A', 'C'] : ['B', 'C']);
    }
    expect(existsSync(join(dir, 'out/canonical/a/home/exposures/2026-01-01.jsonl'))).toBe(true);
  });

  test('a window ending on 9999-12-31 is refused (exit 2) before anything is written, by run and by the job steps', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    for (const day of ['9999-12-30', '9999-12-31']) {
      writeRawDay(join(dir, 'raw'), 'demo', 'home', day, [{ v: 1, ts: `${day}T10:00:00Z`, tenant: 'demo', surface: 'home', session_id: 's1', item_id: 'A' }]);
    }
    const window = ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '9999-12-30', '--end', '9999-12-31'];
    const before = snapshot(dir);
    for (const step of [['run'], ['ingest'], ['validate'], ['compute', 'popularity'], ['publish', '--artifacts', 'popularity']]) {
      const r = await cli([...step, ...window], { cwd: dir });
      expect(r.code, `${step.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('day 9999-12-31 cannot be processed');
      expect(snapshot(dir), step.join(' ')).toEqual(before);
    }
    // The day before it is fine.
    const ok = await runJson([...window.slice(0, -2), '--end', '9999-12-30'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.days.map((d) => d.day)).toEqual(['9999-12-30']);
  });

  test('two distinct events whose canonical lines share the unkeyed 64-bit fingerprint are both kept; real duplicates still go', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const canonical = (item: string) => `{"v":1,"ts":"2026-01-01T10:00:00Z","tenant":"demo","surface":"home","session_id":"s1","item_id":"${item}"}`;
    const message = (l: string) => scopedMessage(l, { tenant: 'demo', surface: 'home' });
    const [a, b] = collidingItemIds(canonical, message);
    expect(a).not.toBe(b);
    expect(unkeyedFingerprint(message(canonical(a)))).toEqual(unkeyedFingerprint(message(canonical(b))));
    const ev = (item: string) => ({ v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: 's1', item_id: item });
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [ev(a), ev(b), ev(a), ev('C')]);
    const window = ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

    const r = await runJson(window, { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // The pair did meet in the duplicate table (the crafted collision is on what ingest hashes), and was kept apart.
    expect(r.stderr).toContain('distinct events shared an unkeyed fingerprint');
    const day = r.json.days[0]!;
    expect(day.counts).toMatchObject({ read: 4, accepted: 3, duplicates: 1 });
    const canonicalText = readFileSync(join(dir, 'out/canonical/demo/home/exposures/2026-01-01.jsonl'), 'utf8');
    expect(canonicalText).toBe([canonical(a), canonical(b), canonical('C')].join('\n') + '\n');
    const pop = readArtifact(day.artifacts.find((x) => x.type === 'popularity')!.uri) as unknown as { items: { item_id: string; count: number }[] };
    expect(Object.fromEntries(pop.items.map((i) => [i.item_id, i.count]))).toEqual({ [a]: 1, [b]: 1, C: 1 });
    // validate's own duplicate check reads the partition back and must not call the pair duplicates either.
    for (const step of ['ingest', 'validate']) {
      const s = await cli([step, ...window], { cwd: dir });
      expect(s.code, `${step}: ${s.stderr}`).toBe(0);
    }
  });
});
