import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

// CLI tests spawn the built binary (dist/bin.js); turbo builds it first.
export default defineProject(base({ testTimeout: 120_000 }));
