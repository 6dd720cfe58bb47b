import { z } from 'zod';
import { count, idString, pathSegment, windowSchema } from './primitives.js';

const buildSchema = z.strictObject({
  built_at: z.string(),
  version: z.string(),
  source_hash: z.string().optional(),
});

/**
 * The fields every artifact shares, in the contract's key order
 * (`v, artifact_type, tenant, surface, segment?, window, <payload>, build`),
 * so parsed objects and generated JSON Schemas list them in that order too.
 */
function artifactShape<T extends string, P extends z.ZodRawShape>(type: T, payload: P) {
  return {
    v: z.literal(1),
    artifact_type: z.literal(type),
    tenant: pathSegment,
    surface: pathSegment,
    /** Omitted by older producers; `default` when built without `--segment`. */
    segment: pathSegment.optional(),
    window: windowSchema,
    ...payload,
    build: buildSchema,
  };
}

/**
 * `build` block of a published artifact. `version` and `source_hash` are the
 * content hash; both are blanked when the hash is computed.
 * @since 0.1.0
 */
export const ArtifactBuildSchema = buildSchema;

/** The `build` block of an artifact. @since 0.1.0 */
export type ArtifactBuild = z.infer<typeof ArtifactBuildSchema>;

const itemCount = z.strictObject({ item_id: idString, count });
const itemScore = z.strictObject({ item_id: idString, score: z.number().min(0) });
const userItems = z.strictObject({ user_id: idString, items: z.array(itemScore) });

/**
 * Popularity v1: items by exposure count, most exposed first (ties by item_id, UTF-8 byte order).
 * @since 0.1.0
 */
export const PopularityArtifactV1Schema = z
  .strictObject(artifactShape('popularity', { items: z.array(itemCount) }))
  .meta({ title: 'Popularity artifact v1' });

/**
 * Co-occurrence v1: per item, the items seen in the same sessions, with how many sessions.
 * @since 0.1.0
 */
export const CoocArtifactV1Schema = z
  .strictObject(artifactShape('cooc', { neighbors: z.array(z.strictObject({ item_id: idString, items: z.array(itemCount) })) }))
  .meta({ title: 'Co-occurrence artifact v1' });

/**
 * Implicit feedback v1: per user, item exposure counts as scores.
 * @since 0.1.0
 */
export const ImplicitArtifactV1Schema = z
  .strictObject(artifactShape('implicit', { users: z.array(userItems) }))
  .meta({ title: 'Implicit feedback artifact v1' });

/**
 * Session sequence v1: per user, how often each item directly followed another exposure.
 * @since 0.1.0
 */
export const SessionSeqArtifactV1Schema = z
  .strictObject(artifactShape('session_seq', { users: z.array(userItems) }))
  .meta({ title: 'Session sequence artifact v1' });

/**
 * Content similarity v1: normalised catalog tags per item.
 * @since 0.1.0
 */
export const ContentSimArtifactV1Schema = z
  .strictObject(artifactShape('content_sim', { items: z.array(z.strictObject({ item_id: idString, tags: z.array(idString) })) }))
  .meta({ title: 'Content similarity artifact v1' });

/**
 * Any v1 artifact, discriminated by `artifact_type`.
 * @since 0.1.0
 */
export const ArtifactV1Schema = z
  .discriminatedUnion('artifact_type', [
    PopularityArtifactV1Schema,
    CoocArtifactV1Schema,
    ImplicitArtifactV1Schema,
    SessionSeqArtifactV1Schema,
    ContentSimArtifactV1Schema,
  ])
  .meta({ title: 'Artifact v1' });

/** A popularity artifact v1. @since 0.1.0 */
export type PopularityArtifactV1 = z.infer<typeof PopularityArtifactV1Schema>;
/** A co-occurrence artifact v1. @since 0.1.0 */
export type CoocArtifactV1 = z.infer<typeof CoocArtifactV1Schema>;
/** An implicit-feedback artifact v1. @since 0.1.0 */
export type ImplicitArtifactV1 = z.infer<typeof ImplicitArtifactV1Schema>;
/** A session-sequence artifact v1. @since 0.1.0 */
export type SessionSeqArtifactV1 = z.infer<typeof SessionSeqArtifactV1Schema>;
/** A content-similarity artifact v1. @since 0.1.0 */
export type ContentSimArtifactV1 = z.infer<typeof ContentSimArtifactV1Schema>;
/** Any v1 artifact; narrow on `artifact_type`. @since 0.1.0 */
export type ArtifactV1 = z.infer<typeof ArtifactV1Schema>;
