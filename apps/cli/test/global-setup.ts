import { privateServerRunning, stopPrivateServer } from './s3-server.js';

/**
 * Stops the private S3 server of s3-server.ts after the last test file, if
 * this run started it. The files that use it run in parallel, so a file that
 * stopped it in its own teardown would pull it from under another one still
 * running (that is how a CI run once failed: ECONNREFUSED mid-test).
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.S3_ENDPOINT) return async () => {};
  const runningBefore = await privateServerRunning();
  return async () => {
    if (!runningBefore && (await privateServerRunning())) await stopPrivateServer();
  };
}
