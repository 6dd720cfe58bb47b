// Golden end-to-end run on the tiny demo day with the embedded default config
// (cwd = a temp folder, no --config), rerun idempotency, the --json shape and
// the human summary.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseVersionRecord, serializeArtifact } from '@recsys/contracts';
import { GO_VERSIONS, cli, copyTiny, files, readArtifact, readHistory, readManifest, readText, readUri, runJson, snapshot, tempDir, writeConfig, type RunJson } from './helpers.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const TINY = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

describe('golden: the tiny set with the embedded default config', () => {
  let cwd: string;
  let out: string;
  let first: RunJson;
  beforeAll(async () => {
    cwd = tempDir();
    out = join(cwd, '.out');
    const r = await runJson(TINY, { cwd });
    expect(r.code, r.stderr).toBe(0);
    first = r.json;
  });

  test('publishes exactly the Go implementation’s versions', () => {
    expect(first.ok).toBe(true);
    expect(first.days).toHaveLength(1);
    expect(Object.fromEntries(first.days[0]!.artifacts.map((a) => [a.type, a.version]))).toEqual(GO_VERSIONS);
  });

  test('popularity A:2, B:1, C:1, D:1 and cooc A→[B:1, C:1], B→[A:1], C→[A:1]', () => {
    const manifest = readManifest(join(out, 'registry'), 'demo', 'home')!;
    const popularity = readArtifact(manifest.current.popularity!);
    const cooc = readArtifact(manifest.current.cooc!);
    expect(popularity.artifact_type === 'popularity' && popularity.items).toEqual([
      { item_id: 'A', count: 2 },
      { item_id: 'B', count: 1 },
      { item_id: 'C', count: 1 },
      { item_id: 'D', count: 1 },
    ]);
    expect(cooc.artifact_type === 'cooc' && cooc.neighbors).toEqual([
      { item_id: 'A', items: [{ item_id: 'B', count: 1 }, { item_id: 'C', count: 1 }] },
      { item_id: 'B', items: [{ item_id: 'A', count: 1 }] },
      { item_id: 'C', items: [{ item_id: 'A', count: 1 }] },
    ]);
    for (const artifact of [popularity, cooc]) {
      expect(artifact).toMatchObject({ v: 1, tenant: 'demo', surface: 'home', segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } });
      expect(artifact.build.version).toBe(GO_VERSIONS[artifact.artifact_type as keyof typeof GO_VERSIONS]);
    }
  });

  test('writes exactly the DESIGN §4 layout: partition, staged artifacts, blobs, records, manifest and one history entry', () => {
    // `run` stages like the job-mode steps do, so both leave the same files.
    const staged = (type: 'popularity' | 'cooc') => [
      `artifacts/demo/home/default/${type}/2026-01-01_2026-01-02/${GO_VERSIONS[type]}.claim.json`,
      `artifacts/demo/home/default/${type}/2026-01-01_2026-01-02/${GO_VERSIONS[type]}.json`,
      `artifacts/demo/home/default/${type}/2026-01-01_2026-01-02/${GO_VERSIONS[type]}.meta.json`,
      `artifacts/demo/home/default/${type}/2026-01-01_2026-01-02/current.version`,
    ];
    expect(files(out)).toEqual([
      'artifacts/demo/home/_ingest/2026-01-01.json',
      ...staged('cooc'),
      ...staged('popularity'),
      'canonical/demo/home/exposures/2026-01-01.jsonl',
      `objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      `objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
      'registry/current/demo/home/manifest.json',
      'registry/history/demo/home/000000000001.json',
      `registry/records/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      `registry/records/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
    ]);
  });

  test('the manifest points at both blobs with absolute file:// URIs and nothing else', () => {
    const text = readText(join(out, 'registry/current/demo/home/manifest.json'));
    const manifest = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(manifest)).toEqual(['v', 'tenant', 'surface', 'current', 'updated_at']);
    expect(manifest.current).toEqual({
      cooc: `file://${out}/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      popularity: `file://${out}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
    });
  });

  test('version records describe the blobs and the canonical input', () => {
    const canonical = readFileSync(join(out, 'canonical/demo/home/exposures/2026-01-01.jsonl'));
    for (const type of ['popularity', 'cooc'] as const) {
      const version = GO_VERSIONS[type];
      const record = parseVersionRecord(JSON.parse(readText(join(out, `registry/records/demo/home/${type}/${version}.json`))));
      const blob = readFileSync(join(out, `objectstore/demo/home/${type}/${version}.json`));
      expect(record).toMatchObject({ tenant: 'demo', surface: 'home', artifact_type: type, segment: 'default', version, size_bytes: blob.length, uri: `file://${out}/objectstore/demo/home/${type}/${version}.json` });
      expect(record.sha256).toBe(sha256(blob));
      expect(record.inputs).toEqual([{ day: '2026-01-01', uri: `file://${out}/canonical/demo/home/exposures/2026-01-01.jsonl`, sha256: sha256(canonical), events: 5 }]);
    }
  });

  test('one history entry from nothing to both pointers', () => {
    const history = readHistory(join(out, 'registry'), 'demo', 'home');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ seq: 1, reason: 'publish', tenant: 'demo', surface: 'home', previous: {}, run_id: first.run_id });
    expect(history[0]!.next).toEqual(readManifest(join(out, 'registry'), 'demo', 'home')!.current);
  });

  test('the canonical partition is the normalised events in input order', () => {
    const lines = readText(join(out, 'canonical/demo/home/exposures/2026-01-01.jsonl')).trimEnd().split('\n');
    expect(lines[0]).toBe('{"v":1,"ts":"2026-01-01T00:00:01Z","tenant":"demo","surface":"home","session_id":"s1","item_id":"A","user_id":"u1"}');
    expect(lines).toHaveLength(5);
  });
});

describe('idempotency: the same day twice', () => {
  test('canonical files, blobs, records and the manifest stay byte-identical; versions unchanged; no history entry (nothing moved)', async () => {
    const cwd = tempDir();
    const out = join(cwd, '.out');
    // The two runs happen at different instants (fixed clocks a day apart), so anything that
    // embeds a build or publish time and is rewritten on rerun would show up as a change.
    const a = await runJson(TINY, { cwd, env: { RECSYS_TEST_NOW: '2026-01-02T01:00:00Z' } });
    expect(a.code, a.stderr).toBe(0);
    const before = snapshot(out);
    const b = await runJson(TINY, { cwd, env: { RECSYS_TEST_NOW: '2026-01-03T01:00:00Z' } });
    expect(b.code, b.stderr).toBe(0);
    const after = snapshot(out);

    expect(b.json.days[0]!.artifacts.map((x) => x.version)).toEqual(a.json.days[0]!.artifacts.map((x) => x.version));
    // The rerun finds the same blobs already published.
    expect(a.json.days[0]!.artifacts.every((x) => x.new_blob)).toBe(true);
    expect(b.json.days[0]!.artifacts.every((x) => !x.new_blob)).toBe(true);

    // History lists pointer changes only: the rerun moves nothing, so it appends no entry
    // (status's "last change" stays the first publish). Nothing else may change either — the
    // manifest is not rewritten because its pointers did not move.
    const added = Object.keys(after).filter((k) => !(k in before));
    expect(added).toEqual([]);
    for (const key of Object.keys(before)) expect(after[key], key).toBe(before[key]);
    const history = readHistory(join(out, 'registry'), 'demo', 'home');
    expect(history).toHaveLength(1);
    expect(b.json.days[0]!.history_seq).toBe(1);
    expect(b.json.days[0]!.pointer_moved).toBe(false);
    expect(b.json.days[0]!.artifacts.map((x) => x.pointer)).toEqual(['unchanged', 'unchanged']);
    expect(a.json.days[0]!.pointer_moved).toBe(true);
  });
});

describe('output', () => {
  test('--json: one object with per-day counts, versions, URIs and durations', async () => {
    const cwd = tempDir();
    const { code, json, stdout, stderr } = await runJson(TINY, { cwd });
    expect(code, stderr).toBe(0);
    // Exactly one JSON document on stdout.
    expect(() => JSON.parse(stdout)).not.toThrow();
    const out = join(cwd, '.out');
    expect(json).toMatchObject({ ok: true, command: 'run', tenant: 'demo', surface: 'home', segment: 'default', manifest_uri: `file://${out}/registry/current/demo/home/manifest.json` });
    expect(json.run_id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    const day = json.days[0]!;
    expect(day.day).toBe('2026-01-01');
    expect(day.counts).toEqual({ read: 5, accepted: 5, duplicates: 0, out_of_window: 0, other_scope: 0, rejected: 0, rejected_by_reason: {} });
    expect(day.canonical).toEqual({ uri: `file://${out}/canonical/demo/home/exposures/2026-01-01.jsonl`, sha256: sha256(readFileSync(join(out, 'canonical/demo/home/exposures/2026-01-01.jsonl'))), bytes: readFileSync(join(out, 'canonical/demo/home/exposures/2026-01-01.jsonl')).length });
    expect(day.quarantine).toBeUndefined();
    expect(day.artifacts).toEqual([
      // rows: payload rows; bytes: the stored blob (the version record's size_bytes).
      { type: 'popularity', key: 'popularity', version: GO_VERSIONS.popularity, uri: `file://${out}/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`, rows: 4, bytes: readFileSync(join(out, `objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`)).length, new_blob: true, pointer: 'moved' },
      { type: 'cooc', key: 'cooc', version: GO_VERSIONS.cooc, uri: `file://${out}/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`, rows: 3, bytes: readFileSync(join(out, `objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`)).length, new_blob: true, pointer: 'moved' },
    ]);
    expect(day.pointer_moved).toBe(true);
    expect(day.manifest_uri).toBe(json.manifest_uri);
    expect(day.history_seq).toBe(1);
    expect(Object.keys(day.durations_ms).sort()).toEqual(['compute', 'ingest', 'publish', 'total', 'validate']);
    for (const ms of Object.values(day.durations_ms)) expect(ms).toBeGreaterThanOrEqual(0);
  });

  test('human summary: counts, versions, and the manifest path', async () => {
    const cwd = tempDir();
    const r = await cli(['run', ...TINY], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('recsys-pipelines run demo/home segment=default (1 day)');
    expect(r.stdout).toContain('2026-01-01  read 5  accepted 5  duplicates 0  rejected 0');
    expect(r.stdout).toContain(GO_VERSIONS.popularity.slice(0, 12));
    expect(r.stdout).toContain(GO_VERSIONS.cooc.slice(0, 12));
    const manifestPath = join(cwd, '.out/registry/current/demo/home/manifest.json');
    expect(lines.at(-1)).toBe(`manifest: ${manifestPath}`);
    expect(existsSync(fileURLToPath(`file://${manifestPath}`))).toBe(true);
  });

  test('logs are JSON lines on stderr at the level asked for', async () => {
    const cwd = tempDir();
    const r = await cli(['run', ...TINY, '--log-level', 'info'], { cwd });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.some((l) => l.msg === 'published day')).toBe(true);
    const quiet = await cli(['run', ...TINY], { cwd, env: { RECSYS_LOG_LEVEL: 'error' } });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});

describe('blob_format (DESIGN §3.4)', () => {
  test('compact by default, pretty on request: same versions, same parsed artifact, blob = the contract serializer in that form; staged and published blobs are one file', async () => {
    const blobs: Record<string, Record<string, string>> = {};
    for (const format of [undefined, 'pretty', 'compact'] as const) {
      const dir = tempDir();
      copyTiny(dir);
      const config = writeConfig(dir, format ? { blob_format: format } : {});
      const r = await runJson(['--config', config, ...TINY], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(Object.fromEntries(r.json.days[0]!.artifacts.map((a) => [a.type, a.version]))).toEqual(GO_VERSIONS);
      const byType: Record<string, string> = {};
      for (const a of r.json.days[0]!.artifacts) {
        const text = readUri(a.uri);
        const artifact = readArtifact(a.uri);
        expect(text).toBe(serializeArtifact(artifact, { format: format ?? 'compact' }));
        expect(a.bytes).toBe(Buffer.byteLength(text));
        // The published blob is the staged one, linked rather than copied.
        const staged = join(dir, `out/artifacts/demo/home/default/${a.type}/2026-01-01_2026-01-02/${a.version}.json`);
        expect(statSync(fileURLToPath(a.uri)).ino).toBe(statSync(staged).ino);
        byType[a.type] = JSON.stringify({ ...artifact, build: { ...artifact.build, built_at: '' } });
      }
      blobs[format ?? 'default'] = byType;
    }
    expect(blobs.pretty).toEqual(blobs.default);
    expect(blobs.compact).toEqual(blobs.default);
  });

  test('any other blob_format is a config error naming the key; nothing is written', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir, { blob_format: 'tabs' });
    const r = await cli(['run', '--config', config, ...TINY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('config blob_format');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});
