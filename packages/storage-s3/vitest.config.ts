import { defineProject } from 'vitest/config';
import { base } from '@recsys/vitest-config';

// Every suite here talks to a real S3 server (Ceph RGW); the global setup starts one when S3_ENDPOINT is not set.
export default defineProject(base({ globalSetup: ['./test/global-setup.ts'], testTimeout: 120_000 }));
