// Job mode through the built binary: `run` is exactly ingest → validate →
// compute → publish (same versions, same files), every step can be re-run
// with the same result, missing inputs are named, and segments never touch
// the default segment's pointers.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseArtifact, parseCheckpoint, parseHistoryEntry, parseVersionRecord } from '@recsys/contracts';
import { SAMPLE_RAW, checkRegistry, cli, readManifest, snapshot, tempDir, writeConfig, type CliResult } from './helpers.js';

const SCOPE = ['--tenant', 'diginetica', '--surface', 'web'];
const DAYS = ['2016-05-30', '2016-05-31'];
const WINDOW = [...SCOPE, '--start', DAYS[0]!, '--end', DAYS[1]!];
const NOW = { RECSYS_TEST_NOW: '2026-02-03T04:05:06Z' };

/**
 * A config over a copy of two Diginetica days, with one broken line and one
 * line of another tenant (so quarantine and the counts are exercised), and
 * a bad-line ratio limit that lets the broken line through.
 */
function setup(): { dir: string; config: string } {
  const dir = tempDir('recsys-jobs-');
  const raw = join(dir, 'raw/diginetica/web');
  mkdirSync(raw, { recursive: true });
  for (const day of DAYS) cpSync(join(SAMPLE_RAW, `diginetica/web/exposure.${day}.jsonl`), join(raw, `exposure.${day}.jsonl`));
  appendFileSync(join(raw, `exposure.${DAYS[1]}.jsonl`), '{"v":1,"broken\n{"v":1,"ts":"2016-05-31T10:00:00Z","tenant":"other","surface":"web","session_id":"x","item_id":"y"}\n');
  return { dir, config: writeConfig(dir, { limits: { max_bad_event_ratio: 0.05 } }) };
}

async function ok(args: string[], cwd: string, env: Record<string, string> = NOW): Promise<CliResult> {
  const r = await cli(args, { cwd, env });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

async function jobSteps(dir: string, config: string, extra: string[] = [], env: Record<string, string> = NOW): Promise<void> {
  const c = ['--config', config, ...WINDOW, ...extra];
  await ok(['ingest', ...c], dir, env);
  await ok(['validate', ...c], dir, env);
  await ok(['compute', 'popularity', 'cooc', ...c], dir, env);
  await ok(['publish', ...c], dir, env);
}

/** A history entry without what identifies the process that wrote it. */
function historyWithoutProcess(dir: string, rel: string): unknown {
  const entry = parseHistoryEntry(JSON.parse(readFileSync(join(dir, 'out', rel), 'utf8').replaceAll(dir, '/dir')));
  const { run_id: _runId, actor, ...rest } = entry;
  const { pid: _pid, ...stableActor } = actor;
  return { ...rest, actor: stableActor };
}

describe('run ≡ ingest → validate → compute → publish', () => {
  test('same versions and the same files under out/; history entries differ only in run_id and pid', async () => {
    const a = setup();
    const b = setup();
    const run = await ok(['run', '--json', '--config', a.config, ...WINDOW], a.dir);
    await jobSteps(b.dir, b.config);

    const runVersions = (JSON.parse(run.stdout) as { days: { artifacts: { type: string; version: string }[] }[] }).days.map((d) => d.artifacts.map((x) => `${x.type}:${x.version}`));
    const manifestA = readManifest(join(a.dir, 'out/registry'), 'diginetica', 'web')!;
    const manifestB = readManifest(join(b.dir, 'out/registry'), 'diginetica', 'web')!;
    expect(Object.keys(manifestB.current).sort()).toEqual(['cooc', 'popularity']);
    expect(Object.values(manifestB.current).map((u) => u.split('/').slice(-2).join('/'))).toEqual(Object.values(manifestA.current).map((u) => u.split('/').slice(-2).join('/')));
    expect(runVersions.at(-1)!.map((v) => v.replace(':', '/') + '.json').sort()).toEqual(Object.values(manifestB.current).map((u) => u.split('/').slice(-2).join('/')).sort());

    // Every file, byte for byte. URIs inside records/reports name each temp folder, so compare with the folder replaced.
    const filesA = snapshot(join(a.dir, 'out'));
    const filesB = snapshot(join(b.dir, 'out'));
    expect(Object.keys(filesB).sort()).toEqual(Object.keys(filesA).sort());
    const history = Object.keys(filesA).filter((k) => k.startsWith('registry/history/') && k.endsWith('.json'));
    expect(history).toHaveLength(2);
    const text = (dir: string, rel: string) => readFileSync(join(dir, 'out', rel), 'utf8').replaceAll(dir, '<dir>');
    for (const rel of Object.keys(filesA).filter((k) => !k.endsWith('/'))) {
      if (history.includes(rel)) {
        expect(historyWithoutProcess(b.dir, rel), rel).toEqual(historyWithoutProcess(a.dir, rel));
        expect(text(b.dir, rel), rel).not.toEqual(text(a.dir, rel));
      } else {
        expect(text(b.dir, rel), rel).toEqual(text(a.dir, rel));
      }
    }
    // What the comparison covered: canonical, quarantine, staging, blobs, records, manifest.
    for (const prefix of ['canonical/', 'quarantine/', 'artifacts/', 'objectstore/', 'registry/records/', 'registry/current/']) {
      expect(Object.keys(filesA).some((k) => k.startsWith(prefix) && !k.endsWith('/')), prefix).toBe(true);
    }
    await checkRegistry(join(b.dir, 'out/registry'), 'diginetica', 'web');
  });

  test('re-running every step gives the same result (publish moves nothing, so it appends no history)', async () => {
    const { dir, config } = setup();
    await jobSteps(dir, config);
    const out = join(dir, 'out');
    const before = snapshot(out);
    const c = ['--config', config, ...WINDOW];
    for (const step of [['ingest'], ['validate'], ['compute', 'popularity', 'cooc'], ['ingest'], ['compute', 'cooc', 'popularity'], ['validate']]) {
      await ok([...step, ...c], dir);
      expect(snapshot(out), step.join(' ')).toEqual(before);
    }
    const manifest = readManifest(join(out, 'registry'), 'diginetica', 'web')!;
    await ok(['publish', ...c], dir);
    const after = snapshot(out);
    const added = Object.keys(after).filter((k) => !(k in before));
    expect(added.sort()).toEqual([]);
    for (const [k, v] of Object.entries(before)) expect(after[k], k).toBe(v);
    expect(readManifest(join(out, 'registry'), 'diginetica', 'web')!.current).toEqual(manifest.current);
    // Re-publishing the window no longer replays its days: 05-30 would move the pointer back
    // behind the live 05-31 (kept instead) and 05-31 is already live, so history stays at 1 and 2.
    const { history } = await checkRegistry(join(out, 'registry'), 'diginetica', 'web');
    expect(history).toHaveLength(2);
  });

  test('without a fixed clock, only timestamps differ: built_at, published_at, updated_at, history at', async () => {
    const { dir, config } = setup();
    await jobSteps(dir, config, [], { RECSYS_TEST_NOW: '2026-02-03T04:05:06Z' });
    const c = ['--config', config, ...WINDOW];
    // Recompute and republish at another instant: same versions; the staged and the stored blob
    // both keep their first built_at (a rerun changes no file).
    await ok(['compute', 'popularity', 'cooc', ...c], dir, { RECSYS_TEST_NOW: '2026-02-03T09:09:09Z' });
    const staged = join(dir, 'out/artifacts/diginetica/web/default/popularity/2016-05-31_2016-06-01');
    const version = readFileSync(join(staged, 'current.version'), 'utf8').trim();
    expect(parseArtifact(JSON.parse(readFileSync(join(staged, `${version}.json`), 'utf8'))).build.built_at).toBe('2026-02-03T04:05:06Z');
    await ok(['publish', ...c], dir, { RECSYS_TEST_NOW: '2026-02-03T09:09:09Z' });
    const blob = JSON.parse(readFileSync(join(dir, `out/objectstore/diginetica/web/popularity/${version}.json`), 'utf8')) as { build: { built_at: string } };
    expect(blob.build.built_at).toBe('2026-02-03T04:05:06Z');
    const record = parseVersionRecord(JSON.parse(readFileSync(join(dir, `out/registry/records/diginetica/web/popularity/${version}.json`), 'utf8')));
    expect(record.built_at).toBe('2026-02-03T04:05:06Z');
    // The republish moved no pointer, so the manifest was not rewritten: it keeps the first publish's time.
    expect(readManifest(join(dir, 'out/registry'), 'diginetica', 'web')!.updated_at).toBe('2026-02-03T04:05:06.000Z');
    expect(record.published_at).toBe('2026-02-03T04:05:06.000Z');
  });
});

describe('missing inputs', () => {
  test('publish with nothing staged exits 1 and says so; nothing is written to the registry', async () => {
    const { dir, config } = setup();
    const r = await cli(['publish', '--config', config, ...WINDOW], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing staged to publish for diginetica/web segment default on 2016-05-30, 2016-05-31');
    expect(r.stderr).toContain('compute');
    expect(existsSync(join(dir, 'out/registry'))).toBe(false);

    const json = await cli(['publish', '--json', '--config', config, ...WINDOW], { cwd: dir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, command: 'publish', error: { kind: 'not_found', exit_code: 1 } });
  });

  test('publish refuses (exit 1, before publishing any day) when a requested type is not staged', async () => {
    const { dir, config } = setup();
    const c = ['--config', config, ...WINDOW];
    await ok(['ingest', ...c], dir);
    await ok(['compute', 'popularity', ...c], dir);
    const r = await cli(['publish', ...c], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('not staged for diginetica/web segment default: 2016-05-30: cooc; 2016-05-31: cooc');
    expect(existsSync(join(dir, 'out/registry'))).toBe(false);
    await ok(['publish', '--artifacts', 'popularity', ...c], dir);
    expect(Object.keys(readManifest(join(dir, 'out/registry'), 'diginetica', 'web')!.current)).toEqual(['popularity']);
  });

  test('publish refuses (exit 3) artifacts of one day staged from different canonical data', async () => {
    const { dir, config } = setup();
    const c = ['--config', config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31'];
    await ok(['ingest', ...c], dir);
    await ok(['compute', 'popularity', ...c], dir);
    appendFileSync(join(dir, 'raw/diginetica/web/exposure.2016-05-31.jsonl'), '{"v":1,"ts":"2016-05-31T23:00:00Z","tenant":"diginetica","surface":"web","session_id":"late","item_id":"x"}\n');
    await ok(['ingest', ...c], dir);
    await ok(['compute', 'cooc', ...c], dir);
    const r = await cli(['publish', ...c], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('the staged artifacts were computed from different canonical data');
    expect(existsSync(join(dir, 'out/registry'))).toBe(false);
    await ok(['compute', 'popularity', ...c], dir);
    await ok(['publish', ...c], dir);
  });

  test('compute without canonical data names the missing days (exit 1), before computing anything', async () => {
    const { dir, config } = setup();
    await ok(['ingest', '--config', config, ...SCOPE, '--start', '2016-05-30', '--end', '2016-05-30'], dir);
    const r = await cli(['compute', 'popularity', '--config', config, ...SCOPE, '--start', '2016-05-29', '--end', '2016-05-31'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no canonical data for diginetica/web on 2016-05-29, 2016-05-31');
    expect(r.stderr).toContain('recsys-pipelines ingest');
    expect(existsSync(join(dir, 'out/artifacts/diginetica/web/default'))).toBe(false);
  });

  test('validate before ingest names the days (exit 1)', async () => {
    const { dir, config } = setup();
    const r = await cli(['validate', '--config', config, ...WINDOW], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nothing ingested for diginetica/web on 2016-05-30, 2016-05-31');
  });
});

describe('validate', () => {
  test('the bad-line ratio gate blocks (exit 3) from the ingest report, naming the numbers', async () => {
    const { dir } = setup();
    const strict = writeConfig(dir, {}, 'strict.json');
    const c = ['--config', strict, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31'];
    await ok(['ingest', ...c], dir);
    const r = await cli(['validate', ...c], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/validation gate "max_bad_event_ratio" failed: day 2016-05-31: 1 of 253 lines rejected/);
  });

  test('a canonical partition edited after ingest fails the gate (exit 3); an invalid event is named with its line', async () => {
    const { dir, config } = setup();
    const c = ['--config', config, ...SCOPE, '--start', '2016-05-30', '--end', '2016-05-30'];
    await ok(['ingest', ...c], dir);
    const partition = join(dir, 'out/canonical/diginetica/web/exposures/2016-05-30.jsonl');
    const lines = readFileSync(partition, 'utf8').split('\n');
    writeFileSync(partition, [...lines.slice(0, 2), lines[0]!.replace('"ts":"2016-05-30', '"ts":"2016-05-29'), ...lines.slice(2)].join('\n'));
    const outside = await cli(['validate', ...c], { cwd: dir });
    expect(outside.code).toBe(3);
    expect(outside.stderr).toMatch(/canonical_window.*line 3: ts 2016-05-29T.* is outside the window of 2016-05-30/);
    writeFileSync(partition, [...lines.slice(0, 2), lines[0]!.replace('"v":1', '"v":2'), ...lines.slice(2)].join('\n'));
    const invalid = await cli(['validate', ...c], { cwd: dir });
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toMatch(/canonical_contract.*line 3/);
    writeFileSync(partition, lines.slice(1).join('\n'));
    const edited = await cli(['validate', ...c], { cwd: dir });
    expect(edited.code).toBe(3);
    expect(edited.stderr).toContain('is not what ingest wrote');
    // compute checks the partition against the report too.
    const compute = await cli(['compute', 'popularity', ...c], { cwd: dir });
    expect(compute.code).toBe(1);
    expect(compute.stderr).toContain('changed since it was ingested');
  });
});

describe('segments', () => {
  test('--segment G stages and publishes under <type>@G and never touches the default keys', async () => {
    const { dir, config } = setup();
    await ok(['run', '--config', config, ...WINDOW], dir);
    const registry = join(dir, 'out/registry');
    const before = readManifest(registry, 'diginetica', 'web')!.current;
    const defaultBlobs = snapshot(join(dir, 'out/objectstore'));

    await jobSteps(dir, config, ['--segment', 'beta']);
    // Sharded too: the merge stages under the segment as well.
    const c = ['--config', config, ...SCOPE, '--start', '2016-05-31', '--end', '2016-05-31', '--segment', 'gamma'];
    for (const i of [0, 1]) await ok(['ingest', ...c, '--shard', `${i}/2`], dir);
    for (const i of [0, 1]) await ok(['compute', 'popularity', 'cooc', ...c, '--shard', `${i}/2`], dir);
    await ok(['merge', 'popularity', 'cooc', ...c], dir);
    await ok(['publish', ...c], dir);

    const after = readManifest(registry, 'diginetica', 'web')!.current;
    expect(Object.keys(after).sort()).toEqual(['cooc', 'cooc@beta', 'cooc@gamma', 'popularity', 'popularity@beta', 'popularity@gamma']);
    expect({ popularity: after.popularity, cooc: after.cooc }).toEqual(before);
    // The default blobs are untouched; the segment's are separate versions (the segment is hashed).
    const blobs = snapshot(join(dir, 'out/objectstore'));
    for (const [k, v] of Object.entries(defaultBlobs)) expect(blobs[k], k).toBe(v);
    for (const key of ['popularity@beta', 'cooc@beta', 'popularity@gamma', 'cooc@gamma']) {
      const artifact = parseArtifact(JSON.parse(readFileSync(new URL(after[key]!), 'utf8')));
      expect(artifact.segment).toBe(key.split('@')[1]);
      expect(after[key]).not.toBe(after[key.split('@')[0]!]);
    }
    for (const segment of ['beta', 'gamma']) expect(readdirSync(join(dir, 'out/artifacts/diginetica/web', segment)).sort()).toEqual(['cooc', 'popularity']);
    // Every history entry of the segment publishes left the default keys as they were.
    const { history } = await checkRegistry(registry, 'diginetica', 'web');
    for (const entry of history.slice(2)) {
      expect(entry.next.popularity).toBe(entry.previous.popularity);
      expect(entry.next.cooc).toBe(entry.previous.cooc);
    }
  });
});

describe('--incremental in job mode', () => {
  test('every step resolves the same days from the checkpoint, which only publish advances', async () => {
    const { dir, config } = setup();
    const first = ['--config', config, ...SCOPE, '--start', '2016-05-30', '--end', '2016-05-30', '--incremental'];
    for (const step of [['ingest'], ['validate'], ['compute', 'popularity', 'cooc'], ['publish']]) await ok([...step, ...first], dir);
    const checkpoint = () => parseCheckpoint(JSON.parse(readFileSync(join(dir, 'out/checkpoints/diginetica/web.json'), 'utf8'))).last_completed_day;
    expect(checkpoint()).toBe('2016-05-30');
    const next = ['--config', config, ...SCOPE, '--end', '2016-05-31', '--incremental'];
    const ingest = await ok(['ingest', '--json', ...next], dir);
    expect((JSON.parse(ingest.stdout) as { days: { day: string }[] }).days.map((d) => d.day)).toEqual(['2016-05-31']);
    await ok(['compute', 'popularity', 'cooc', ...next], dir);
    expect(checkpoint()).toBe('2016-05-30');
    await ok(['publish', ...next], dir);
    expect(checkpoint()).toBe('2016-05-31');
    const done = await ok(['compute', 'popularity', ...next], dir);
    expect(done.stdout).toContain('nothing to do');
  });
});
