// Tenants and surfaces may start with "." (the path-segment rule of
// @recsys/contracts allows it and its tests promise it), so the all-scope
// operations must see them like any other scope (issue 11 item 12):
// status lists them, verify checks them, gc collects their old versions.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cli, event, readManifest, tempDir, writeConfig, writeRawDay } from './helpers.js';

describe('scopes whose tenant or surface starts with a dot', () => {
  test('appear in all-scope status, verify and gc', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const dot = { tenant: '.hidden', surface: '.web' };
    writeRawDay(join(dir, 'raw'), dot.tenant, dot.surface, '2026-01-01', [event('s1', 'A', dot), event('s1', 'B', dot), event('s2', 'A', dot)]);
    writeRawDay(join(dir, 'raw'), dot.tenant, dot.surface, '2026-01-02', [event('s1', 'C', { ...dot, ts: '2026-01-02T10:00:00Z' }), event('s1', 'D', { ...dot, ts: '2026-01-02T10:00:00Z' })]);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [event('s1', 'A'), event('s1', 'B')]);
    const scope = ['--tenant', dot.tenant, '--surface', dot.surface];
    for (const args of [[...scope, '--start', '2026-01-01', '--end', '2026-01-01'], [...scope, '--start', '2026-01-02', '--end', '2026-01-02', '--incremental'], ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01']]) {
      const r = await cli(['run', '--config', config, ...args], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }

    // The data is from 2026-01-01: stale by data age whatever the clock says, so give a generous --max-age.
    const status = await cli(['status', '--config', config, '--json', '--max-age', '1000000h'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    const scopes = (JSON.parse(status.stdout) as { scopes: { tenant: string; surface: string }[] }).scopes.map((s) => `${s.tenant}/${s.surface}`);
    expect(scopes.sort()).toEqual(['.hidden/.web', 'demo/home']);

    // verify: a tampered blob of the dot scope is found by the all-scope verify.
    const uri = readManifest(join(dir, 'out/registry'), dot.tenant, dot.surface)!.current.popularity!;
    const blob = new URL(uri);
    const original = readFileSync(blob, 'utf8');
    writeFileSync(blob, original.replace(/"count": ?1/, (m) => m.replace('1', '9')));
    const bad = await cli(['verify', '--config', config], { cwd: dir });
    expect(bad.code, bad.stdout).toBe(1);
    expect(bad.stdout).toContain('.hidden/.web');
    writeFileSync(blob, original);
    expect((await cli(['verify', '--config', config], { cwd: dir })).code).toBe(0);

    // gc: day 1's versions are no longer served by the dot scope and may go.
    const gc = await cli(['gc', '--config', config, '--keep-versions', '0', '--keep-history', '0', '--older-than', '0s', '--dry-run', '--json'], { cwd: dir });
    expect(gc.code, gc.stderr).toBe(0);
    const plan = JSON.parse(gc.stdout) as { scopes: { tenant: string; surface: string; deleted: { version: string }[] }[] };
    const dotPlan = plan.scopes.find((s) => s.tenant === dot.tenant && s.surface === dot.surface);
    expect(dotPlan, gc.stdout).toBeDefined();
    expect(dotPlan!.deleted.length).toBeGreaterThan(0);
  });
});
