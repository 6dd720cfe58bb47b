import { leaseTestServer } from '@recsys/vitest-config/test-server';
import { PRIVATE_S3, S3_SCRIPT } from './s3-server.js';

/**
 * Holds this run's lease on the private S3 server of s3-server.ts, which the
 * S3 test files start on demand: after the last file, the server is stopped
 * if this was the last test run on the machine using it and a test run
 * started it (tooling/vitest-config/test-server.js). The files run in
 * parallel, and other runs (another worktree, a landing check) may share the
 * server, so neither a file nor a run that merely finds it running stops it.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.S3_ENDPOINT) return async () => {};
  return leaseTestServer({ script: S3_SCRIPT, what: 'the test S3 server', instance: PRIVATE_S3 });
}
