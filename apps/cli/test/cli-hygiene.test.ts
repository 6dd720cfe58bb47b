// Small CLI robustness fixes (issue 11 item 16): a broken config file is
// located without echoing its text (it may hold secrets), and a closed
// stdout (`| head`) neither prints an EPIPE stack trace nor stops the work.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { locateJsonSyntaxError } from '../src/config/json-error.js';
import { BIN, cli, copyTiny, event, logLines, readManifest, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

describe('a config file that is not valid JSON', () => {
  test.each([
    ['an unquoted value', '{\n  "out_dir": "./out",\n  "storage": {"type": "s3", "s3": {"secret_access_key": SUPERSECRET-9f8e7d}}\n}\n', 3, 57],
    ['a trailing comma', '{\n  "out_dir": "./out",\n  "token": "SUPERSECRET-9f8e7d",\n}\n', 4, 1],
    ['a single-quoted string', "{\"raw_events_dir\": 'SUPERSECRET-9f8e7d'}", 1, 20],
  ])('%s: exit 2 naming file, line and column, never the text', async (_name, text, line, column) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'config.json'), text);
    const r = await cli(['run', '--config', 'config.json', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir, env: { RECSYS_LOG_LEVEL: 'debug' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'config.json')}:${line}:${column}: not valid JSON`);
    expect(r.stdout + r.stderr).not.toContain('SUPERSECRET');
  });

  test('a byte order mark before the JSON is accepted', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeFileSync(join(dir, 'config.json'), '\uFEFF' + JSON.stringify({ out_dir: './out', raw_events_dir: './raw' }));
    const r = await cli(['run', '--config', 'config.json', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  });

  test('property: the locator finds an error exactly when JSON.parse refuses the text', () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      fc.tuple(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', ':', '"', "'", 'x', '\\', ' ', '\n', '0', '-', '.', 'e', '\u0001')).map(([j, at, c]) => {
        const k = at % (j.length + 1);
        return j.slice(0, k) + c + j.slice(k);
      }),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const found = locateJsonSyntaxError(text);
        expect(found === undefined, `${JSON.stringify(text)} → ${JSON.stringify(found)}`).toBe(valid);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a closed stdout', () => {
  test('run | (reader gone): no EPIPE stack trace, the run completes and exits 0', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], {
      cwd: dir,
      env: { ...process.env, RECSYS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Close our end at once, like `| head -0`: every write of the child fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code, stderr).toBe(0);
    expect(readManifest(join(dir, 'out/registry'), 'demo', 'home')).toBeDefined();
  });
});

const WINDOW = (config: string, day = '2026-01-01') => ['--config', config, '--tenant', 'demo', '--surface', 'home', '--start', day, '--end', day];

describe('raw files', () => {
  test('a UTF-8 byte order mark at the start of a file does not cost its first event', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const file = writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', [event('s1', 'A'), event('s1', 'B')]);
    writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(file)]));
    const r = await runJson(WINDOW(config), { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.days[0]!.counts).toMatchObject({ read: 2, accepted: 2, rejected: 0 });
  });

  test('a symbolic link in the raw folder that points outside it is refused (exit 2), nothing is read or written', async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const outside = join(tempDir(), 'elsewhere.jsonl');
    writeFileSync(outside, JSON.stringify(event('s1', 'A')) + '\nSECRET-LINE-OUTSIDE\n');
    const file = writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-01', []);
    rmSync(file);
    symlinkSync(outside, file);
    const r = await cli(['run', ...WINDOW(config)], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('is a symbolic link to');
    expect(r.stderr).toContain('outside');
    expect(existsSync(join(dir, 'out/quarantine'))).toBe(false);
    expect(existsSync(join(dir, 'out/canonical'))).toBe(false);
  });
});

describe('registry repairs', () => {
  test('a manifest URI of an unknown scheme: run and rollback recover the pointer from history, with a warning', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z' }), event('s1', 'C', { ts: '2026-01-02T10:00:01Z' })]);
    const config = writeConfig(dir);
    expect((await cli(['run', ...WINDOW(config)], { cwd: dir })).code).toBe(0);
    const manifestPath = join(dir, 'out/registry/current/demo/home/manifest.json');
    const good = readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current;
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replaceAll('file://', 'gopher://'));
    const r = await cli(['run', ...WINDOW(config, '2026-01-02')], { cwd: dir, env: { RECSYS_LOG_LEVEL: 'warn' } });
    expect(r.code, r.stderr).toBe(0);
    expect(logLines(r.stderr).some((l) => String(l.msg).includes('rebuilding it from the newest history entry'))).toBe(true);
    expect(readFileSync(manifestPath, 'utf8')).not.toContain('gopher://');
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replaceAll('file://', 'gopher://'));
    const rb = await cli(['rollback', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'popularity', '--steps', '1'], { cwd: dir });
    expect(rb.code, rb.stderr).toBe(0);
    expect(readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current.popularity).toBe(good.popularity);
  });

  test('rolling back to a version whose record is gone is refused (exit 2, naming it); nothing moves', async () => {
    const dir = tempDir();
    copyTiny(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', [event('s1', 'A', { ts: '2026-01-02T10:00:00Z' }), event('s1', 'C', { ts: '2026-01-02T10:00:01Z' })]);
    const config = writeConfig(dir);
    expect((await cli(['run', ...WINDOW(config)], { cwd: dir })).code).toBe(0);
    const first = readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current.popularity!;
    expect((await cli(['run', ...WINDOW(config, '2026-01-02')], { cwd: dir })).code).toBe(0);
    const served = readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current;
    const version = first.slice(first.lastIndexOf('/') + 1, -5);
    rmSync(join(dir, `out/registry/records/demo/home/popularity/${version}.json`));
    const rb = await cli(['rollback', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'popularity', '--steps', '1'], { cwd: dir });
    expect(rb.code).toBe(2);
    expect(rb.stderr).toContain(`to ${version} (missing record)`);
    expect(readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current).toEqual(served);
  });
});
