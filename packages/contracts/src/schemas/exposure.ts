import { z } from 'zod';
import { count, idString, nonBlankString, pathSegment, rfc3339, utcTimestamp } from './primitives.js';

/**
 * Raw exposure event v1 (one JSON Lines record of the input): "user saw
 * item X in session S". Strict: unknown fields are rejected so that ingest
 * can quarantine them instead of silently dropping data.
 * @since 0.1.0
 */
export const RawExposureEventV1Schema = z
  .strictObject({
    v: z.literal(1),
    ts: rfc3339,
    tenant: nonBlankString,
    surface: nonBlankString,
    session_id: nonBlankString,
    item_id: nonBlankString,
    user_id: z.string().optional(),
    request_id: z.string().optional(),
    rank: count.optional(),
  })
  .meta({ title: 'Raw exposure event v1', description: 'One line of the raw JSON Lines input.' });

/** A raw exposure event v1, as parsed by {@link RawExposureEventV1Schema}. @since 0.1.0 */
export type RawExposureEventV1 = z.infer<typeof RawExposureEventV1Schema>;

/**
 * Canonical exposure (stored, one partition per tenant/surface/UTC day):
 * ids trimmed, `ts` in UTC `Z` form with the original sub-second precision,
 * optional fields omitted when empty.
 * @since 0.1.0
 */
export const CanonicalExposureSchema = z
  .strictObject({
    v: z.literal(1),
    ts: utcTimestamp,
    tenant: pathSegment,
    surface: pathSegment,
    session_id: idString,
    item_id: idString,
    user_id: idString.optional(),
    request_id: idString.optional(),
    rank: count.optional(),
  })
  .meta({ title: 'Canonical exposure v1', description: 'One line of a canonical partition.' });

/** A canonical exposure, as parsed by {@link CanonicalExposureSchema}. @since 0.1.0 */
export type CanonicalExposure = z.infer<typeof CanonicalExposureSchema>;
