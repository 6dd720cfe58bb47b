import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import type { S3TestEnv } from './s3-env.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../tooling/s3/ceph-s3.sh', import.meta.url));

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

/**
 * Provides the S3 server to the suites: the one named by S3_ENDPOINT (CI,
 * a developer's own), else the local Ceph RGW of tooling/s3/ceph-s3.sh,
 * started here (installed via apt on a fresh machine, as root) and stopped
 * at teardown only if this setup started it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let startedHere = false;
  if (!process.env.S3_ENDPOINT) {
    const running = await run('bash', [SCRIPT, 'status']).then(() => true, () => false);
    let stdout: string;
    try {
      ({ stdout } = await run('bash', [SCRIPT, 'start'], { timeout: 600_000, maxBuffer: 1 << 20 }));
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`could not start the test S3 server (${SCRIPT} start; needs root on Debian 12): ${e.stderr?.slice(-2000) ?? e.message}`);
    }
    startedHere = !running;
    Object.assign(process.env, parseExports(stdout));
  }
  const env: S3TestEnv = {
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? '',
    bucket: process.env.S3_BUCKET ?? 'test-bucket',
  };
  project.provide('s3', env);
  return async () => {
    if (startedHere) await run('bash', [SCRIPT, 'stop'], { timeout: 60_000 });
  };
}
