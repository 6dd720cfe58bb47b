// docs/operations/slos-and-freshness.md, kept true: the alert rules load
// (`promtool check rules`) and fire as their unit tests say (`promtool test
// rules`); what `status --prometheus` writes passes `promtool check metrics`;
// every metric the rules or the doc name is one that status writes, and the
// doc's metric table lists every metric status writes.
// promtool comes from Debian's `prometheus` package, installed by
// tooling/scripts/ensure-promtool.sh when missing (root + apt-get).
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { GO_VERSIONS, cli, copyTiny, event, tempDir, writeConfig, writeRawDay } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = join(ROOT, 'docs/operations/slos-and-freshness.md');
const RULES_DIR = join(ROOT, 'docs/operations/prometheus');
const RULES = join(RULES_DIR, 'recsys-pipelines.rules.yml');
const ENSURE = join(ROOT, 'tooling/scripts/ensure-promtool.sh');

let promtool: string;
beforeAll(async () => {
  const { stdout } = await promisify(execFile)('bash', [ENSURE], { timeout: 600_000 });
  promtool = stdout.trim().split('\n').at(-1)!;
}, 660_000);

function runPromtool(args: string[], input?: string) {
  const r = spawnSync(promtool, args, { cwd: RULES_DIR, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `# TYPE` names of a Prometheus text file. */
const typeNames = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));

/** A textfile from a registry with a fresh scope, a stale one, and a live blob gone. */
async function statusTextfile(): Promise<string> {
  const dir = tempDir();
  copyTiny(dir);
  writeRawDay(join(dir, 'raw'), 'acme', 'web', '2025-12-30', [event('s1', 'Q', { tenant: 'acme', surface: 'web', ts: '2025-12-30T10:00:00Z' }), event('s1', 'R', { tenant: 'acme', surface: 'web', ts: '2025-12-30T10:00:01Z' })]);
  const config = writeConfig(dir);
  for (const args of [
    ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'],
    ['--tenant', 'acme', '--surface', 'web', '--start', '2025-12-30', '--end', '2025-12-30'],
  ]) {
    const r = await cli(['run', '--config', config, ...args], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  unlinkSync(join(dir, `out/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`));
  const prom = join(dir, 'recsys.prom');
  const r = await cli(['status', '--config', config, '--prometheus', prom], { cwd: dir, env: { RECSYS_TEST_NOW: '2026-01-02T05:00:00Z' } });
  expect(r.code, r.stdout + r.stderr).toBe(1); // the missing blob outranks acme's staleness
  const text = readFileSync(prom, 'utf8');
  expect(text).toMatch(/^recsys_manifest_stale\{tenant="acme",surface="web"\} 1$/m);
  expect(text).toMatch(/^recsys_manifest_stale\{tenant="demo",surface="home"\} 0$/m);
  expect(text).toMatch(/^recsys_artifact_problem\{tenant="demo",surface="home",type="cooc",segment="default"\} 1$/m);
  return text;
}

describe('SLOs and freshness: alert rules and metrics (promtool)', () => {
  test('promtool check rules accepts the rule file', () => {
    const r = runPromtool(['check', 'rules', RULES]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: each alert fires (and stays quiet) as its unit tests say', () => {
    const r = runPromtool(['test', 'rules', 'recsys-pipelines.rules.test.yml']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
  });

  test('promtool check metrics accepts what status --prometheus writes; rules and doc name only metrics status writes', async () => {
    const text = await statusTextfile();
    const r = runPromtool(['check', 'metrics'], text);
    expect(r.code, `${r.out}\n--- textfile\n${text}`).toBe(0);
    expect(r.out.trim()).toBe('');

    // A lint problem would fail it (the check can fail).
    const bad = runPromtool(['check', 'metrics'], '# HELP recsys_x_count x\n# TYPE recsys_x_count counter\nrecsys_x_count 1\n');
    expect(bad.code).not.toBe(0);

    const written = typeNames(text);
    const inRules = new Set([...readFileSync(RULES, 'utf8').matchAll(/\brecsys_[a-z_]+\b/g)].map((m) => m[0]));
    expect([...inRules].filter((m) => !written.has(m)), 'metrics the rules use but status does not write').toEqual([]);
    const doc = readFileSync(DOC, 'utf8');
    const tableRows = new Set([...doc.matchAll(/^\| `(recsys_[a-z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...tableRows].sort(), 'the metric table of slos-and-freshness.md').toEqual([...written].sort());
  });

  test('the doc links the rule file and its unit tests', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toContain('(prometheus/recsys-pipelines.rules.yml)');
    expect(doc).toContain('(prometheus/recsys-pipelines.rules.test.yml)');
    expect(readFileSync(RULES, 'utf8')).toContain('apps/cli/test/slos-doc.test.ts');
  });
});
