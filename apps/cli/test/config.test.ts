// Config files: the Go implementation's keys load unchanged, unknown sections
// are warned about and ignored, relative paths resolve against the config
// file's folder, and typos inside sections we use are errors naming the key.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GO_VERSIONS, cli, copyTiny, files, logLines, readManifest, runJson, tempDir, writeJson } from './helpers.js';

const DAY = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

describe('config files', () => {
  // `db` used to be the unknown section here; it is now the signals database (DESIGN §8.2).
  test('a Go-style config with every directory key: no warning on stderr, run succeeds, each area lands where configured (unknown keys are errors: see the "did you mean" test)', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeJson(dir, 'recsys.json', {
      out_dir: './out',
      raw_events_dir: './raw',
      canonical_dir: './data/canonical',
      checkpoint_dir: './data/checkpoints',
      artifacts_dir: './data/staging',
      object_store_dir: './data/blobs',
      registry_dir: './data/registry',
      artifact_kinds: ['popularity', 'cooc'],
      limits: { max_days_backfill: 30, max_items_per_session: 500, max_neighbors_per_item: 50, min_cooc_support: 1, max_events_per_run: 0, max_bad_event_ratio: 0.01 },
    });
    const r = await runJson(['--config', config, ...DAY, '--incremental'], { cwd: dir, env: { RECSYS_LOG_LEVEL: 'warn' } });
    expect(r.code, r.stderr).toBe(0);
    const warnings = logLines(r.stderr).filter((l) => l.level === 40);
    expect(warnings).toHaveLength(0);

    const top = [...new Set(files(join(dir, 'data')).map((f) => f.split('/')[0]))];
    expect(top).toEqual(['blobs', 'canonical', 'checkpoints', 'registry', 'staging']);
    expect(files(join(dir, 'data/blobs'))).toEqual([`demo/home/cooc/${GO_VERSIONS.cooc}.json`, `demo/home/popularity/${GO_VERSIONS.popularity}.json`]);
    expect(files(join(dir, 'data/canonical'))).toEqual(['demo/home/exposures/2026-01-01.jsonl']);
    expect(files(join(dir, 'data/checkpoints'))).toEqual(['demo/home.json']);
    expect(files(join(dir, 'data/registry'))).toEqual([
      'current/demo/home/manifest.json',
      'history/demo/home/000000000001.json',
      `records/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
      `records/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
    ]);
    expect(files(join(dir, 'data/staging'))).toContain(`demo/home/default/popularity/2026-01-01_2026-01-02/${GO_VERSIONS.popularity}.json`);
    // Areas without their own key fall back to out_dir.
    expect(files(join(dir, 'out'))).toEqual([]);
  });

  test('relative paths resolve against the config file’s folder, not the working directory', async () => {
    const dir = tempDir();
    const confDir = join(dir, 'etc/recsys');
    mkdirSync(confDir, { recursive: true });
    copyTiny(confDir);
    const config = writeJson(confDir, 'config.json', { out_dir: './out', raw_events_dir: './raw' });
    const elsewhere = join(dir, 'somewhere/else');
    mkdirSync(elsewhere, { recursive: true });
    const r = await runJson(['--config', '../../etc/recsys/config.json', ...DAY], { cwd: elsewhere });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.manifest_uri).toBe(`file://${confDir}/out/registry/current/demo/home/manifest.json`);
    expect(existsSync(join(confDir, 'out/registry/current/demo/home/manifest.json'))).toBe(true);
    expect(files(elsewhere)).toEqual([]);
    expect(config).toBe(join(confDir, 'config.json'));
  });

  test('absolute paths are used as they are', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeJson(join(dir, 'conf'), 'c.json', { out_dir: join(dir, 'abs-out'), raw_events_dir: join(dir, 'raw') });
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'abs-out/registry/current/demo/home/manifest.json'))).toBe(true);
  });

  test('object_store and raw_source sections of type fs are accepted', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeJson(dir, 'c.json', { out_dir: './out', raw_source: { type: 'fs', dir: './raw' }, object_store: { type: 'fs', dir: './objects' } });
    const r = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(files(join(dir, 'objects'))).toEqual([`demo/home/cooc/${GO_VERSIONS.cooc}.json`, `demo/home/popularity/${GO_VERSIONS.popularity}.json`]);
  });

  test('artifact_kinds selects what is computed; --artifacts overrides it', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeJson(dir, 'c.json', { out_dir: './out', raw_events_dir: './raw', artifact_kinds: ['popularity'] });
    const a = await runJson(['--config', config, ...DAY], { cwd: dir });
    expect(a.code, a.stderr).toBe(0);
    expect(a.json.days[0]!.artifacts.map((x) => x.type)).toEqual(['popularity']);
    const b = await runJson(['--config', config, ...DAY, '--artifacts', 'cooc'], { cwd: dir });
    expect(b.json.days[0]!.artifacts.map((x) => x.type)).toEqual(['cooc']);
    // The second publish merges its pointer into the manifest; the first one's stays.
    expect(Object.keys(readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current)).toEqual(['cooc', 'popularity']);
  });

  test('a typo inside limits exits 2 naming limits.<key>', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeJson(dir, 'c.json', { out_dir: './out', raw_events_dir: './raw', limits: { max_neigbors_per_item: 10 } });
    const r = await cli(['run', '--config', config, ...DAY], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('limits.max_neigbors_per_item');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  test('a misspelt top-level key is an error with "did you mean" (outdir, raw_event_dir); nothing is written', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const cases: [Record<string, unknown>, string][] = [
      [{ outdir: './out', raw_events_dir: './raw' }, 'recsys-pipelines: config outdir: unknown key; did you mean `out_dir`?'],
      [{ out_dir: './out', raw_event_dir: './raw' }, 'recsys-pipelines: config raw_event_dir: unknown key; did you mean `raw_events_dir`?'],
      [{ out_dir: './out', raw_events_dir: './raw', limit: {} }, 'config limit: unknown key; did you mean `limits`?'],
      [{ out_dir: './out', raw_events_dir: './raw', colour: 'blue' }, 'config colour: unknown key (known keys: out_dir, raw_events_dir'],
      [{ out_dir: './out', raw_events_dir: './raw', limits: { max_neigbors_per_item: 10 } }, 'config limits.max_neigbors_per_item: unknown key; did you mean `max_neighbors_per_item`?'],
      [{ out_dir: './out', raw_source: { type: 'fs', dri: './raw' } }, 'config raw_source.dri: unknown key; did you mean `dir`?'],
    ];
    for (const [body, message] of cases) {
      const config = writeJson(dir, 'c.json', body);
      const r = await cli(['run', '--config', config, ...DAY], { cwd: dir });
      expect(r.code, JSON.stringify(body)).toBe(2);
      expect(r.stderr, JSON.stringify(body)).toContain(message);
      expect(existsSync(join(dir, 'out')), JSON.stringify(body)).toBe(false);
      expect(existsSync(join(dir, '.out')), JSON.stringify(body)).toBe(false);
    }
  });

  test('without --config the embedded default writes under ./.out and reads the bundled sample data', async () => {
    const dir = tempDir();
    const r = await runJson(['--tenant', 'diginetica', '--surface', 'web', '--start', '2016-05-31', '--end', '2016-05-31'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.days[0]!.counts.accepted).toBe(251);
    expect(r.json.manifest_uri).toBe(`file://${dir}/.out/registry/current/diginetica/web/manifest.json`);
  });
});
