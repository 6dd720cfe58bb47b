// Runs every command of docs/tutorials/local-quickstart.md, so the tutorial
// cannot drift from the CLI (parser and runner: doc-blocks.ts).
//
// Convention (also stated at the top of the tutorial):
// - Every ```bash fenced block is executed (but those marked
//   `<!-- example: … -->`); other blocks (```text, ```json) are
//   illustrations and are not run. There are no commands outside
//   ```bash blocks.
// - The one block tagged ```bash setup defines how `recsys-pipelines` is
//   invoked (an alias to the built apps/cli/dist/bin.js). It is run in the
//   repository root, as the tutorial says, before each other block, with
//   alias expansion on — so the tutorial's own setup line points the name at
//   the built binary. `npx -y pnpm@12.4.2 exec recsys-pipelines` in a block
//   is rewritten to `recsys-pipelines` first.
// - All other blocks run in order, each in a fresh `bash` process with
//   `set -e -o pipefail`, in one shared empty temporary folder (the
//   tutorial's working folder).
// - A block tagged ```bash exit=N must exit with N; all others with 0.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, readManifest, tempDir } from './helpers.js';
import { REPO, bashBlocks, blockFailure, expectedExit, runBlock } from './doc-blocks.js';

const DOC = join(REPO, 'docs/tutorials/local-quickstart.md');
const blocks = bashBlocks(DOC);
const setup = blocks.filter((b) => b.tags.includes('setup'));
const steps = blocks.filter((b) => !b.tags.includes('setup'));

describe('docs/tutorials/local-quickstart.md', () => {
  test('has one setup block and a real walk-through', () => {
    expect(setup).toHaveLength(1);
    expect(steps.length).toBeGreaterThanOrEqual(10);
  });

  test('the setup block points recsys-pipelines at the built binary', () => {
    const r = runBlock(setup[0]!, { line: 0, lang: 'bash', tags: [], code: 'type recsys-pipelines' }, tempDir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node ${BIN}`);
  });

  test('every bash block runs with the documented exit code, in order, in one folder', () => {
    const work = tempDir('recsys-quickstart-');
    for (const block of steps) {
      const r = runBlock(setup[0]!, block, work);
      expect(r.status, blockFailure(DOC, block, r)).toBe(expectedExit(block));
    }
    // The walk-through ends where the tutorial says it does.
    expect(Object.keys(readManifest(join(work, '.out/registry'), 'demo', 'home')!.current).sort()).toEqual(['cooc', 'popularity']);
    expect(readManifest(join(work, '.out/registry'), 'diginetica', 'web')).toBeDefined();
    const checkpoint = JSON.parse(readFileSync(join(work, 'shop-out/checkpoints/shop/home.json'), 'utf8')) as { last_completed_day: string };
    expect(checkpoint.last_completed_day).toBe('2026-03-02');
    expect(readFileSync(join(work, 'shop-report.html'), 'utf8')).toContain('shop / home');
  });
});
