import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { useTestServer } from '@recsys/vitest-config/test-server';
import type { S3TestEnv } from './s3-env.js';

const SCRIPT = fileURLToPath(new URL('../../../tooling/s3/ceph-s3.sh', import.meta.url));

/**
 * Provides the S3 server to the suites: the one named by S3_ENDPOINT (CI,
 * a developer's own), else the local Ceph RGW of tooling/s3/ceph-s3.sh,
 * started here (installed via apt on a fresh machine, as root) and stopped
 * at teardown by the last test run using it, if a test run started it
 * (tooling/vitest-config/test-server.js).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stop = await useTestServer({ script: SCRIPT, envVar: 'S3_ENDPOINT', what: 'the test S3 server', envPrefix: 'CEPH_S3_' });
  const env: S3TestEnv = {
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY ?? '',
    bucket: process.env.S3_BUCKET ?? 'test-bucket',
  };
  project.provide('s3', env);
  return stop;
}
