// Runs every command of docs/tutorials/job-mode.md (convention: doc-blocks.ts),
// so the tutorial cannot drift from the CLI.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, readManifest, tempDir } from './helpers.js';
import { REPO, bashBlocks, blockFailure, expectedExit, runBlock } from './doc-blocks.js';

const DOC = join(REPO, 'docs/tutorials/job-mode.md');
const blocks = bashBlocks(DOC);
const setup = blocks.filter((b) => b.tags.includes('setup'));
const steps = blocks.filter((b) => !b.tags.includes('setup'));

describe('docs/tutorials/job-mode.md', () => {
  test('has one setup block pointing recsys-pipelines at the built binary', () => {
    expect(setup).toHaveLength(1);
    const r = runBlock(setup[0]!, { line: 0, lang: 'bash', tags: [], code: 'type recsys-pipelines' }, tempDir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node ${BIN}`);
  });

  test('every bash block runs with the documented exit code, in order, in one folder', () => {
    expect(steps.length).toBeGreaterThanOrEqual(15);
    // Every job-mode step is exercised by the walk-through.
    for (const step of ['ingest', 'validate', 'compute', 'merge', 'publish']) expect(steps.some((b) => b.code.includes(`recsys-pipelines ${step} `)), step).toBe(true);
    const work = tempDir('recsys-jobmode-doc-');
    for (const block of steps) {
      const r = runBlock(setup[0]!, block, work);
      expect(r.status, blockFailure(DOC, block, r)).toBe(expectedExit(block));
    }
    // The walk-through ends where the tutorial says it does.
    const demo = readManifest(join(work, '.out/registry'), 'demo', 'home')!.current;
    expect(Object.keys(demo).sort()).toEqual(['cooc', 'cooc@beta', 'popularity', 'popularity@beta']);
    expect(readManifest(join(work, '.out/registry'), 'diginetica', 'web')).toBeDefined();
    const partials = join(work, '.out/objectstore/diginetica/web/_partials/default/cooc/2016-05-31_2016-06-01');
    expect(existsSync(join(partials, '1-of-3.json'))).toBe(true);
    expect(readFileSync(join(work, 'single-process.version'), 'utf8')).toBe(readFileSync(join(work, '.out/artifacts/diginetica/web/default/cooc/2016-05-31_2016-06-01/current.version'), 'utf8'));
  });
});
