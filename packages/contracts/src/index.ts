/**
 * Wire contracts of recsys-pipelines (DESIGN §3): zod schemas, inferred
 * types, parse helpers, JSON Schema, and the content-hash versioning that
 * makes our artifact versions identical to the Go implementation's.
 *
 * Free of Node built-ins: works in browsers and edge runtimes.
 * @packageDocumentation
 */
export { ContractValidationError, type ContractIssue } from './errors.js';
export type { SafeParseResult } from './contract.js';
export {
  PATH_SEGMENT_PATTERN,
  PATH_SEGMENT_MAX_LENGTH,
  InvalidPathSegmentError,
  assertPathSegment,
  isValidPathSegment,
  pathSegmentProblem,
} from './path-segment.js';
export {
  ARTIFACT_TYPES,
  DEFAULT_SEGMENT,
  MANIFEST_KEY_PATTERN,
  isArtifactType,
  manifestKey,
  parseManifestKey,
  type ArtifactType,
  type ManifestKeyParts,
} from './artifact-types.js';
// The timestamp helpers and goEscapeJson: the zod-free subset, also its own entry (`./codec`).
export * from './codec.js';
export {
  CanonicalExposureSchema,
  RawExposureEventV1Schema,
  type CanonicalExposure,
  type RawExposureEventV1,
} from './schemas/exposure.js';
export {
  ArtifactBuildSchema,
  ArtifactV1Schema,
  CoocArtifactV1Schema,
  ContentSimArtifactV1Schema,
  ImplicitArtifactV1Schema,
  PopularityArtifactV1Schema,
  SessionSeqArtifactV1Schema,
  type ArtifactBuild,
  type ArtifactV1,
  type CoocArtifactV1,
  type ContentSimArtifactV1,
  type ImplicitArtifactV1,
  type PopularityArtifactV1,
  type SessionSeqArtifactV1,
} from './schemas/artifacts.js';
export {
  CheckpointV1Schema,
  HISTORY_REASONS,
  HistoryEntryV1Schema,
  InputPartitionSchema,
  ManifestV1Schema,
  VersionRecordV1Schema,
  type CheckpointV1,
  type HistoryEntryV1,
  type HistoryReason,
  type InputPartition,
  type ManifestV1,
  type VersionRecordV1,
} from './schemas/registry.js';
export * from './parsers.js';
export { orderArtifact, serializeArtifact, serializeForVersion } from './serialize.js';
export { computeArtifactVersion, sha256Hex, verifyArtifactVersion, type VersionCheck } from './version.js';
export { CONTRACT_SCHEMAS, buildJsonSchemas, type ContractName } from './json-schema.js';
