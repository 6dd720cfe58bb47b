import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

// Every suite here talks to a real S3 server (Ceph RGW); the global setup starts one when S3_ENDPOINT is not set.
export default defineProject(
  base({
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 120_000,
    // The SDK warns once per process that future releases need Node 22; not actionable in tests.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  }),
);
