import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

// CLI tests spawn the built binary (dist/bin.js); turbo builds it first.
// Two test files at a time: vitest's default on 2 cores is one, and these files spend most of
// their time waiting on child processes, so the suite (the longest of CI) left a core idle once
// the other packages had finished. Timeouts are hang detectors, sized for two files of
// process-spawning tests at once beside every other package's suite on 2 cores.
// The global setup holds a lease on the private S3 server the S3 files share (test/s3-server.ts); the last run to finish stops it.
export default defineProject(base({ testTimeout: 300_000, hookTimeout: 300_000, maxWorkers: 2, globalSetup: ['./test/global-setup.ts'] }));
