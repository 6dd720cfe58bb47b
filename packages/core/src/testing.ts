/**
 * Test support for `@recsys/core` and its adapters: in-memory
 * `ObjectStorage`, the `ObjectStorage` contract as a vitest suite every
 * adapter runs, a settable clock, a pipeline environment over memory and
 * small artifact fixtures. Pure like the rest of core (no `fs`, no
 * `process`); the contract suite needs `vitest`.
 * @packageDocumentation
 */
export { MemoryStorage } from './testing/memory-storage.js';
export { objectStorageContract, patternBytes, type ContractSubject, type ContractOptions } from './testing/object-storage-contract.js';
export { TestClock, testEnv, scope, sha256, popularity, cooc, publish, blobBytes, type TestEnv } from './testing/fixtures.js';
