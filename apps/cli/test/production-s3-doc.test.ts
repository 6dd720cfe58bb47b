// Runs docs/tutorials/production-s3.md against a real S3 server (Ceph RGW,
// s3-server.ts) with the real `aws` CLI (tooling/scripts/ensure-awscli.sh), as
// a reader without an AWS account does: the blocks marked as needing an AWS
// account are skipped, their local-server twins run. The reader's bucket
// names are unique per run, so reruns and parallel runs never meet.
// Convention and runner: doc-blocks.ts (the `setup` blocks, joined, run
// before every other block).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseHistoryEntry, parseManifest } from '@recsys/contracts';
import { BIN, GO_VERSIONS, tempDir } from './helpers.js';
import { REPO, bashBlocks, blockFailure, expectedExit, runBlock, type Block } from './doc-blocks.js';
import { s3Server, type S3Server } from './s3-server.js';

const DOC = join(REPO, 'docs/tutorials/production-s3.md');
const blocks = bashBlocks(DOC);
const setups = blocks.filter((b) => b.tags.includes('setup'));
const steps = blocks.filter((b) => !b.tags.includes('setup'));
const setup: Block = { line: setups[0]?.line ?? 0, lang: 'bash', tags: ['setup'], code: setups.map((b) => b.code).join('\n') };

const id = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const RAW_BUCKET = `docs-raw-${id}`;
const BUCKET = `docs-recsys-${id}`;

let server: S3Server;
let env: Record<string, string>;
beforeAll(async () => {
  await promisify(execFile)('bash', [join(REPO, 'tooling/scripts/ensure-awscli.sh')], { timeout: 600_000 });
  server = await s3Server();
  // What the reader exported; no pager or instance metadata lookups for the aws CLI.
  env = { ...server.env, RAW_BUCKET, BUCKET, AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true' };
}, 900_000);

afterAll(async () => {
  if (env) for (const bucket of [RAW_BUCKET, BUCKET]) sh(`aws s3 rb --force "s3://${bucket}" >/dev/null`, tempDir());
}, 120_000);

/** A command run as the tutorial's reader would, after its setup. */
function sh(code: string, work: string) {
  return runBlock(setup, { line: 0, lang: 'bash', tags: [], code }, work, env);
}

describe('docs/tutorials/production-s3.md', () => {
  test('its setup points recsys-pipelines at the built binary and aws at the server', () => {
    expect(setups).toHaveLength(2);
    const r = sh('type recsys-pipelines aws', tempDir());
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node ${BIN}`);
    expect(r.stdout).toContain('aws --endpoint-url "$S3_ENDPOINT"');
  });

  test('every bash block runs against the S3 server with the documented exit code, in order, in one folder', () => {
    expect(steps.length).toBeGreaterThanOrEqual(10);
    for (const command of ['aws s3 cp', 'run ', 'status ', 'history ', 'rollback ', 'gc ']) expect(steps.some((b) => b.code.includes(command)), command).toBe(true);
    const work = tempDir('recsys-s3-doc-');
    const outputs: string[] = [];
    for (const block of steps) {
      const r = runBlock(setup, block, work, env);
      expect(r.status, blockFailure(DOC, block, r)).toBe(expectedExit(block));
      outputs.push(r.stdout);
    }
    const all = outputs.join('\n');
    // It published to the reader's bucket, read the manifest back through aws, saw it stale (2026 data), rolled back.
    expect(all).toContain(`manifest: s3://${BUCKET}/pipelines/registry/current/demo/home/manifest.json`);
    expect(all).toMatch(/demo\/home {2}STALE/);
    expect(all).toMatch(/history entry 3 \(reason rollback: "bad upstream export, OPS-123"\)/);

    // Where the tutorial ends: the first day's versions live again, three pointer changes recorded.
    const read = (key: string) => {
      const r = sh(`aws s3 cp "s3://${BUCKET}/pipelines/${key}" -`, work);
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as unknown;
    };
    const manifest = parseManifest(read('registry/current/demo/home/manifest.json'));
    expect(manifest.current).toEqual({
      popularity: `s3://${BUCKET}/pipelines/objectstore/demo/home/popularity/${GO_VERSIONS.popularity}.json`,
      cooc: `s3://${BUCKET}/pipelines/objectstore/demo/home/cooc/${GO_VERSIONS.cooc}.json`,
    });
    const history = sh(`aws s3 ls "s3://${BUCKET}/pipelines/registry/history/demo/home/"`, work);
    expect(history.status, history.stderr).toBe(0);
    const entries = history.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1)!).sort();
    expect(entries.map((name) => parseHistoryEntry(read(`registry/history/demo/home/${name}`)).reason)).toEqual(['publish', 'publish', 'rollback']);
  });
});
