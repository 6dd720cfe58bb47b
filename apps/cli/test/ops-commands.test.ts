// rollback / status / verify / gc / history through the built binary: exit
// codes, refusals that name their reason, --json, --dry-run, --prometheus.
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { GO_VERSIONS, cli, copyTiny, event, readManifest, snapshot, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];

/** A workspace with two published days of demo/home (day 2 = the tiny set plus one session) and one of acme/home. */
async function workspace() {
  const dir = tempDir();
  copyTiny(dir);
  writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z' }), event('s1', 'B', { ts: '2026-01-02T10:00:01Z' }), event('s2', 'C', { ts: '2026-01-02T11:00:00Z' })]);
  writeRawDay(join(dir, 'raw'), 'acme', 'home', '2026-01-01', [event('s1', 'Q', { tenant: 'acme' }), event('s1', 'R', { tenant: 'acme' })]);
  const config = writeConfig(dir);
  for (const args of [
    [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'],
    [...SCOPE, '--start', '2026-01-02', '--end', '2026-01-02'],
    ['--tenant', 'acme', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'],
  ]) {
    const r = await cli(['run', '--config', config, ...args], { cwd: dir });
    if (r.code !== 0) throw new Error(r.stderr);
  }
  const registry = join(dir, 'out/registry');
  const version = (tenant: string, key: string) => {
    const uri = readManifest(registry, tenant, 'home')!.current[key]!;
    return uri.slice(uri.lastIndexOf('/') + 1, -5);
  };
  return { dir, config, registry, version, opts: { cwd: dir } };
}

let ws: Awaited<ReturnType<typeof workspace>>;
beforeAll(async () => {
  ws = await workspace();
});

describe('rollback refusals (exit 2, naming why) and --dry-run', () => {
  test('unknown version, another type, another tenant, missing blob, corrupt blob; nothing written', async () => {
    const { config, opts, registry, version, dir } = ws;
    const before = snapshot(registry);
    const cases: [string[], RegExp][] = [
      [['--type', 'popularity', '--to', 'ab'.repeat(32)], /unknown version abab/],
      [['--type', 'popularity', '--to', GO_VERSIONS.cooc], /is a cooc version of demo\/home/],
      [['--type', 'popularity', '--to', version('acme', 'popularity')], /is a popularity version of acme\/home/],
      [['--all', '--to', GO_VERSIONS.popularity], /--to names one version of one type/],
      [['--type', 'popularity'], /exactly one of --to <version> or --steps <n>/],
      [['--type', 'nope', '--steps', '1'], /unknown artifact type "nope"/],
      [['--type', 'popularity', '--steps', '0'], /--steps must be a whole number >= 1/],
      [['--type', 'popularity', '--steps', '5'], /only 2 pointer changes of it, fewer than --steps 5/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['rollback', '--config', config, ...SCOPE, ...args], opts);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // A missing blob, then a corrupt one.
    const blob = join(dir, `out/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`);
    const bytes = readFileSync(blob);
    unlinkSync(blob);
    let r = await cli(['rollback', '--config', config, ...SCOPE, '--type', 'popularity', '--to', GO_VERSIONS.popularity, '--json'], opts);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, command: 'rollback', error: { kind: 'usage', exit_code: 2, context: { problem: 'missing_blob' } } });
    writeFileSync(blob, bytes.subarray(0, 40));
    r = await cli(['rollback', '--config', config, ...SCOPE, '--type', 'popularity', '--steps', '1'], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\(corrupt blob\)/);
    writeFileSync(blob, bytes);
    // Dry run: the plan, and not a byte written.
    r = await cli(['rollback', '--config', config, ...SCOPE, '--all', '--steps', '1', '--dry-run', '--json'], opts);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { dry_run: boolean; moves: { key: string; to: { version: string } }[] };
    expect(plan.dry_run).toBe(true);
    expect(plan.moves.map((m) => [m.key, m.to.version])).toEqual([
      ['cooc', GO_VERSIONS.cooc],
      ['popularity', GO_VERSIONS.popularity],
    ]);
    expect(snapshot(registry)).toEqual(before);
  });
});

describe('status', () => {
  // demo/home serves the 2026-01-02 window (ends 2026-01-03T00:00Z), acme/home the 2026-01-01 one (ends 2026-01-02T00:00Z).
  const AT = (instant: string) => ({ ...ws.opts, env: { RECSYS_TEST_NOW: instant } });

  test('fresh → exit 0; data older than --max-age → exit 5 with --prometheus metrics; missing scope → exit 5', async () => {
    const { config, dir } = ws;
    const fresh = await cli(['status', '--config', config, '--max-age', '48h'], AT('2026-01-03T12:00:00Z'));
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/^acme\/home {2}FRESH {2}data 1d 12h old \(window ends 2026-01-02T00:00:00Z; max age 2d\)$/m);
    expect(fresh.stdout).toMatch(/^demo\/home {2}FRESH/m);
    expect(fresh.stdout).toMatch(/^blobs: unverified \(each exists with the size its version record says/m);

    // An old manifest with fresh data is still fresh: freshness is the data's age; the manifest's age is reported.
    const t = tempDir();
    const manifestPath = join(t, 'manifest.json');
    const real = join(dir, 'out/registry/current/demo/home/manifest.json');
    const original = readFileSync(real, 'utf8');
    writeFileSync(manifestPath, original);
    writeFileSync(real, original.replace(/"updated_at": "[^"]+"/, '"updated_at": "2020-01-01T00:00:00Z"'));
    try {
      const prom = join(t, 'recsys.prom');
      const stale = await cli(['status', '--config', config, '--max-age', '26h', '--prometheus', prom, '--json'], AT('2026-01-03T12:00:00Z'));
      expect(stale.code, stale.stderr).toBe(5);
      const report = JSON.parse(stale.stdout) as { ok: boolean; stale: boolean; problems: number; scopes: { tenant: string; fresh: boolean; stale_reason?: string; data_age_seconds: number; manifest_age_seconds: number; age_seconds: number }[] };
      expect(report).toMatchObject({ ok: false, stale: true, problems: 0 });
      expect(report.scopes.map((s) => [s.tenant, s.fresh, s.data_age_seconds])).toEqual([
        ['acme', false, 36 * 3600],
        ['demo', true, 12 * 3600],
      ]);
      expect(report.scopes[0]!.stale_reason).toMatch(/data is 1d 12h old \(129600 s; window ends 2026-01-02T00:00:00Z\), more than the max age of 1d 2h \(93600 s\)/);
      expect(report.scopes[1]!.manifest_age_seconds).toBe(report.scopes[1]!.age_seconds);
      const metrics = readFileSync(prom, 'utf8');
      expect(metrics).toMatch(/^# TYPE recsys_manifest_age_seconds gauge$/m);
      expect(metrics).toMatch(/^recsys_manifest_stale\{tenant="demo",surface="home"\} 0$/m);
      expect(metrics).toMatch(/^recsys_manifest_stale\{tenant="acme",surface="home"\} 1$/m);
      expect(metrics).toMatch(/^recsys_artifact_items\{tenant="demo",surface="home",type="popularity",segment="default"\} 3$/m);
      expect(metrics).toMatch(/^recsys_last_publish_timestamp_seconds\{tenant="demo",surface="home",type="cooc",segment="default"\} \d+(\.\d+)?$/m);
      expect(metrics).toMatch(new RegExp(`^recsys_artifact_window_end_timestamp_seconds\\{tenant="demo",surface="home",type="cooc",segment="default"\\} ${Date.parse('2026-01-03T00:00:00Z') / 1000}$`, 'm'));
      expect(metrics).toMatch(/^recsys_artifact_stale\{tenant="acme",surface="home",type="popularity",segment="default"\} 1$/m);
      expect(metrics).toMatch(/^recsys_data_age_seconds\{tenant="demo",surface="home"\} 43200$/m);
      const age = Number(/^recsys_manifest_age_seconds\{tenant="demo",surface="home"\} (\d+)$/m.exec(metrics)![1]);
      expect(age).toBeGreaterThan(86_400 * 365);
      // Only the file itself: no temp file left beside it.
      expect(Object.keys(snapshot(t)).sort()).toEqual(['manifest.json', 'recsys.prom']);
      const human = await cli(['status', '--config', config, '--tenant', 'acme', '--surface', 'home'], AT('2026-01-03T12:00:00Z'));
      expect(human.code).toBe(5);
      expect(human.stdout).toMatch(/^acme\/home {2}STALE/m);
    } finally {
      writeFileSync(real, original);
    }
    const missing = await cli(['status', '--config', config, '--tenant', 'demo', '--surface', 'search'], ws.opts);
    expect(missing.code).toBe(5);
    expect(missing.stdout).toMatch(/no manifest: nothing published/);
  });

  test('after a rollback to an older window: STALE, although the manifest was just written (issue 13 item 3)', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z' }), event('s1', 'B', { ts: '2026-01-02T10:00:01Z' })]);
    const config = writeConfig(dir);
    const opts = { cwd: dir, env: { RECSYS_TEST_NOW: '2026-01-03T06:00:00Z' } };
    for (const day of ['2026-01-01', '2026-01-02']) {
      const r = await cli(['run', '--config', config, ...SCOPE, '--start', day, '--end', day], opts);
      expect(r.code, r.stderr).toBe(0);
    }
    const before = await cli(['status', '--config', config, ...SCOPE], opts);
    expect(before.code, before.stdout).toBe(0);
    const rb = await cli(['rollback', '--config', config, ...SCOPE, '--all', '--steps', '1', '--reason', 'test'], opts);
    expect(rb.code, rb.stderr).toBe(0);
    const after = await cli(['status', '--config', config, ...SCOPE, '--json'], opts);
    expect(after.code, after.stdout).toBe(5);
    const s = (JSON.parse(after.stdout) as { scopes: { fresh: boolean; data_age_seconds: number; manifest_age_seconds: number; oldest_window_end: string; last_history: { reason: string } }[] }).scopes[0]!;
    expect(s).toMatchObject({ fresh: false, data_age_seconds: 30 * 3600, oldest_window_end: '2026-01-02T00:00:00Z', last_history: { reason: 'rollback' } });
    expect(s.manifest_age_seconds).toBe(0);
  });

  test('a served blob that is missing or not its recorded size → exit 1; same-size tampering only with --verify', async () => {
    const { config, dir } = ws;
    const now = AT('2026-01-03T12:00:00Z');
    const scopeArgs = ['--tenant', 'demo', '--surface', 'home', '--max-age', '48h'];
    const blob = join(dir, `out/objectstore/demo/home/cooc/${ws.version('demo', 'cooc')}.json`);
    const original = readFileSync(blob, 'utf8');
    try {
      let r = await cli(['status', '--config', config, ...scopeArgs, '--verify'], now);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^blobs: verified/m);
      expect(r.stdout).toMatch(/^ {2}cooc .* verified$/m);

      const tampered = original.replace(/"count": ?1/, (m) => m.replace('1', '7'));
      expect(tampered).not.toBe(original);
      writeFileSync(blob, tampered);
      r = await cli(['status', '--config', config, ...scopeArgs], now);
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/^ {2}cooc .* unverified$/m);
      r = await cli(['status', '--config', config, ...scopeArgs, '--verify', '--json'], now);
      expect(r.code, r.stdout).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, verified: true, problems: 1, scopes: [{ artifacts: [{ key: 'cooc', check: 'failed', problem_kind: 'hash_mismatch' }, { key: 'popularity', check: 'verified' }] }] });

      writeFileSync(blob, original + '\n');
      const prom = join(tempDir(), 'recsys.prom');
      r = await cli(['status', '--config', config, ...scopeArgs, '--prometheus', prom], now);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`PROBLEM: blob \\S+ has ${Buffer.byteLength(original) + 1} bytes; its version record says ${Buffer.byteLength(original)}`));
      expect(readFileSync(prom, 'utf8')).toMatch(/^recsys_artifact_problem\{tenant="demo",surface="home",type="cooc",segment="default"\} 1$/m);

      unlinkSync(blob);
      r = await cli(['status', '--config', config, ...scopeArgs, '--json'], now);
      expect(r.code, r.stdout).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, stale: false, problems: 1, scopes: [{ fresh: true, artifacts: [{ key: 'cooc', check: 'failed', problem_kind: 'missing_blob' }, { key: 'popularity', check: 'unverified' }] }] });
    } finally {
      writeFileSync(blob, original);
    }
  });

  test('usage errors exit 2', async () => {
    const { config, opts } = ws;
    for (const [args, message] of [
      [['--max-age', '26'], /--max-age "26" is not a duration/],
      [['--tenant', 'demo'], /give --tenant and --surface together/],
    ] as const) {
      const r = await cli(['status', '--config', config, ...args], opts);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  test('an empty registry is stale (nothing is served)', async () => {
    const dir = tempDir();
    const r = await cli(['status', '--config', writeConfig(dir)], { cwd: dir });
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/nothing is published/);
  });
});

describe('verify', () => {
  test('clean → exit 0; a tampered blob → exit 1 naming the blob and every reference', async () => {
    const { config, opts, dir } = ws;
    const ok = await cli(['verify', '--config', config, '--json'], opts);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, problems: [] });
    const blob = join(dir, `out/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`);
    const original = readFileSync(blob, 'utf8');
    writeFileSync(blob, original.replace(/"count": ?1/, (m) => m.replace('1', '7')));
    try {
      const bad = await cli(['verify', '--config', config, ...SCOPE], opts);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toMatch(new RegExp(`PROBLEM hash_mismatch {2}demo/home record cooc/${GO_VERSIONS.cooc}, history 1 next\\.cooc, history 2 previous\\.cooc: .*content hashes to`));
      expect(bad.stdout).toMatch(/verify: 1 problem$/m);
    } finally {
      writeFileSync(blob, original);
    }
  });
});

describe('gc', () => {
  test('--dry-run lists, then deletes unreferenced old versions; history and verify stay clean', async () => {
    const w = await workspace();
    const dry = await cli(['gc', '--config', w.config, '--keep-versions', '1', '--keep-history', '1', '--older-than', '0s', '--dry-run', '--json'], w.opts);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { dry_run: boolean; scopes: { tenant: string; deleted: { key: string; version: string }[] }[] };
    expect(plan.dry_run).toBe(true);
    // Entry 2 of demo/home references both days' versions; with --keep-history 1 they all stay.
    expect(plan.scopes.flatMap((s) => s.deleted)).toEqual([]);
    // A third publish (day 1 again, moved back deliberately: the original versions come back) pushes day 2's out of the last entry's reach.
    expect((await cli(['run', '--config', w.config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01', '--move-pointer-back'], w.opts)).code).toBe(0);
    const day2 = { popularity: '', cooc: '' };
    const hist = JSON.parse((await cli(['history', '--config', w.config, ...SCOPE, '--json'], w.opts)).stdout) as { entries: { seq: number; changes: { key: 'popularity' | 'cooc'; from?: { version: string } }[] }[] };
    for (const c of hist.entries[0]!.changes) day2[c.key] = c.from!.version;
    const before = snapshot(join(w.dir, 'out'));
    const dry2 = JSON.parse((await cli(['gc', '--config', w.config, '--keep-versions', '1', '--keep-history', '0', '--older-than', '0s', '--dry-run', '--json'], w.opts)).stdout) as typeof plan;
    expect(snapshot(join(w.dir, 'out'))).toEqual(before);
    const wouldDelete = dry2.scopes.flatMap((s) => s.deleted.map((d) => d.version)).sort();
    // Day 2's versions are the newest of their type (published last): --keep-versions 1 keeps them.
    expect(wouldDelete).toEqual([]);
    const real = await cli(['gc', '--config', w.config, ...SCOPE, '--keep-versions', '0', '--keep-history', '0', '--older-than', '0s'], w.opts);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(new RegExp(`deleted demo/home popularity +${day2.popularity.slice(0, 12)}`));
    expect(real.stdout).toMatch(/gc: deleted 2 versions/);
    // Each kept version is counted once, under the rule that keeps it: here the two served ones.
    expect(real.stdout).toMatch(/demo\/home: 2 deleted; kept 2 \(2 referenced by the manifest or history\)/);
    // The served versions are untouched; history references to the collected ones are explained.
    const verify = await cli(['verify', '--config', w.config], w.opts);
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/history references? to blobs collected by gc/);
    // Rolling back to a collected version is refused, naming gc.
    const rb = await cli(['rollback', '--config', w.config, ...SCOPE, '--type', 'popularity', '--steps', '1'], w.opts);
    expect(rb.code).toBe(2);
    expect(rb.stderr).toMatch(/missing blob.*deleted by gc/);
    // --keep-versions has a default (10): a plain dry run works and deletes nothing here.
    const defaults = await cli(['gc', '--config', w.config, '--dry-run', '--json'], w.opts);
    expect(defaults.code, defaults.stderr).toBe(0);
    expect(JSON.parse(defaults.stdout)).toMatchObject({ dry_run: true, deleted_versions: 0 });
    const badFlag = await cli(['gc', '--config', w.config, '--keep-versions', 'x'], w.opts);
    expect(badFlag.code).toBe(2);
  });
});
