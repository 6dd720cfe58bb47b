import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../tooling/pg/pg-test-server.sh', import.meta.url));

/**
 * Provides PostgreSQL to the suites: the server named by PG_TEST_DSN (CI, a
 * developer's own), else the throw-away cluster of tooling/pg/pg-test-server.sh,
 * started here (installing Debian's postgresql with apt on a fresh machine, as
 * root) and stopped at teardown only if this setup started it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let startedHere = false;
  if (!process.env.PG_TEST_DSN) {
    const running = await run('bash', [SCRIPT, 'status']).then(() => true, () => false);
    let stdout: string;
    try {
      ({ stdout } = await run('bash', [SCRIPT, 'start'], { timeout: 600_000, maxBuffer: 1 << 20 }));
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`could not start the test PostgreSQL (${SCRIPT} start; needs root on Debian 12): ${e.stderr?.slice(-2000) ?? e.message}`);
    }
    startedHere = !running;
    for (const m of stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) process.env[m[1]!] = m[2]!;
  }
  project.provide('pgDsn', process.env.PG_TEST_DSN!);
  return async () => {
    if (startedHere) await run('bash', [SCRIPT, 'stop'], { timeout: 60_000 });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgDsn: string;
  }
}
