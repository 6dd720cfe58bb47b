import { z } from 'zod';
import { blobUri, count, currentMap, day, idString, pathSegment, sha256Hex, utcSecond, utcTimestamp, windowSchema } from './primitives.js';
import { ARTIFACT_TYPES } from '../artifact-types.js';

/**
 * Manifest v1: the pointer recsys-service loads and the thing that is rolled
 * back. Strict: consumers reject any extra top-level key.
 * @since 0.1.0
 */
export const ManifestV1Schema = z
  .strictObject({
    v: z.literal(1),
    tenant: pathSegment,
    surface: pathSegment,
    current: currentMap,
    updated_at: utcTimestamp,
  })
  .meta({ title: 'Manifest v1', description: 'registry/current/<tenant>/<surface>/manifest.json' });

/** A manifest v1. @since 0.1.0 */
export type ManifestV1 = z.infer<typeof ManifestV1Schema>;

/**
 * One input partition a published artifact was computed from.
 * @since 0.1.0
 */
export const InputPartitionSchema = z.strictObject({
  /** Partition day. */
  day,
  /** URI or key of the canonical partition. */
  uri: z.string().min(1),
  /** SHA-256 of the partition's bytes. */
  sha256: sha256Hex,
  /** Number of canonical events in it. */
  events: count,
});

/** One input partition of a version record. @since 0.1.0 */
export type InputPartition = z.infer<typeof InputPartitionSchema>;

/**
 * Version record v1: one immutable document per published
 * (tenant, surface, type, segment, version).
 * @since 0.1.0
 */
export const VersionRecordV1Schema = z
  .strictObject({
    v: z.literal(1),
    tenant: pathSegment,
    surface: pathSegment,
    artifact_type: z.enum(ARTIFACT_TYPES),
    segment: pathSegment,
    version: sha256Hex,
    uri: blobUri,
    window: windowSchema,
    sha256: sha256Hex,
    size_bytes: count,
    built_at: utcSecond,
    published_at: utcTimestamp,
    inputs: z.array(InputPartitionSchema),
    tool: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
  })
  .meta({ title: 'Version record v1', description: 'registry/records/<tenant>/<surface>/<type>/<version>.json' });

/** A version record v1. @since 0.1.0 */
export type VersionRecordV1 = z.infer<typeof VersionRecordV1Schema>;

/**
 * Why the pointer moved.
 * @since 0.1.0
 */
export const HISTORY_REASONS = ['publish', 'rollback'] as const;

/** `publish` or `rollback`. @since 0.1.0 */
export type HistoryReason = (typeof HISTORY_REASONS)[number];

/**
 * Manifest history entry v1: one append-only entry per pointer change, the
 * audit log and the source of rollback. `previous` of entry N equals `next`
 * of entry N-1.
 * @since 0.1.0
 */
export const HistoryEntryV1Schema = z
  .strictObject({
    v: z.literal(1),
    seq: z.int().min(1),
    at: utcTimestamp,
    tenant: pathSegment,
    surface: pathSegment,
    reason: z.enum(HISTORY_REASONS),
    /** Free-text explanation (e.g. the `--reason` of a rollback). */
    message: z.string().optional(),
    previous: currentMap,
    next: currentMap,
    run_id: idString,
    actor: z.strictObject({ host: z.string(), user: z.string(), pid: z.int().min(0).optional(), tool: z.string().optional() }),
  })
  .meta({ title: 'Manifest history entry v1', description: 'registry/history/<tenant>/<surface>/<seq>.json' });

/** A manifest history entry v1. @since 0.1.0 */
export type HistoryEntryV1 = z.infer<typeof HistoryEntryV1Schema>;

/**
 * Checkpoint v1: the last UTC day fully published for a tenant/surface
 * (incremental runs start the day after).
 * @since 0.1.0
 */
export const CheckpointV1Schema = z
  .strictObject({
    v: z.literal(1),
    tenant: pathSegment,
    surface: pathSegment,
    last_completed_day: day,
    updated_at: utcTimestamp,
    run_id: idString.optional(),
  })
  .meta({ title: 'Checkpoint v1', description: 'checkpoints/<tenant>/<surface>.json' });

/** A checkpoint v1. @since 0.1.0 */
export type CheckpointV1 = z.infer<typeof CheckpointV1Schema>;
