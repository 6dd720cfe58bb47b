// The server a suite talks to (S3, PostgreSQL), shared by the packages'
// vitest global setups: the one named by an environment variable (CI, a
// developer's own), else the throw-away one its tooling script starts, which
// is stopped at teardown only if this setup started it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes sure the server is there and its `export NAME=value` lines are in
 * `process.env`; resolves to the teardown.
 * @param {{ script: string; envVar: string; what: string }} server
 * @returns {Promise<() => Promise<void>>}
 */
export async function useTestServer({ script, envVar, what }) {
  let startedHere = false;
  if (!process.env[envVar]) {
    const running = await run('bash', [script, 'status']).then(
      () => true,
      () => false,
    );
    let stdout;
    try {
      ({ stdout } = await run('bash', [script, 'start'], { timeout: 600_000, maxBuffer: 1 << 20 }));
    } catch (error) {
      throw new Error(`could not start ${what} (${script} start; needs root on Debian 12): ${error.stderr?.slice(-2000) ?? error.message}`);
    }
    startedHere = !running;
    for (const m of stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) process.env[m[1]] = m[2];
  }
  return async () => {
    if (startedHere) await run('bash', [script, 'stop'], { timeout: 60_000 });
  };
}
