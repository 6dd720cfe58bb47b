// `report --json` and `show` through the built CLI, on a registry with a
// publish history, a rollback, a blocked day and a stale surface.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { cli, tempDir } from './helpers.js';
import { HOSTILE_IDS, NOW, ROLLBACK_REASON, prepareReportRegistry } from './report-registry.js';

let dir: string;
let config: string;

beforeAll(async () => {
  dir = tempDir('recsys-report-');
  config = await prepareReportRegistry(dir);
}, 300_000);

const env = () => ({ RECSYS_TEST_NOW: NOW });

interface ScopeJson {
  tenant: string;
  surface: string;
  freshness: { fresh: boolean; stale_reason?: string };
  live: { key: string; version: string; rows?: number; bytes?: number; window?: { start: string; end: string }; built_at?: string }[];
  top_items?: { previous?: { version: string }; items: { rank: number; item_id: string; count: number; change: string; previous_rank?: number; move?: number }[]; dropped: { item_id: string }[] };
  neighbors?: { rows: { item_id: string; neighbors: { item_id: string; count: number }[] }[] };
  timeline: { key: string; events: { seq: number; reason: string; message?: string; from?: string; to?: string }[] }[];
  ingest: { from?: string; to?: string; days: { day: string; outcome: string; gate?: string; counts?: { read: number; accepted: number; duplicates: number; rejected: number } }[] };
  rollback: { all: string; dry_run: string; keys: { key: string; to: string; command: string }[] };
}

async function reportJson(args: string[] = []): Promise<{ stale: boolean; scopes: ScopeJson[] }> {
  const r = await cli(['report', '--config', config, '--json', '--days', '7', ...args], { cwd: dir, env: env() });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { stale: boolean; scopes: ScopeJson[] };
}

describe('report --json', () => {
  test('covers every tenant/surface; freshness is status’s verdict', async () => {
    const doc = await reportJson();
    expect(doc.scopes.map((s) => `${s.tenant}/${s.surface}`)).toEqual(['demo/home', 'demo/search', 'evil/web']);
    const status = await cli(['status', '--config', config, '--json'], { cwd: dir, env: env() });
    const verdict = (JSON.parse(status.stdout) as { scopes: { tenant: string; surface: string; fresh: boolean }[] }).scopes.map((s) => [`${s.tenant}/${s.surface}`, s.fresh]);
    expect(doc.scopes.map((s) => [`${s.tenant}/${s.surface}`, s.freshness.fresh])).toEqual(verdict);
    expect(verdict).toEqual([
      ['demo/home', true],
      ['demo/search', false],
      ['evil/web', true],
    ]);
    expect(doc.stale).toBe(true);
  });

  test('what is live, top items with rank moves against the version served before, neighbours', async () => {
    const [home] = (await reportJson(['--tenant', 'demo', '--surface', 'home'])).scopes;
    expect(home!.live.map((a) => a.key)).toEqual(['cooc', 'popularity']);
    const pop = home!.live.find((a) => a.key === 'popularity')!;
    expect(pop).toMatchObject({ window: { start: '2026-03-09T00:00:00Z', end: '2026-03-10T00:00:00Z' }, rows: 7, built_at: '2026-03-10T02:00:00Z' });
    expect(pop.bytes).toBeGreaterThan(0);
    const top = home!.top_items!;
    // 2026-03-08 → 2026-03-09: boots overtakes anorak, gloves jumps 5 → 3, hat is new.
    expect(top.items.slice(0, 5).map((i) => [i.rank, i.item_id, i.count, i.change, i.previous_rank])).toEqual([
      [1, 'sku-boots', 52, 'up', 2],
      [2, 'sku-anorak', 41, 'down', 1],
      [3, 'sku-gloves', 30, 'up', 5],
      [4, 'sku-cap', 22, 'down', 3],
      [5, 'sku-hat', 17, 'new', undefined],
    ]);
    expect(top.items.find((i) => i.item_id === 'sku-gloves')!.move).toBe(2);
    expect(home!.neighbors!.rows[0]!.item_id).toBe('sku-boots');
    expect(home!.neighbors!.rows[0]!.neighbors.length).toBe(5);
    expect(home!.neighbors!.rows[0]!.neighbors[0]!.count).toBeGreaterThan(0);
  });

  test('history with the rollback and its reason; ingest days with the blocked one; rollback commands', async () => {
    const [search] = (await reportJson(['--tenant', 'demo', '--surface', 'search'])).scopes;
    expect(search!.freshness.fresh).toBe(false);
    const pop = search!.timeline.find((t) => t.key === 'popularity')!;
    expect(pop.events.map((e) => [e.seq, e.reason, e.message])).toEqual([
      [3, 'rollback', ROLLBACK_REASON],
      [2, 'publish', undefined],
      [1, 'publish', undefined],
    ]);
    expect(search!.timeline.find((t) => t.key === 'cooc')!.events.map((e) => e.reason)).toEqual(['publish', 'publish']);
    expect(search!.ingest).toMatchObject({ from: '2026-02-22', to: '2026-02-28' });
    const days = Object.fromEntries(search!.ingest.days.map((d) => [d.day, d]));
    expect(days['2026-02-26']).toMatchObject({ outcome: 'published', counts: { accepted: 75, duplicates: 3, rejected: 0 } });
    expect(days['2026-02-28']).toMatchObject({ outcome: 'blocked', gate: 'max_bad_event_ratio', counts: { rejected: 12 } });
    expect(days['2026-02-25']).toMatchObject({ outcome: 'not_ingested' });
    // The live popularity is the rolled-back-to version; its rollback target skips the version rolled back from.
    const live = search!.live.find((a) => a.key === 'popularity')!;
    expect(search!.top_items!.previous).toBeDefined();
    expect(search!.rollback.all).toBe(`recsys-pipelines rollback --config ${config} --tenant demo --surface search --all --steps 1 --reason '…'`);
    expect(search!.rollback.dry_run).toContain('--dry-run');
    const rolledBackFrom = pop.events[0]!.from!;
    for (const k of search!.rollback.keys) {
      expect(k.to).not.toBe(live.version);
      expect(k.to).not.toBe(rolledBackFrom);
    }
  });

  test('hostile ids come back verbatim in JSON', async () => {
    const [evil] = (await reportJson(['--tenant', 'evil', '--surface', 'web'])).scopes;
    expect(evil!.top_items!.items.map((i) => i.item_id)).toEqual([...HOSTILE_IDS, 'plain']);
  });

  test('--out writes the HTML atomically; without --out or --json it is a usage error', async () => {
    const out = join(dir, 'r.html');
    const r = await cli(['report', '--config', config, '--out', out], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/report written: .*r\.html \(3 tenant\/surfaces, stale: demo\/search\)/);
    const text = readFileSync(out, 'utf8');
    expect(text.startsWith('<!doctype html>')).toBe(true);
    expect(text).not.toMatch(/<script|<link|@import|url\(http|src="http/i);
    const bad = await cli(['report', '--config', config], { cwd: dir, env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--out <file>');
  });

  test('--next-to-manifest writes report.html beside the manifest (needs one tenant/surface)', async () => {
    const r = await cli(['report', '--config', config, '--tenant', 'demo', '--surface', 'home', '--next-to-manifest'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(dir, 'out/registry/current/demo/home/report.html'), 'utf8');
    expect(text).toContain('demo / home');
    const bad = await cli(['report', '--config', config, '--next-to-manifest'], { cwd: dir, env: env() });
    expect(bad.code).toBe(2);
    // A report file beside the manifest is no registry object: verify stays clean.
    const verify = await cli(['verify', '--config', config, '--tenant', 'demo', '--surface', 'home'], { cwd: dir, env: env() });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('show', () => {
  test('prints the top rows of the live artifacts', async () => {
    const r = await cli(['show', '--config', config, '--tenant', 'demo', '--surface', 'home', '--top', '3'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^popularity {2}[0-9a-f]{12} {2}window 2026-03-09\.\.2026-03-10/m);
    expect(r.stdout).toMatch(/#1 +sku-boots +52\n +#2 +sku-anorak +41\n +#3 +sku-gloves +30\n/);
    expect(r.stdout).toContain('neighbours of the most exposed items:');
    expect(r.stdout).toMatch(/^ +sku-boots +sku-[a-z]+ \(\d+\)/m);
  });

  test('--type and --json: the same rows as data', async () => {
    const r = await cli(['show', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'popularity', '--top', '2', '--json'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; artifacts: { key: string; selection: string; rows: unknown[] }[] };
    expect(json.ok).toBe(true);
    expect(json.artifacts).toHaveLength(1);
    expect(json.artifacts[0]).toMatchObject({ key: 'popularity', selection: 'top', rows: [{ rank: 1, item_id: 'sku-boots', count: 52 }, { rank: 2, item_id: 'sku-anorak', count: 41 }] });
  });

  test('nothing live for a type, or no manifest: exit 1 naming what is there', async () => {
    const r = await cli(['show', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'implicit'], { cwd: dir, env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('live keys: popularity, cooc');
    const none = await cli(['show', '--config', config, '--tenant', 'demo', '--surface', 'nowhere'], { cwd: dir, env: env() });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('nothing is published');
  });

  test('hostile ids are printed quoted, unambiguously', async () => {
    const r = await cli(['show', '--config', config, '--tenant', 'evil', '--surface', 'web', '--type', 'popularity'], { cwd: dir, env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(JSON.stringify(HOSTILE_IDS[1]));
  });
});
