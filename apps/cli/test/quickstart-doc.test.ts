// Runs every command of docs/tutorials/local-quickstart.md, so the tutorial
// cannot drift from the CLI.
//
// Convention (also stated at the top of the tutorial):
// - Every ```bash fenced block is executed; other blocks (```text, ```json)
//   are illustrations and are not run. There are no commands outside
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
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { BIN, readManifest, tempDir } from './helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DOC = join(REPO, 'docs/tutorials/local-quickstart.md');

interface Block {
  readonly line: number;
  readonly tags: string[];
  readonly code: string;
}

/** The ```bash blocks of a markdown file, with their info-string tags and line numbers. */
function bashBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end === -1) throw new Error(`${DOC}:${i + 1}: unterminated code block`);
    if (open[1] === 'bash') blocks.push({ line: i + 1, tags: open[2]!.trim().split(/\s+/).filter(Boolean), code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const markdown = readFileSync(DOC, 'utf8');
const blocks = bashBlocks(markdown);
const setup = blocks.filter((b) => b.tags.includes('setup'));
const steps = blocks.filter((b) => !b.tags.includes('setup'));

function script(block: Block, work: string): string {
  const code = block.code.replaceAll('npx -y pnpm@12.4.2 exec recsys-pipelines', 'recsys-pipelines');
  return ['shopt -s expand_aliases', `cd ${JSON.stringify(REPO)}`, setup[0]!.code, `cd ${JSON.stringify(work)}`, 'set -e -o pipefail', code, ''].join('\n');
}

function runBlock(block: Block, work: string) {
  const file = join(tempDir('recsys-doc-script-'), 'block.sh');
  writeFileSync(file, script(block, work));
  // The tutorial's output is what a user sees: no log level inherited from the test run.
  const env = { ...process.env };
  delete env.RECSYS_LOG_LEVEL;
  return spawnSync('bash', [file], { encoding: 'utf8', env });
}

describe('docs/tutorials/local-quickstart.md', () => {
  test('has one setup block and a real walk-through', () => {
    expect(setup).toHaveLength(1);
    expect(steps.length).toBeGreaterThanOrEqual(10);
  });

  test('the setup block points recsys-pipelines at the built binary', () => {
    const r = runBlock({ line: 0, tags: [], code: 'type recsys-pipelines' }, tempDir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node ${BIN}`);
  });

  test('every bash block runs with the documented exit code, in order, in one folder', () => {
    const work = tempDir('recsys-quickstart-');
    for (const block of steps) {
      const expected = Number(block.tags.find((t) => t.startsWith('exit='))?.slice(5) ?? 0);
      const r = runBlock(block, work);
      expect(r.status, `${DOC}:${block.line} exited ${r.status} (expected ${expected})\n--- block\n${block.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`).toBe(expected);
    }
    // The walk-through ends where the tutorial says it does.
    expect(Object.keys(readManifest(join(work, '.out/registry'), 'demo', 'home')!.current).sort()).toEqual(['cooc', 'popularity']);
    expect(readManifest(join(work, '.out/registry'), 'diginetica', 'web')).toBeDefined();
    const checkpoint = JSON.parse(readFileSync(join(work, 'shop-out/checkpoints/shop/home.json'), 'utf8')) as { last_completed_day: string };
    expect(checkpoint.last_completed_day).toBe('2026-03-02');
    expect(readFileSync(join(work, 'shop-report.html'), 'utf8')).toContain('shop / home');
  });
});
