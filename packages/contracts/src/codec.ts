/**
 * The zod-free part of `@recsys/contracts`: RFC 3339 timestamps as the
 * contracts read and write them, and the Go implementation's JSON escaping.
 * The same functions as the main entry's; this entry loads none of the
 * schemas, for hot paths that start often (worker threads, short-lived
 * processes) and need only these.
 * @packageDocumentation
 */
export {
  DAY_PATTERN,
  RFC3339_PATTERN,
  UTC_SECOND_PATTERN,
  formatUtcSeconds,
  isValidDay,
  parseRfc3339,
  toCanonicalTimestamp,
  canonicalTimestampParts,
  type CanonicalTimestampParts,
  type ParsedTimestamp,
} from './time.js';
export { goEscapeJson } from './serialize.js';
