// The CLI is built as one bundle (tsup.config.ts): every process of a fan-out pays its start-up,
// and our packages, zod, commander and pino as separate modules cost about as much CPU as node
// itself. A bundle must keep one zod per thread (schemas and errors cross packages, checked with
// `instanceof`), keep zod out of the worker threads, and import what it leaves outside from a place
// where Node finds it: these tests read the built files as Node would load them.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { loadCli } from '../src/load-cli.js';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const STATIC_IMPORT = /^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;

const text = (file: string): string => readFileSync(join(DIST, file), 'utf8');

function importsOf(file: string, dynamic: boolean): string[] {
  const source = text(file);
  const specs = [...source.matchAll(STATIC_IMPORT)].map((m) => (m[1] ?? m[2])!);
  if (dynamic) specs.push(...[...source.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]!));
  // The CLI itself is CommonJS (cli.cjs, loaded by bin.js): what it takes from outside, it `require`s.
  if (file.endsWith('.cjs')) specs.push(...[...source.matchAll(REQUIRE)].map((m) => m[1]!));
  return specs;
}

/** The dist files a module loads (itself included), following relative imports; `dynamic` also follows `import()`. */
function graph(entry: string, dynamic: boolean): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const spec of importsOf(file, dynamic)) if (spec.startsWith('./')) visit(spec.slice(2));
  };
  visit(entry);
  return [...seen];
}

/** What the binary and the pools' workers can load (a `dist/` may also hold files of earlier builds: a cached build does not clear it). */
const files = [...new Set(['bin.js', 'cli.cjs', 'parse-worker.js', 'compute-worker.js'].flatMap((entry) => graph(entry, true)))];

/** The original sources a dist file was built from (its source map, which tsup composes through the packages' maps). */
function sourcesOf(file: string): string[] {
  const map = JSON.parse(readFileSync(join(DIST, `${file}.map`), 'utf8')) as { sources: string[] };
  return map.sources.map((s) => resolve(DIST, s));
}

const zodSources = (file: string): string[] => sourcesOf(file).filter((s) => /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?zod[\\/]/.test(s));

describe('the CLI bundle', () => {
  test('imports neither zod, commander, pino nor our packages from node_modules', () => {
    const bare = files.flatMap((f) => importsOf(f, true).filter((s) => !s.startsWith('.') && !isBuiltin(s)).map((s) => `${f}: ${s}`));
    expect(bare.filter((s) => /: (zod|commander|pino|@recsys\/)/.test(s))).toEqual([]);
  });

  test('holds one copy of zod, with its English locale only', () => {
    const zod = files.flatMap(zodSources);
    expect(zod.length).toBeGreaterThan(10);
    // One package folder: `node_modules/.pnpm/zod@<version>/node_modules/zod/`.
    expect(new Set(zod.map((s) => s.replace(/([\\/]zod[\\/]).*$/, '$1')))).toHaveProperty('size', 1);
    // tsup.config.ts replaces zod's `locales/index.js` (all ~50 locales) with one that re-exports English.
    expect(zod.filter((s) => /[\\/]locales[\\/]/.test(s)).map((s) => s.replace(/.*[\\/]locales[\\/]/, '')).sort()).toEqual(['en.js', 'index.js']);
  });

  test.each(['parse-worker.js', 'compute-worker.js'])('%s (loaded by the pools next to their code) loads no zod and no schemas', (worker) => {
    const loaded = graph(worker, true);
    expect(loaded.flatMap(zodSources)).toEqual([]);
    expect(loaded.flatMap(sourcesOf).filter((s) => /[\\/]packages[\\/]contracts[\\/]src[\\/](schemas[\\/]|index\.ts$)/.test(s))).toEqual([]);
  });

  test('everything left outside resolves from the CLI to the very copy the storage packages use', () => {
    const external = new Set(files.flatMap((f) => importsOf(f, true)).filter((s) => !s.startsWith('.') && !isBuiltin(s)));
    expect([...external].sort()).toEqual(['@aws-sdk/client-s3', '@aws-sdk/lib-storage', 'pg', 'pg-copy-streams', 'pg-cursor']);
    const fromCli = createRequire(join(DIST, 'bin.js'));
    for (const spec of external) {
      const owner = ['storage-pg', 'storage-s3'].find((p) => spec in (JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8')) as { dependencies: object }).dependencies)!;
      const fromOwner = createRequire(join(ROOT, 'packages', owner, 'dist', 'index.js'));
      expect(dirname(fromCli.resolve(spec)), spec).toBe(dirname(fromOwner.resolve(spec)));
    }
  });
});

/** A copy of dist/ (and the package.json one folder up, where the bundle reads its version) in a temporary folder. */
function distCopy(): { copy: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-code-cache-test-'));
  const copy = join(dir, 'dist');
  cpSync(DIST, copy, { recursive: true });
  cpSync(join(DIST, '..', 'package.json'), join(dir, 'package.json'));
  return { copy, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const versionOf = (bin: string, env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, [bin, 'version', '--json'], { encoding: 'utf8', env });

describe('the code cache (bin.js compiles cli.cjs with it)', () => {
  test('a cache that bin.js wrote is taken by the next start on the same Node (the build writes one: scripts/code-cache.mjs)', () => {
    const { copy, remove } = distCopy();
    try {
      rmSync(join(copy, 'cli.cjs.cache'));
      expect(loadCli(copy).cached).toBe(false);
      expect(versionOf(join(copy, 'bin.js'), { ...process.env, RECSYS_CODE_CACHE_OUT: join(copy, 'cli.cjs.cache') }).status).toBe(0);
      const cli = loadCli(copy);
      expect(cli.cached).toBe(true);
      expect(typeof cli.main).toBe('function');
    } finally {
      remove();
    }
  });

  test('the bundle runs in strict mode, as ES modules did, and leaves no import() to a wrapper without a module loader', () => {
    // esbuild's "use strict" must stay the wrapper's first statement: a banner in front of it would make it a plain string.
    expect(text('cli.cjs').startsWith('"use strict";')).toBe(true);
    expect([...text('cli.cjs').matchAll(DYNAMIC_IMPORT)]).toEqual([]);
  });

  test.each([
    ['a damaged cache', (dir: string) => writeFileSync(join(dir, 'cli.cjs.cache'), Buffer.alloc(4096, 7))],
    ['a cache of another source', (dir: string) => writeFileSync(join(dir, 'cli.cjs'), `${readFileSync(join(dir, 'cli.cjs'), 'utf8')}\n// edited\n`)],
    ['no cache', (dir: string) => rmSync(join(dir, 'cli.cjs.cache'))],
  ])('with %s the CLI compiles from source and behaves the same', (_, spoil) => {
    const { copy, remove } = distCopy();
    try {
      spoil(copy);
      expect(loadCli(copy).cached).toBe(false);
      const spoiled = versionOf(join(copy, 'bin.js'));
      expect(spoiled.status).toBe(0);
      expect(spoiled.stderr).toBe('');
      expect(JSON.parse(spoiled.stdout)).toEqual(JSON.parse(versionOf(join(DIST, 'bin.js')).stdout));
    } finally {
      remove();
    }
  });
});
