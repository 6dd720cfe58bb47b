import { contractParsers } from './contract.js';
import { CanonicalExposureSchema, RawExposureEventV1Schema } from './schemas/exposure.js';
import {
  ArtifactV1Schema,
  CoocArtifactV1Schema,
  ContentSimArtifactV1Schema,
  ImplicitArtifactV1Schema,
  PopularityArtifactV1Schema,
  SessionSeqArtifactV1Schema,
} from './schemas/artifacts.js';
import { CheckpointV1Schema, HistoryEntryV1Schema, ManifestV1Schema, VersionRecordV1Schema } from './schemas/registry.js';

const rawEvent = contractParsers('raw_exposure_event.v1', RawExposureEventV1Schema);
const canonical = contractParsers('canonical_exposure.v1', CanonicalExposureSchema);
const popularity = contractParsers('popularity.v1', PopularityArtifactV1Schema);
const cooc = contractParsers('cooc.v1', CoocArtifactV1Schema);
const implicit = contractParsers('implicit.v1', ImplicitArtifactV1Schema);
const sessionSeq = contractParsers('session_seq.v1', SessionSeqArtifactV1Schema);
const contentSim = contractParsers('content_sim.v1', ContentSimArtifactV1Schema);
const artifact = contractParsers('artifact.v1', ArtifactV1Schema);
const manifest = contractParsers('manifest.v1', ManifestV1Schema);
const versionRecord = contractParsers('version_record.v1', VersionRecordV1Schema);
const historyEntry = contractParsers('history_entry.v1', HistoryEntryV1Schema);
const checkpoint = contractParsers('checkpoint.v1', CheckpointV1Schema);

/** Parses a raw exposure event v1; throws `ContractValidationError` listing every issue. @since 0.1.0 */
export const parseRawExposureEvent = rawEvent.parse;
/** Like {@link parseRawExposureEvent}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseRawExposureEvent = rawEvent.safeParse;
/** Parses a canonical exposure line; throws `ContractValidationError` listing every issue. @since 0.1.0 */
export const parseCanonicalExposure = canonical.parse;
/** Like {@link parseCanonicalExposure}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseCanonicalExposure = canonical.safeParse;
/** Parses a popularity artifact v1. @since 0.1.0 */
export const parsePopularityArtifact = popularity.parse;
/** Like {@link parsePopularityArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParsePopularityArtifact = popularity.safeParse;
/** Parses a co-occurrence artifact v1. @since 0.1.0 */
export const parseCoocArtifact = cooc.parse;
/** Like {@link parseCoocArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseCoocArtifact = cooc.safeParse;
/** Parses an implicit-feedback artifact v1. @since 0.1.0 */
export const parseImplicitArtifact = implicit.parse;
/** Like {@link parseImplicitArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseImplicitArtifact = implicit.safeParse;
/** Parses a session-sequence artifact v1. @since 0.1.0 */
export const parseSessionSeqArtifact = sessionSeq.parse;
/** Like {@link parseSessionSeqArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseSessionSeqArtifact = sessionSeq.safeParse;
/** Parses a content-similarity artifact v1. @since 0.1.0 */
export const parseContentSimArtifact = contentSim.parse;
/** Like {@link parseContentSimArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseContentSimArtifact = contentSim.safeParse;
/** Parses any v1 artifact (dispatching on `artifact_type`). @since 0.1.0 */
export const parseArtifact = artifact.parse;
/** Like {@link parseArtifact}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseArtifact = artifact.safeParse;
/** Parses a manifest v1 (strict: extra top-level keys are rejected). @since 0.1.0 */
export const parseManifest = manifest.parse;
/** Like {@link parseManifest}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseManifest = manifest.safeParse;
/** Parses a version record v1. @since 0.1.0 */
export const parseVersionRecord = versionRecord.parse;
/** Like {@link parseVersionRecord}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseVersionRecord = versionRecord.safeParse;
/** Parses a manifest history entry v1. @since 0.1.0 */
export const parseHistoryEntry = historyEntry.parse;
/** Like {@link parseHistoryEntry}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseHistoryEntry = historyEntry.safeParse;
/** Parses a checkpoint v1. @since 0.1.0 */
export const parseCheckpoint = checkpoint.parse;
/** Like {@link parseCheckpoint}, returning `{ success, data }` or `{ success, error }` instead of throwing. @since 0.1.0 */
export const safeParseCheckpoint = checkpoint.safeParse;
