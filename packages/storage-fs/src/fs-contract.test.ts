// The ObjectStorage contract suite (shared by every adapter) on the
// filesystem adapter: runs without any S3 server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectStorageContract } from '../../core/test/object-storage-contract.js';
import { FsObjectStorage } from './index.js';

objectStorageContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contract-fs-'));
  return { storage: new FsObjectStorage(dir, { noSync: true }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

// And with fsync on (the production setting), which the durability code paths depend on.
objectStorageContract('filesystem (fsync)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contract-fs-sync-'));
  return { storage: new FsObjectStorage(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
