// tenant/surface/segment are path segments: anything that could escape or
// alias a folder is a usage error (exit 2) before any I/O — no file or folder
// appears anywhere (the temp folder, .out, the bundled sample data).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RecsysError, planRun, resolveLimits, silentLogger, systemClock, type PipelineEnv } from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import { BIN, SAMPLE_RAW, cli, runJson, snapshot, tempDir, writeConfig } from './helpers.js';

const UNSAFE: [string, string][] = [
  ['..', '..'],
  ['.', '.'],
  ['a/b', 'a/b'],
  ['../../etc', '../../etc'],
  ['%2e%2e', '%2e%2e'],
  ['empty', ''],
  ['300 characters', 'x'.repeat(300)],
  ['a backslash', 'a\\b'],
  ['a space', 'a b'],
  ['non-ASCII', 'é'],
];
const FIELDS = ['tenant', 'surface', 'segment'] as const;

function args(field: (typeof FIELDS)[number], value: string): string[] {
  const values = { tenant: 'demo', surface: 'home', segment: 'default', [field]: value };
  return ['--tenant', values.tenant, '--surface', values.surface, '--segment', values.segment, '--start', '2026-01-01', '--end', '2026-01-01'];
}

describe.concurrent.each(FIELDS)('unsafe --%s', (field) => {
  test.each(UNSAFE)('%s → exit 2, nothing created (embedded default config)', async (_name, value) => {
    const cwd = tempDir();
    const before = snapshot(cwd);
    const sampleBefore = snapshot(SAMPLE_RAW);
    const r = await runJson(args(field, value), { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.json.error).toMatchObject({ kind: 'usage', exit_code: 2 });
    expect(r.json.error!.message).toContain(field);
    expect(existsSync(join(cwd, '.out'))).toBe(false);
    expect(snapshot(cwd)).toEqual(before);
    expect(snapshot(SAMPLE_RAW)).toEqual(sampleBefore);
  });

  test('with a config file: exit 2 and nothing created anywhere under the temp folder', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const before = snapshot(dir);
    for (const [, value] of UNSAFE) {
      const r = await cli(['run', '--config', config, ...args(field, value)], { cwd: dir });
      expect(r.code, `${JSON.stringify(value)}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(field);
    }
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('NUL', () => {
  test('Node refuses a NUL byte in a child’s argv, so it cannot reach the CLI from a shell', async () => {
    const attempt = () => spawn(process.execPath, [BIN, 'run', '--tenant', 'a\0b', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01']);
    expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  test.each(FIELDS)('a NUL in %s is a usage error through the core API, before any file is created', async (field) => {
    const dir = tempDir();
    const before = snapshot(dir);
    const storage = new FsObjectStorage(join(dir, 'out'));
    const env: PipelineEnv = {
      areas: { raw: storage, canonical: storage, quarantine: storage, artifacts: storage, objects: storage, registry: storage, checkpoints: storage },
      limits: resolveLimits(),
      clock: systemClock,
      logger: silentLogger,
      identity: { runId: 'r', host: 'h', user: 'u', tool: { name: 'recsys-pipelines', version: 'test' } },
      sha256: nodeSha256,
    };
    const options = { tenant: 'demo', surface: 'home', segment: 'default', start: '2026-01-01', end: '2026-01-01', types: ['popularity', 'cooc'], [field]: 'a\0b' };
    for (const incremental of [false, true]) {
      const error = await planRun(env, { ...options, incremental }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(RecsysError.isInstance(error) && error.kind).toBe('usage');
      expect(RecsysError.isInstance(error) && error.exitCode).toBe(2);
    }
    // The storage itself refuses such keys too.
    await expect(storage.put('demo/a\0b.json', 'x')).rejects.toMatchObject({ kind: 'usage' });
    expect(snapshot(dir)).toEqual(before);
  });
});
