import { z } from 'zod';
import { DAY_PATTERN, RFC3339_PATTERN, UTC_SECOND_PATTERN, isValidDay, parseRfc3339 } from '../time.js';
import { PATH_SEGMENT_PATTERN, pathSegmentProblem } from '../path-segment.js';
import { MANIFEST_KEY_PATTERN, parseManifestKey } from '../artifact-types.js';

/** A string that is not empty once trimmed (ids in raw events). */
export const nonBlankString = z
  .string()
  .regex(/\S/, { message: 'must not be empty or blank' });

/** A stored id: non-empty, no surrounding whitespace (canonical and artifact ids). */
export const idString = z
  .string()
  .min(1, { message: 'must not be empty' })
  .refine((s) => s.trim() === s, { message: 'must not have leading or trailing whitespace' });

/** A tenant/surface/segment/type/version that is also used as a path segment. */
export const pathSegment = z
  .string()
  .regex(PATH_SEGMENT_PATTERN, { message: 'must be 1-128 characters from [A-Za-z0-9._-]' })
  .refine((s) => pathSegmentProblem(s) === undefined, { message: 'must not be "." or ".."' });

/** Any RFC 3339 date-time (any offset, optional fraction). */
export const rfc3339 = z
  .string()
  .regex(RFC3339_PATTERN, { message: 'must be an RFC 3339 date-time' })
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be a valid calendar date and time' });

/** A UTC instant at second precision (`2026-01-01T00:00:00Z`). */
export const utcSecond = z
  .string()
  .regex(UTC_SECOND_PATTERN, { message: 'must be a UTC instant at second precision, e.g. 2026-01-01T00:00:00Z' })
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be a valid calendar date and time' });

/** A UTC instant in canonical form (`…Z`, optional fraction). */
export const utcTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, { message: 'must be a UTC RFC 3339 instant ending in Z' })
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be a valid calendar date and time' });

/** A UTC day, `YYYY-MM-DD`. */
export const day = z
  .string()
  .regex(DAY_PATTERN, { message: 'must be a day YYYY-MM-DD' })
  .refine(isValidDay, { message: 'must be a valid calendar day' });

/** Lowercase hex SHA-256. */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters (SHA-256)' });

/** A non-negative integer count. */
export const count = z.int().min(0);

/** Half-open artifact window `[start, end)`, second-precision UTC. */
export const windowSchema = z
  .strictObject({ start: utcSecond, end: utcSecond })
  .refine((w) => w.start < w.end, { message: 'window.start must be before window.end', path: ['end'] });

/** A `manifest.current` key: `<type>` or `<type>@<segment>`. */
export const manifestKeySchema = z
  .string()
  .regex(MANIFEST_KEY_PATTERN, { message: 'must be "<type>" or "<type>@<segment>"' })
  .refine((k) => parseManifestKey(k) !== undefined, { message: 'segment must be a valid path segment other than "default"' });

/** URI of a published blob: `file:///abs/path` or `s3://bucket/key`. */
export const blobUri = z
  .string()
  .regex(/^(file:\/\/\/|s3:\/\/[a-z0-9][a-z0-9.-]{1,62}\/)\S+$/, { message: 'must be a file:///… or s3://bucket/key URI' });

/** The pointer map of a manifest. */
export const currentMap = z.record(manifestKeySchema, blobUri);
