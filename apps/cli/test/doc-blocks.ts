// Runs the ```bash blocks of a tutorial, with the convention of
// quickstart-doc.test.ts: the one ```bash setup block (run in the repository
// root before every other block, with aliases on) defines how
// `recsys-pipelines` is invoked; every other block runs in order, each in a
// fresh `bash` with `set -e -o pipefail`, in one shared working folder; a
// block tagged `exit=N` must exit with N, all others with 0.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Block {
  readonly line: number;
  readonly tags: string[];
  readonly code: string;
}

/** The ```bash blocks of a markdown file, with their info-string tags and line numbers. */
export function bashBlocks(path: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end === -1) throw new Error(`${path}:${i + 1}: unterminated code block`);
    if (open[1] === 'bash') blocks.push({ line: i + 1, tags: open[2]!.trim().split(/\s+/).filter(Boolean), code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** The exit code a block documents (`exit=N`, default 0). */
export function expectedExit(block: Block): number {
  return Number(block.tags.find((t) => t.startsWith('exit='))?.slice(5) ?? 0);
}

/** Runs one block after the setup block, in `work`. */
export function runBlock(setup: Block, block: Block, work: string): SpawnSyncReturns<string> {
  const code = block.code.replaceAll('npx -y pnpm@12.4.2 exec recsys-pipelines', 'recsys-pipelines');
  const file = join(tempDir('recsys-doc-script-'), 'block.sh');
  writeFileSync(file, ['shopt -s expand_aliases', `cd ${JSON.stringify(REPO)}`, setup.code, `cd ${JSON.stringify(work)}`, 'set -e -o pipefail', code, ''].join('\n'));
  // What a user sees: no log level or test clock inherited from the test run.
  const env = { ...process.env };
  delete env.RECSYS_LOG_LEVEL;
  delete env.RECSYS_TEST_NOW;
  return spawnSync('bash', [file], { encoding: 'utf8', env });
}
