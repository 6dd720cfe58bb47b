// Past the memory budget, ingest spills its duplicate table to scratch_dir
// and removes duplicates after the day is read: the partition, quarantine,
// counts and published artifacts are exactly those of the in-memory path,
// and the scratch folder is gone afterwards (also when the run fails).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, event, logLines, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

const ARGS = (config: string) => ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
const NOW = { RECSYS_TEST_NOW: '2026-01-02T06:00:00Z' };

/** 400 events over 40 sessions, every 7th one repeated later (exact duplicates), and one broken line. */
function rawLines(): (string | object)[] {
  const lines: (string | object)[] = [];
  for (let i = 0; i < 400; i++) lines.push(event(`s${i % 40}`, `item-${(i * 13) % 57}`, { ts: `2026-01-01T10:${String(i % 60).padStart(2, '0')}:00Z` }));
  for (let i = 0; i < 400; i += 7) lines.splice(i + 50 > lines.length ? lines.length : i + 50, 0, lines[i]!);
  lines.splice(123, 0, '{"v":1,broken');
  return lines;
}

function day(dir: string, extra: Record<string, unknown>) {
  const config = writeConfig(dir, { ...extra, limits: { max_bad_event_ratio: 0.01, ...(extra.limits as object | undefined) } });
  writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', rawLines());
  return config;
}

const read = (dir: string, rel: string) => readFileSync(join(dir, 'out', rel), 'utf8').replaceAll(dir, '<dir>');

describe('memory_budget', () => {
  test('a spilled duplicate table gives the same partition, quarantine, counts and artifacts; scratch is cleaned up', async () => {
    const inMemory = tempDir();
    const spilled = tempDir();
    const a = await runJson(ARGS(day(inMemory, {})), { cwd: inMemory, env: NOW });
    mkdirSync(join(spilled, 'scratch'));
    const b = await runJson(ARGS(day(spilled, { scratch_dir: './scratch' })), { cwd: spilled, env: { ...NOW, RECSYS_TEST_MEMORY_BUDGET: '1', RECSYS_LOG_LEVEL: 'info' } });
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(logLines(b.stderr).some((l) => l.msg === 'duplicate table spilled to scratch (past a quarter of the memory budget)')).toBe(true);
    const [da, db] = [a.json.days[0]!, b.json.days[0]!];
    expect(da.counts.duplicates).toBe(58);
    expect(db.counts).toEqual(da.counts);
    expect(db.artifacts.map((x) => [x.type, x.version, x.rows, x.bytes])).toEqual(da.artifacts.map((x) => [x.type, x.version, x.rows, x.bytes]));
    for (const rel of ['canonical/demo/home/exposures/2026-01-01.jsonl', 'quarantine/demo/home/2026-01-01.jsonl']) expect(read(spilled, rel)).toBe(read(inMemory, rel));
    expect(readdirSync(join(spilled, 'scratch'))).toEqual([]);
  });

  test('the scratch folder is removed when the run fails after spilling', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'scratch'));
    // Over the event limit once duplicates are removed: exit 4 after the spilled table was resolved.
    const r = await cli(['run', ...ARGS(day(dir, { scratch_dir: './scratch', limits: { max_events_per_run: 100 } }))], { cwd: dir, env: { ...NOW, RECSYS_TEST_MEMORY_BUDGET: '1' } });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/max_events_per_run/);
    expect(readdirSync(join(dir, 'scratch'))).toEqual([]);
    expect(existsSync(join(dir, 'out/canonical/demo/home/exposures/2026-01-01.jsonl'))).toBe(false);
  });

  test('a bad memory_budget exits 2 naming the key', async () => {
    for (const bad of ['lots', '10MiB', 1024, -1]) {
      const dir = tempDir();
      const r = await cli(['run', ...ARGS(day(dir, { memory_budget: bad }))], { cwd: dir });
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/memory_budget/);
    }
    const ok = tempDir();
    const r = await runJson(ARGS(day(ok, { memory_budget: '1.5GiB', scratch_dir: './scratch' })), { cwd: ok });
    expect(r.code, r.stderr).toBe(0);
  });
});
