/**
 * Filesystem adapters of the `@recsys/core` ports (the embedded default).
 * @packageDocumentation
 */
export { FsObjectStorage, type FsObjectStorageOptions } from './fs-object-storage.js';
/**
 * Re-exported from `@recsys/runtime-node`, its home (one implementation);
 * kept here so that existing imports from this package keep working.
 */
export { nodeSha256 } from '@recsys/runtime-node';
