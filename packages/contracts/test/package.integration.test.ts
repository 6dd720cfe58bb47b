// Downstream proof: pack the package as it would be published, install the
// tarball with plain npm into a project outside the workspace, and consume it
// the way recsys-service / recsys-algo would (runs the README example).
// Needs the npm registry for zod only (--prefer-offline uses the npm cache).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_DIR } from './fixtures.js';

const WORKSPACE_ROOT = join(PACKAGE_DIR, '..', '..');
const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
const rootPkg = JSON.parse(readFileSync(join(WORKSPACE_ROOT, 'package.json'), 'utf8')) as { packageManager: string };

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Newest modification time under `dir` (files only). */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/** The README's downstream example, so the documentation is what we test. */
function readmeExample(): string {
  const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
  const match = /<!-- downstream-example[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!match) throw new Error('README.md lost its <!-- downstream-example --> js block');
  return match[1]!;
}

const CONSUMER = `
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  ContractValidationError, computeArtifactVersion, parseArtifact, parseManifest, safeParseManifest, serializeArtifact,
} from '@recsys/contracts';
import manifestSchema from '@recsys/contracts/schemas/manifest.v1.schema.json' with { type: 'json' };
import ownPkg from '@recsys/contracts/package.json' with { type: 'json' };

const manifest = parseManifest(JSON.parse(await readFile(new URL(process.env.MANIFEST_URI), 'utf8')));
const artifact = parseArtifact(JSON.parse(await readFile(new URL(manifest.current.popularity), 'utf8')));
assert.equal(await computeArtifactVersion(artifact), '0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9');
assert.equal(serializeArtifact(artifact), await readFile(new URL(manifest.current.popularity), 'utf8'));

const bad = safeParseManifest({ ...manifest, extra: true });
assert.equal(bad.success, false);
assert.ok(ContractValidationError.isInstance(bad.error));
assert.match(bad.error.message, /\\$\\.extra: unknown field "extra"/);
assert.throws(() => parseManifest({}), (e) => e.code === 'CONTRACT_VALIDATION');

assert.equal(manifestSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
assert.equal(manifestSchema.additionalProperties, false);
console.log(JSON.stringify({ consumer: 'ok', name: ownPkg.name, schema: manifestSchema.$id }));
`;

describe('the packed tarball, installed with npm outside the workspace', () => {
  let tmp: string;
  let project: string;
  let tarball: string;

  beforeAll(() => {
    // Build when dist/ is missing or older than the sources (turbo builds first; a bare `vitest run` may not).
    const dist = join(PACKAGE_DIR, 'dist', 'index.js');
    const inputs = Math.max(newest(join(PACKAGE_DIR, 'src')), newest(join(PACKAGE_DIR, 'tsup.config.ts')));
    if (!existsSync(dist) || statSync(dist).mtimeMs < inputs) run(join(PACKAGE_DIR, 'node_modules', '.bin', 'tsup'), [], PACKAGE_DIR);

    tmp = mkdtempSync(join(tmpdir(), 'recsys-contracts-pack-'));
    const packDir = join(tmp, 'pack');
    run('npx', ['-y', rootPkg.packageManager, 'pack', '--pack-destination', packDir], PACKAGE_DIR);
    const tgz = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(tgz).toHaveLength(1);
    tarball = join(packDir, tgz[0]!);

    project = join(tmp, 'downstream-service');
    run('mkdir', ['-p', project], tmp);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'downstream-service', private: true, type: 'module' }, null, 2));
    run('npm', ['install', tarball, `zod@${pkg.devDependencies.zod}`, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);

    // A published popularity blob and a manifest pointing at it.
    const blob = join(project, 'popularity.json');
    copyFileSync(join(PACKAGE_DIR, 'fixtures', 'popularity', 'v1', 'valid', 'go-default-segment.json'), blob);
    const manifest = { v: 1, tenant: 'demo', surface: 'home', current: { popularity: pathToFileURL(blob).href }, updated_at: '2026-01-02T01:00:00Z' };
    writeFileSync(join(project, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }, 300_000);

  afterAll(() => {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  it('ships dist, schemas, README and LICENSE, and nothing else', () => {
    const files = run('tar', ['-tzf', tarball], tmp).trim().split('\n').sort();
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files).toContain('package/schemas/manifest.v1.schema.json');
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    expect(files.filter((f) => !/^package\/(dist\/|schemas\/[a-z-]+\.v\d+\.schema\.json$|README\.md$|LICENSE$|CHANGELOG\.md$|package\.json$)/.test(f))).toEqual([]);
  });

  it('has a publishable package.json (no workspace: ranges, zod as peer only)', () => {
    const installed = readFileSync(join(project, 'node_modules', '@recsys', 'contracts', 'package.json'), 'utf8');
    expect(installed).not.toContain('workspace:');
    const manifest = JSON.parse(installed) as { name: string; version: string; dependencies?: unknown; peerDependencies: Record<string, string> };
    expect(manifest).toMatchObject({ name: pkg.name, version: pkg.version, peerDependencies: { zod: expect.stringMatching(/^\^4/) } });
    expect(manifest.dependencies).toBeUndefined();
  });

  it('runs the README example: loads the manifest, follows the pointer, verifies the version', () => {
    writeFileSync(join(project, 'readme-example.mjs'), readmeExample());
    const out = run(process.execPath, ['readme-example.mjs'], project, { MANIFEST_URI: pathToFileURL(join(project, 'manifest.json')).href });
    expect(out.trim()).toBe('popularity 0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9: 4 items, top A');
  });

  it('supports parse helpers, error handling and the JSON Schema subpath export', () => {
    writeFileSync(join(project, 'consumer.mjs'), CONSUMER);
    const out = run(process.execPath, ['consumer.mjs'], project, { MANIFEST_URI: pathToFileURL(join(project, 'manifest.json')).href });
    expect(JSON.parse(out)).toEqual({ consumer: 'ok', name: '@recsys/contracts', schema: 'https://recsys.dev/schemas/manifest.v1.schema.json' });
  });
});
