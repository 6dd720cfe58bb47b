// The one parser and runner of the docs' command blocks. Conventions (checked
// over README.md and docs/**/*.md by docs-commands.test.ts):
//
// - A shell block (```bash, ```sh, ```shell, ```console, …) is either run by a
//   doc test, or marked as an example that needs the reader's own
//   environment by an HTML comment on the line before its fence:
//       <!-- example: needs your own Kubernetes cluster -->
//   (the reason is required). Commands are never hidden in ```text blocks.
// - A document whose ```bash blocks a test runs is listed in EXECUTED_DOCS
//   with that test. Its runner runs every ```bash block that is not an
//   example, in order.
// - Info-string tags of a ```bash block: `setup` (the tutorial's own setup:
//   how `recsys-pipelines` is invoked; run in the repository root before every
//   other block, with aliases on) and `exit=N` (the block must exit with N;
//   default 0).
// - runBlock runs a block in a fresh `bash` with `set -e -o pipefail`, in the
//   given working folder; `npx -y pnpm@12.4.2 exec recsys-pipelines` is
//   rewritten to `recsys-pipelines` (the setup alias).
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The documents whose ```bash blocks (all but the examples) a test runs,
 * repository-relative, with that test. docs-commands.test.ts checks that the
 * test exists and names the document.
 */
export const EXECUTED_DOCS: Readonly<Record<string, string>> = {
  'docs/tutorials/local-quickstart.md': 'apps/cli/test/quickstart-doc.test.ts',
  'docs/tutorials/job-mode.md': 'apps/cli/test/job-mode-doc.test.ts',
  'docs/tutorials/production-s3.md': 'apps/cli/test/production-s3-doc.test.ts',
  'docs/operations/runbooks/pipeline-failed.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/operations/runbooks/validation-failed.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/operations/runbooks/limit-exceeded.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/operations/runbooks/stale-artifacts.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/how-to/rollback.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/how-to/operate-daily.md': 'apps/cli/test/docs-runbooks.test.ts',
  'docs/reference/artifacts.md': 'apps/cli/test/docs-runbooks.test.ts',
};

/** Fence languages of plain-text blocks, where commands must not hide. */
export const TEXT_LANGS: ReadonlySet<string> = new Set(['', 'text', 'txt', 'plain', 'plaintext']);

/** Fence languages of shell blocks. */
export const SHELL_LANGS: ReadonlySet<string> = new Set(['bash', 'sh', 'shell', 'console', 'zsh', 'shell-session', 'shellsession']);

export interface Block {
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's first word, lower-cased ('' when none). */
  readonly lang: string;
  /** The info string's other words. */
  readonly tags: string[];
  readonly code: string;
  /** The reason of an `<!-- example: … -->` marker on the line before the fence. */
  readonly example?: string;
}

const EXAMPLE = /^\s*<!--\s*example:(.*?)-->\s*$/;

/** Every fenced block (``` or ~~~) of a markdown text. */
export function parseBlocks(markdown: string, where = 'markdown'): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const marker = open[1]!;
    const close = new RegExp(`^ {0,3}${marker[0] === '`' ? '`' : '~'}{${marker.length},}\\s*$`);
    const end = lines.findIndex((l, j) => j > i && close.test(l));
    if (end === -1) throw new Error(`${where}:${i + 1}: unterminated code block`);
    const words = open[2]!.trim().split(/\s+/).filter(Boolean);
    const example = i > 0 ? EXAMPLE.exec(lines[i - 1]!)?.[1]!.trim() : undefined;
    blocks.push({ line: i + 1, lang: (words[0] ?? '').toLowerCase(), tags: words.slice(1), code: lines.slice(i + 1, end).join('\n'), ...(example !== undefined ? { example } : {}) });
    i = end;
  }
  return blocks;
}

/** Every fenced block of a markdown file. */
export function fencedBlocks(path: string): Block[] {
  return parseBlocks(readFileSync(path, 'utf8'), path);
}

/** The ```bash blocks a doc test runs: all but those marked as examples. */
export function bashBlocks(path: string): Block[] {
  return fencedBlocks(path).filter((b) => b.lang === 'bash' && b.example === undefined);
}

/** The exit code a block documents (`exit=N`, default 0). */
export function expectedExit(block: Block): number {
  return Number(block.tags.find((t) => t.startsWith('exit='))?.slice(5) ?? 0);
}

/** README.md and every docs/**\/*.md, repository-relative, sorted. */
export function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) out.push(path);
    }
  };
  walk('docs');
  return out.sort();
}

/**
 * Whether a line of a non-shell block reads as a command to type: a `$ `
 * prompt, or a line starting with a command-line tool and an argument. Usage
 * synopses (`[--flag]`, `<command>`) and output lines (`recsys-pipelines run
 * demo/home segment=default (1 day)`, `recsys-pipelines: …`) are not.
 */
export function looksLikeCommand(line: string): boolean {
  if (/^\s*\$ \S/.test(line)) return true;
  const m = /^\s*(recsys-pipelines|npx|pnpm|npm|node|aws|kubectl|docker|argo|psql|curl|helm|bash|sh)\s+(\S.*)$/.exec(line);
  if (!m) return false;
  const rest = m[2]!;
  if (/[[<]/.test(rest)) return false; // a synopsis
  // An output header (`… (1 day)`) has a parenthesis; a command only in `$(…)`.
  if (m[1] === 'recsys-pipelines') return /^[a-z]+\s.*--[a-z]/.test(rest) && !/(^|[^$])\(/.test(rest);
  return true;
}

/**
 * What is wrong with the command blocks of one document: shell blocks
 * neither run by a test (`executed`: the document is in EXECUTED_DOCS, and
 * the block is ```bash) nor marked as examples, empty example reasons, and
 * commands in non-shell blocks.
 */
export function commandBlockProblems(file: string, markdown: string, executed: boolean): string[] {
  const problems: string[] = [];
  for (const block of parseBlocks(markdown, file)) {
    const at = `${file}:${block.line}`;
    if (block.example !== undefined) {
      if (block.example === '') problems.push(`${at}: <!-- example: … --> needs a reason (what of the reader's own environment the block needs)`);
      continue;
    }
    if (SHELL_LANGS.has(block.lang)) {
      if (block.lang !== 'bash') problems.push(`${at}: a \`\`\`${block.lang} block: make it \`\`\`bash${executed ? '' : ' and run it from a doc test, or mark it <!-- example: … -->'}`);
      else if (!executed) problems.push(`${at}: a \`\`\`bash block that no test runs: run the document from a doc test (EXECUTED_DOCS in apps/cli/test/doc-blocks.ts) or mark the block <!-- example: <what it needs> -->`);
      continue;
    }
    if (!TEXT_LANGS.has(block.lang)) continue;
    const command = block.code.split('\n').find(looksLikeCommand);
    if (command !== undefined) problems.push(`${at}: a \`\`\`${block.lang || '(plain)'} block holds a command (${command.trim().slice(0, 80)}): write it as a \`\`\`bash block, run or marked <!-- example: … -->`);
  }
  return problems;
}

/**
 * Runs one block in `work`: after the setup block (in the repository root,
 * aliases on) when there is one, with `env` over the environment. What a
 * user sees: no log level or test clock is inherited from the test run
 * (pass them in `env` to set them).
 */
export function runBlock(setup: Block | undefined, block: Block, work: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const code = block.code.replaceAll('npx -y pnpm@12.4.2 exec recsys-pipelines', 'recsys-pipelines');
  const file = join(tempDir('recsys-doc-script-'), 'block.sh');
  const prelude = setup ? ['shopt -s expand_aliases', `cd ${JSON.stringify(REPO)}`, setup.code] : [];
  writeFileSync(file, [...prelude, `cd ${JSON.stringify(work)}`, 'set -e -o pipefail', code, ''].join('\n'));
  const base = { ...process.env };
  delete base.RECSYS_LOG_LEVEL;
  delete base.RECSYS_TEST_NOW;
  return spawnSync('bash', [file], { encoding: 'utf8', env: { ...base, ...env } });
}

/** A failure message naming the block, with its output. */
export function blockFailure(doc: string, block: Block, r: SpawnSyncReturns<string>): string {
  return `${doc}:${block.line} exited ${r.status} (expected ${expectedExit(block)})\n--- block\n${block.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
