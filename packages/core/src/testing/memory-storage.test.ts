import { objectStorageContract } from './object-storage-contract.js';
import { MemoryStorage } from './memory-storage.js';

// The in-memory storage core's tests run on keeps the same contract as the real adapters.
objectStorageContract('memory', async () => ({ storage: new MemoryStorage('contract'), cleanup: async () => {} }));
