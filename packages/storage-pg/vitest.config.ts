import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

// Every suite here talks to a real PostgreSQL; the global setup starts a throw-away one when PG_TEST_DSN is not set.
export default defineProject(
  base({
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 120_000,
  }),
);
