// docs/explanation/artifacts-and-versioning.md shows how a consumer verifies
// versions with @recsys/contracts. This runs that exact code block (types
// stripped by the TypeScript compiler) against a registry that the built CLI
// published, and checks that it refuses a tampered blob.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { GO_VERSIONS, cli, copyTiny, tempDir, writeConfig } from './helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/explanation/artifacts-and-versioning.md', import.meta.url));
const CONTRACTS = fileURLToPath(new URL('../../../packages/contracts', import.meta.url));

/** The ```ts block under the "Verifying a version as a consumer" heading. */
function consumerBlock(): string {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('### Verifying a version as a consumer'));
  const m = /```ts\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error(`${DOC}: no \`\`\`ts block under "Verifying a version as a consumer"`);
  return m[1]!;
}

describe('artifacts-and-versioning: the consumer verification snippet', () => {
  test('loads what run published; refuses a tampered blob', async () => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    const run = await cli(['run', '--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);

    // A consumer project: the snippet as a module, @recsys/contracts from this workspace.
    const consumer = join(dir, 'consumer');
    mkdirSync(join(consumer, 'node_modules/@recsys'), { recursive: true });
    symlinkSync(CONTRACTS, join(consumer, 'node_modules/@recsys/contracts'), 'dir');
    const js = ts.transpileModule(consumerBlock(), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false } }).outputText;
    writeFileSync(join(consumer, 'load.mjs'), js);
    writeFileSync(
      join(consumer, 'main.mjs'),
      [
        "import { readFileSync } from 'node:fs';",
        "import { fileURLToPath } from 'node:url';",
        "import { loadVerified } from './load.mjs';",
        'const fetchJson = async (uri) => JSON.parse(readFileSync(fileURLToPath(uri), "utf8"));',
        'try {',
        '  const live = await loadVerified(JSON.parse(readFileSync(process.argv[2], "utf8")), fetchJson);',
        '  console.log(JSON.stringify(Object.fromEntries(Object.entries(live).map(([k, a]) => [k, a.build.version]))));',
        '} catch (error) {',
        '  console.error(error.message);',
        '  process.exit(1);',
        '}',
      ].join('\n'),
    );
    const manifest = join(dir, 'out/registry/current/demo/home/manifest.json');
    const load = () => spawnSync(process.execPath, [join(consumer, 'main.mjs'), manifest], { encoding: 'utf8' });

    const ok = load();
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual(GO_VERSIONS);

    const blob = join(dir, `out/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`);
    const original = readFileSync(blob, 'utf8');
    const tampered = original.replace(/"count": ?1/, (m) => m.replace('1', '7'));
    expect(tampered).not.toBe(original);
    writeFileSync(blob, tampered);
    const bad = load();
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`cooc/${GO_VERSIONS.cooc}\\.json: content hashes to [0-9a-f]{64}, declares ${GO_VERSIONS.cooc}`));
  });
});
