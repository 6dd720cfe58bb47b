/**
 * S3 adapters of the `@recsys/core` ports: {@link S3ObjectStorage} on AWS
 * S3, MinIO, Ceph RGW or any S3-compatible store, and {@link createS3Client}
 * with the retry and timeout policy it expects.
 * @packageDocumentation
 */
export { S3ObjectStorage, normalizePrefix, type S3ObjectStorageOptions } from './s3-object-storage.js';
export { createS3Client, normalizeEndpoint, type S3ClientSettings, type S3AttemptFailure } from './client.js';
export { BackoffRetryStrategy, DEFAULT_RETRY, backoffDelay, isTransientError, resolveRetry, type RetryOptions, type ResolvedRetryOptions } from './retry.js';
