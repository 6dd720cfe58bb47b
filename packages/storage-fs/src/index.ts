/**
 * Filesystem adapters of the `@recsys/core` ports (the embedded default).
 * @packageDocumentation
 */
export { FsObjectStorage, nodeSha256, type FsObjectStorageOptions } from './fs-object-storage.js';
