// The S3 server of the CLI's S3 tests: the one S3_ENDPOINT names (CI, a
// developer who sourced /tmp/s3.env), else a private Ceph RGW of
// tooling/s3/ceph-s3.sh on its own ports and state folder. Private, because
// packages/storage-s3's global setup starts and stops the default instance
// while the suites of the other packages run in parallel: sharing it would
// let either one stop the server under the other. The test files of this
// package that use it run in parallel too, so none of them stops it: the
// package's global setup (global-setup.ts) does, after the last file, if the
// run started it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
// Not doc-blocks' REPO: that module registers test hooks, and the global setup imports this one.
const SCRIPT = fileURLToPath(new URL('../../../tooling/s3/ceph-s3.sh', import.meta.url));
const PRIVATE = { CEPH_S3_DIR: '/tmp/ceph-s3-cli-docs', CEPH_S3_PORT: '7491', CEPH_S3_MON_PORT: '13391', CEPH_S3_OSD_PORTS: '16900-16999', CEPH_S3_BUCKET: '' };

export interface S3Server {
  /** S3_ENDPOINT and the AWS_* variables both the CLI and the `aws` CLI read. */
  readonly env: Record<string, string>;
}

function parseExports(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  return env;
}

function clientEnv(e: Record<string, string | undefined>): Record<string, string> {
  return {
    S3_ENDPOINT: e.S3_ENDPOINT!,
    AWS_ACCESS_KEY_ID: e.S3_ACCESS_KEY_ID ?? e.AWS_ACCESS_KEY_ID ?? '',
    AWS_SECRET_ACCESS_KEY: e.S3_SECRET_ACCESS_KEY ?? e.AWS_SECRET_ACCESS_KEY ?? '',
    AWS_REGION: e.S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
  };
}

const privateEnv = () => ({ ...process.env, ...PRIVATE });

/** Whether the private server is up and answering. */
export async function privateServerRunning(): Promise<boolean> {
  return run('bash', [SCRIPT, 'status'], { env: privateEnv() }).then(
    () => true,
    () => false,
  );
}

/** Stops the private server (the script waits for a start in progress first). */
export async function stopPrivateServer(): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { env: privateEnv(), timeout: 900_000 });
}

/**
 * A running S3 server (the private one is started when S3_ENDPOINT is not set;
 * needs root on Debian 12 then). Files that ask at once share one start: the
 * script runs starts one at a time and the second finds the server running.
 */
export async function s3Server(): Promise<S3Server> {
  if (process.env.S3_ENDPOINT) return { env: clientEnv(process.env) };
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [SCRIPT, 'start'], { env: privateEnv(), timeout: 900_000, maxBuffer: 1 << 20 }));
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`could not start the test S3 server (${SCRIPT} start; needs root on Debian 12): ${e.stderr?.slice(-2000) ?? e.message}`);
  }
  return { env: clientEnv(parseExports(stdout)) };
}
