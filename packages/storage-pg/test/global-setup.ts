import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { useTestServer } from '@recsys/vitest-config/test-server';

const SCRIPT = fileURLToPath(new URL('../../../tooling/pg/pg-test-server.sh', import.meta.url));

/**
 * Provides PostgreSQL to the suites: the server named by PG_TEST_DSN (CI, a
 * developer's own), else the throw-away cluster of tooling/pg/pg-test-server.sh,
 * started here (installing Debian's postgresql with apt on a fresh machine, as
 * root) and stopped at teardown by the last test run using it, if a test run
 * started it (tooling/vitest-config/test-server.js).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stop = await useTestServer({ script: SCRIPT, envVar: 'PG_TEST_DSN', what: 'the test PostgreSQL', envPrefix: 'PG_TEST_' });
  project.provide('pgDsn', process.env.PG_TEST_DSN!);
  return stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgDsn: string;
  }
}
