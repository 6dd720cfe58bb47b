// Every ```bash block of the operations docs (runbooks, rollback and daily
// operation how-tos) runs, in order, against a prepared workspace that puts
// the system in the situation the document is about (parser and runner:
// doc-blocks.ts). A block's expected exit code is 0 unless it is tagged
// ```bash exit=N. The documents use $CONFIG, $TENANT, $SURFACE, $DAY, $OUT,
// $RAW and $TEXTFILE_DIR: their `export` line is marked as an example (your
// deployment's values); the test defines them, and `recsys-pipelines` on
// PATH is the built binary.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { BIN, GO_VERSIONS, checkRegistry, cli, copyTiny, event, readHistory, readManifest, tempDir, writeConfig, writeRawDay } from './helpers.js';
import { bashBlocks, blockFailure, expectedExit, runBlock } from './doc-blocks.js';

const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
const DAY1 = '2026-01-01';
const DAY2 = '2026-01-02';
const SCOPE = ['--tenant', 'demo', '--surface', 'home'];
/** The morning after DAY2, when its daily run goes wrong: DAY1's data is 25 h old (still fresh at 26 h). */
const MORNING_AFTER_DAY2 = '2026-01-03T01:00:00Z';
/** The morning after DAY1. */
const MORNING_AFTER_DAY1 = '2026-01-02T06:00:00Z';

interface Workspace {
  readonly dir: string;
  readonly config: string;
  readonly env: Record<string, string>;
}

/**
 * A workspace; `now` is the instant the documents' commands run at
 * (RECSYS_TEST_NOW), since `status` judges the data's age against the clock.
 */
function workspace(now: string): Workspace {
  const dir = tempDir('recsys-docs-');
  copyTiny(dir);
  const config = writeConfig(dir);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'recsys-pipelines'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'recsys-pipelines'), 0o755);
  for (const d of ['tmp', 'textfile']) mkdirSync(join(dir, d));
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    CONFIG: config,
    TENANT: 'demo',
    SURFACE: 'home',
    DAY: DAY2,
    OUT: join(dir, 'out'),
    RAW: join(dir, 'raw'),
    TMPDIR: join(dir, 'tmp'),
    TEXTFILE_DIR: join(dir, 'textfile'),
    RECSYS_LOG_LEVEL: 'warn',
    RECSYS_TEST_NOW: now,
  };
  return { dir, config, env };
}

/** Runs every bash block of `doc` in `ws`; returns their outputs. */
function runDoc(doc: string, ws: Workspace): string[] {
  const blocks = bashBlocks(join(DOCS, doc));
  expect(blocks.length, `${doc} has bash blocks`).toBeGreaterThan(0);
  const outputs: string[] = [];
  for (const block of blocks) {
    const r = runBlock(undefined, block, ws.dir, ws.env);
    expect(r.status, blockFailure(doc, block, r)).toBe(expectedExit(block));
    outputs.push(r.stdout);
  }
  return outputs;
}

async function ok(args: string[], ws: Workspace, env: Record<string, string> = {}) {
  const r = await cli(['run', '--config', ws.config, ...SCOPE, ...args], { cwd: ws.dir, env });
  return r;
}

const day2Events = () => [event('s1', 'A', { ts: `${DAY2}T10:00:00Z` }), event('s1', 'B', { ts: `${DAY2}T10:00:01Z` }), event('s2', 'C', { ts: `${DAY2}T11:00:00Z` })];
const servedWindow = (ws: Workspace) => {
  const uri = readManifest(join(ws.dir, 'out/registry'), 'demo', 'home')!.current.popularity!;
  return (JSON.parse(readFileSync(fileURLToPath(uri), 'utf8')) as { window: { start: string } }).window.start;
};

describe('runbooks', () => {
  test('pipeline-failed: a run killed mid-publish; diagnose, rerun, confirm', async () => {
    const ws = workspace(MORNING_AFTER_DAY2);
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    writeRawDay(join(ws.dir, 'raw'), 'demo', 'home', DAY2, day2Events());
    const killed = await ok(['--start', DAY2, '--end', DAY2], ws, { RECSYS_TEST_KILL_AT: 'pointer' });
    expect(killed.signal).toBe('SIGKILL');
    runDoc('operations/runbooks/pipeline-failed.md', ws);
    expect(servedWindow(ws)).toBe(`${DAY2}T00:00:00Z`);
    expect((await checkRegistry(join(ws.dir, 'out/registry'), 'demo', 'home')).history).toHaveLength(2);
  });

  test('validation-failed: too many bad lines; inspect quarantine, override once, confirm', async () => {
    const ws = workspace(MORNING_AFTER_DAY2);
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    writeRawDay(join(ws.dir, 'raw'), 'demo', 'home', DAY2, [...day2Events(), '{"v":1,"ts":"not a time"', { ...event('s3', 'D', { ts: `${DAY2}T12:00:00Z` }), extra: 1 }]);
    const blocked = await ok(['--start', DAY2, '--end', DAY2], ws);
    expect(blocked.code, blocked.stderr).toBe(3);
    const outputs = runDoc('operations/runbooks/validation-failed.md', ws);
    // The reason counts came out of the quarantine file.
    expect(outputs.join('\n')).toMatch(/1 "reason":"invalid_json"/);
    expect(outputs.join('\n')).toMatch(/1 "reason":"unknown_field"/);
    expect(servedWindow(ws)).toBe(`${DAY2}T00:00:00Z`);
    expect(existsSync(join(ws.dir, 'config.override.json'))).toBe(false);
  });

  test('limit-exceeded: read the numbers, compare, rerun with a raised limit', async () => {
    const ws = workspace(MORNING_AFTER_DAY2);
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    writeConfig(ws.dir, { limits: { max_events_per_run: 2 } });
    writeRawDay(join(ws.dir, 'raw'), 'demo', 'home', DAY2, day2Events());
    const outputs = runDoc('operations/runbooks/limit-exceeded.md', ws);
    expect(outputs.join('\n')).toMatch(/limit max_events_per_run exceeded: observed 3, allowed 2/);
    expect(servedWindow(ws)).toBe(`${DAY2}T00:00:00Z`);
  });

  test('stale-artifacts: the daily job stopped; find out, catch up incrementally, confirm', async () => {
    const ws = workspace('2026-01-04T01:00:00Z');
    expect((await ok(['--incremental', '--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    writeRawDay(join(ws.dir, 'raw'), 'demo', 'home', DAY2, day2Events());
    // Two days pass without a publish: the runbook runs on 2026-01-04, DAY1's data is 49 h old.
    const outputs = runDoc('operations/runbooks/stale-artifacts.md', ws);
    expect(outputs[0]).toMatch(/demo\/home {2}STALE {2}data 2d 1h old \(window ends 2026-01-02T00:00:00Z; max age 1d 2h\)/);
    // After the catch-up, the confirm step finds DAY2's data 25 h old: fresh.
    expect(outputs.at(-1)).toMatch(/demo\/home {2}FRESH {2}data 1d 1h old/);
    expect(servedWindow(ws)).toBe(`${DAY2}T00:00:00Z`);
  });
});

describe('how-to guides', () => {
  test('rollback: good day, bad publish, roll back with the documented commands', async () => {
    const ws = workspace(MORNING_AFTER_DAY1);
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    appendFileSync(join(ws.dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), JSON.stringify(event('s9', 'Z')) + '\n' + JSON.stringify(event('s9', 'A')) + '\n');
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    runDoc('how-to/rollback.md', ws);
    const registry = join(ws.dir, 'out/registry');
    const current = readManifest(registry, 'demo', 'home')!.current;
    expect(current.popularity).toContain(GO_VERSIONS.popularity);
    expect(current.cooc).toContain(GO_VERSIONS.cooc);
    const history = readHistory(registry, 'demo', 'home');
    expect(history.map((e) => e.reason)).toEqual(['publish', 'publish', 'rollback']);
    expect(history[2]!.message).toBe('bad upstream export, ticket OPS-123');
  });

  test('operate-daily: the status probe, metrics, verify and gc commands', async () => {
    const ws = workspace(MORNING_AFTER_DAY1);
    expect((await ok(['--start', DAY1, '--end', DAY1], ws)).code).toBe(0);
    const outputs = runDoc('how-to/operate-daily.md', ws);
    // The daily command on the sample data: the first incremental run publishes 2026-01-01, the next finds nothing to do.
    expect(outputs[0]).toContain('nothing to do: already up to date');
    expect(JSON.parse(outputs[0]!.slice(outputs[0]!.indexOf('{'))) as { last_completed_day: string }).toMatchObject({ last_completed_day: DAY1 });
    expect(readManifest(join(ws.dir, '.out/registry'), 'demo', 'home')!.current.popularity).toContain(GO_VERSIONS.popularity);
    const metrics = readFileSync(join(ws.dir, 'textfile/recsys.prom'), 'utf8');
    expect(metrics).toMatch(/^recsys_manifest_stale\{tenant="demo",surface="home"\} 0$/m);
    expect(metrics).toMatch(/^recsys_artifact_items\{tenant="demo",surface="home",type="popularity",segment="default"\} 4$/m);
  });
});

describe('reference', () => {
  test('artifacts: the run that produced the examples publishes every type', async () => {
    const ws = workspace(MORNING_AFTER_DAY1);
    runDoc('reference/artifacts.md', ws);
    // No --config: the embedded default (bundled sample data in, ./.out out).
    expect(Object.keys(readManifest(join(ws.dir, '.out/registry'), 'demo', 'home')!.current).sort()).toEqual(['content_sim', 'cooc', 'implicit', 'popularity', 'session_seq']);
  });
});
