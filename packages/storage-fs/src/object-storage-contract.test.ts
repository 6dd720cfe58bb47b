import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectStorageContract } from '@recsys/core/testing';
import { FsObjectStorage } from './index.js';

// The ObjectStorage contract (core's suite, also run on MemoryStorage and S3) on the filesystem adapter.
objectStorageContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contract-fs-'));
  return { storage: new FsObjectStorage(dir, { noSync: true }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// And with fsync on (the production setting), which the durability code paths depend on.
objectStorageContract('filesystem (fsync)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contract-fs-sync-'));
  return { storage: new FsObjectStorage(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
