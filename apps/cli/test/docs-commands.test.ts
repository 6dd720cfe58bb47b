// Every command block of README.md and docs/**/*.md either runs in a doc test
// or is marked as an example that needs the reader's own environment
// (`<!-- example: <what it needs> -->` on the line before the fence), so no
// documented command silently stops working. Conventions: doc-blocks.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EXECUTED_DOCS, REPO, bashBlocks, commandBlockProblems, looksLikeCommand, markdownFiles } from './doc-blocks.js';

describe('docs command blocks', () => {
  const files = markdownFiles();

  test('every shell block is run by a doc test or marked as an example', () => {
    expect(files).toContain('README.md');
    expect(files.length).toBeGreaterThan(20);
    const problems = files.flatMap((file) => commandBlockProblems(file, readFileSync(join(REPO, file), 'utf8'), file in EXECUTED_DOCS));
    expect(problems, `command blocks:\n${problems.join('\n')}`).toEqual([]);
  });

  test('each executed document exists, has blocks to run, and its test names it', () => {
    for (const [doc, testFile] of Object.entries(EXECUTED_DOCS)) {
      expect(existsSync(join(REPO, doc)), doc).toBe(true);
      expect(bashBlocks(join(REPO, doc)).length, `${doc}: bash blocks to run`).toBeGreaterThan(0);
      expect(existsSync(join(REPO, testFile)), testFile).toBe(true);
      // The runner finds the document by its path below docs/.
      expect(readFileSync(join(REPO, testFile), 'utf8'), `${testFile} runs ${doc}`).toContain(doc.replace(/^docs\//, ''));
    }
  });
});

describe('the checker itself', () => {
  const doc = [
    '```bash',
    'recsys-pipelines status',
    '```',
    '<!-- example: needs your own cluster -->',
    '```bash',
    'kubectl apply -f job.yaml',
    '```',
    '```sh',
    'pnpm changeset',
    '```',
    '<!-- example: -->',
    '```bash',
    'true',
    '```',
    '```text',
    'docker build -t x .',
    '```',
    '```text',
    'recsys-pipelines run demo/home segment=default (1 day)',
    'recsys-pipelines run --tenant T --surface S [--segment G]',
    '```',
  ].join('\n');

  test('reports unrun and unmarked blocks, empty reasons, and commands in text blocks', () => {
    expect(commandBlockProblems('x.md', doc, false)).toEqual([
      expect.stringMatching(/^x\.md:1: a ```bash block that no test runs/),
      expect.stringMatching(/^x\.md:8: a ```sh block: make it ```bash and run it from a doc test, or mark it/),
      expect.stringMatching(/^x\.md:12: <!-- example: … --> needs a reason/),
      expect.stringMatching(/^x\.md:15: a ```text block holds a command \(docker build -t x \.\)/),
    ]);
  });

  test('in an executed document, ```bash blocks are fine, other shell languages are not', () => {
    expect(commandBlockProblems('x.md', doc, true)).toEqual([
      expect.stringMatching(/^x\.md:8: a ```sh block: make it ```bash$/),
      expect.stringMatching(/^x\.md:12: /),
      expect.stringMatching(/^x\.md:15: /),
    ]);
  });

  test('commands, synopses and output lines', () => {
    expect(looksLikeCommand('$ ls')).toBe(true);
    expect(looksLikeCommand('recsys-pipelines run --config c.json --tenant t')).toBe(true);
    expect(looksLikeCommand('aws s3 ls')).toBe(true);
    expect(looksLikeCommand('recsys-pipelines <command> [options]')).toBe(false);
    expect(looksLikeCommand('recsys-pipelines run --tenant demo --end "$(date -u -d yesterday +%F)"')).toBe(true);
    expect(looksLikeCommand('recsys-pipelines run demo/home segment=default (1 day)')).toBe(false);
    expect(looksLikeCommand('recsys-pipelines: config outdir: unknown key')).toBe(false);
    expect(looksLikeCommand('  popularity  0ef6b7852e97  4 rows  published')).toBe(false);
  });
});
