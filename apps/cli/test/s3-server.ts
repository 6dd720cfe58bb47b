// The S3 server of the CLI's S3 tests: the one S3_ENDPOINT names (CI, a
// developer who sourced /tmp/s3.env), else a private Ceph RGW of
// tooling/s3/ceph-s3.sh on its own ports and state folder. Private, because
// packages/storage-s3's global setup starts and stops the default instance
// while the suites of the other packages run in parallel: sharing it would
// let either one stop the server under the other. The test files of this
// package that use it run in parallel too, so none of them stops it: the run
// holds a lease on it (global-setup.ts), and the last run on the machine to
// finish stops it if a test run started it (tooling/vitest-config/test-server.js).
import { fileURLToPath } from 'node:url';
import { startLeasedTestServer } from '@recsys/vitest-config/test-server';

// Not doc-blocks' REPO: that module registers test hooks, and the global setup imports this one.
/** The script that starts and stops the server. */
export const S3_SCRIPT = fileURLToPath(new URL('../../../tooling/s3/ceph-s3.sh', import.meta.url));
/** The variables that select the private instance (its own ports and state folder). */
export const PRIVATE_S3: Record<string, string> = { CEPH_S3_DIR: '/tmp/ceph-s3-cli-docs', CEPH_S3_PORT: '7491', CEPH_S3_MON_PORT: '13391', CEPH_S3_OSD_PORTS: '16900-16999', CEPH_S3_BUCKET: '' };

export interface S3Server {
  /** S3_ENDPOINT and the AWS_* variables both the CLI and the `aws` CLI read. */
  readonly env: Record<string, string>;
}

function clientEnv(e: Record<string, string | undefined>): Record<string, string> {
  return {
    S3_ENDPOINT: e.S3_ENDPOINT!,
    AWS_ACCESS_KEY_ID: e.S3_ACCESS_KEY_ID ?? e.AWS_ACCESS_KEY_ID ?? '',
    AWS_SECRET_ACCESS_KEY: e.S3_SECRET_ACCESS_KEY ?? e.AWS_SECRET_ACCESS_KEY ?? '',
    AWS_REGION: e.S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
  };
}

/**
 * A running S3 server (the private one is started when S3_ENDPOINT is not set;
 * needs root on Debian 12 then). Files that ask at once share one start: the
 * script runs starts one at a time and the second finds the server running.
 */
export async function s3Server(): Promise<S3Server> {
  if (process.env.S3_ENDPOINT) return { env: clientEnv(process.env) };
  return { env: clientEnv(await startLeasedTestServer({ script: S3_SCRIPT, what: 'the test S3 server', instance: PRIVATE_S3 })) };
}
