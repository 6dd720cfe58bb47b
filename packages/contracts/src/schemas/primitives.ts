import { z } from 'zod';
import { toCanonicalTimestamp, DAY_PATTERN, RFC3339_PATTERN, UTC_SECOND_PATTERN, isValidDay, parseRfc3339 } from '../time.js';
import { pathSegmentProblem } from '../path-segment.js';
import { DEFAULT_SEGMENT } from '../artifact-types.js';

// Each primitive is one pattern wherever the rule fits in a regular
// expression, so that the generated JSON Schema enforces the same rule as zod
// and a bad value yields exactly one issue. Patterns avoid lookaround so that
// RE2-based validators (Go, Rust) can compile the JSON Schema too. Rules a
// pattern cannot express (calendar validity, window order) are zod
// refinements that JSON Schema consumers do not get; docs/reference/contracts.md
// lists them.

/** A string that is not empty once trimmed (ids in raw events). */
export const nonBlankString = z.string().regex(/\S/, { message: 'must not be empty or blank' });

/**
 * A stored id: non-empty, no surrounding whitespace (canonical and artifact
 * ids). JS `\s` is exactly the set `String#trim` strips.
 */
export const idString = z.string().regex(/^\S(?:[\s\S]*\S)?$/, {
  error: (issue) => (issue.input === '' ? 'must not be empty' : 'must not have leading or trailing whitespace'),
});

/**
 * `[A-Za-z0-9._-]{1,128}` except `.` and `..` (the rule of `pathSegmentProblem`)
 * without lookahead: starts with a non-dot, or one dot then a non-dot, or two
 * dots then at least one more character.
 */
const SEGMENT = String.raw`(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,126}|\.\.[A-Za-z0-9._-]{1,126})`;
const PATH_SEGMENT_STRICT = new RegExp(`^${SEGMENT}$`);

/** A tenant/surface/segment/type/version that is also used as a path segment. */
export const pathSegment = z.string().regex(PATH_SEGMENT_STRICT, {
  error: (issue) => pathSegmentProblem(issue.input) ?? 'must be a valid path segment',
});

/** Any RFC 3339 date-time (any offset, optional fraction of 1–9 digits). */
export const rfc3339 = z
  .string()
  .regex(RFC3339_PATTERN, { message: 'must be an RFC 3339 date-time, e.g. 2026-01-01T12:00:00+02:00', abort: true })
  // Its UTC instant must also be writable in canonical form (years 0000–9999), as ingest requires.
  .refine((s) => toCanonicalTimestamp(s) !== undefined, { message: 'must be a valid calendar date and time (UTC years 0000-9999)' });

/** A UTC instant at second precision (`2026-01-01T00:00:00Z`). */
export const utcSecond = z
  .string()
  .regex(UTC_SECOND_PATTERN, { message: 'must be a UTC instant at second precision, e.g. 2026-01-01T00:00:00Z', abort: true })
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be a valid calendar date and time' });

/** A UTC instant in canonical form (`…Z`, optional fraction of 1–9 digits). */
export const utcTimestamp = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/, { message: 'must be a UTC RFC 3339 instant ending in Z', abort: true })
  .refine((s) => parseRfc3339(s) !== undefined, { message: 'must be a valid calendar date and time' });

/** A UTC day, `YYYY-MM-DD`. */
export const day = z
  .string()
  .regex(DAY_PATTERN, { message: 'must be a day YYYY-MM-DD', abort: true })
  .refine(isValidDay, { message: 'must be a valid calendar day' });

/** Lowercase hex SHA-256. */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 lowercase hex characters (SHA-256)' });

/** A non-negative integer count. */
export const count = z.int().min(0);

/** Half-open artifact window `[start, end)`, second-precision UTC. */
export const windowSchema = z
  .strictObject({ start: utcSecond, end: utcSecond })
  .refine((w) => w.start < w.end, { message: 'window.start must be before window.end', path: ['end'] });

/**
 * A `manifest.current` key: `<type>` for the default segment,
 * `<type>@<segment>` otherwise (the segment a path segment other than
 * `default`). Same rule as `parseManifestKey`.
 */
export const manifestKeySchema = z
  .string()
  .regex(new RegExp(`^[a-z][a-z0-9_]{0,63}(?:@${SEGMENT})?$`), {
    message: 'must be "<type>" or "<type>@<segment>" (segment: 1-128 characters from [A-Za-z0-9._-], not "." or "..")',
    abort: true,
  })
  .refine((key) => !key.endsWith(`@${DEFAULT_SEGMENT}`), {
    message: `the default segment is keyed by the bare type, not "<type>@${DEFAULT_SEGMENT}"`,
  })
  .meta({ not: { pattern: `@${DEFAULT_SEGMENT}$` } });

/**
 * URI of a published blob: `s3://<bucket>/<key>` or `file://<path>`. Our
 * producers write `file://` + an absolute path (`file:///…`); the Go
 * implementation writes `file://` + its object-store directory as configured,
 * which may be relative (`file://.out/objectstore/…`), so that form parses too.
 */
export const blobUri = z
  .string()
  .regex(/^(?:file:\/\/|s3:\/\/[a-z0-9][a-z0-9.-]{1,62}\/)\S+$/, { message: 'must be a file://<path> or s3://<bucket>/<key> URI' });

/** The pointer map of a manifest. */
export const currentMap = z.record(manifestKeySchema, blobUri);
