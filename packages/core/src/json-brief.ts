/**
 * A short description of a parsed JSON value, for reject details. Never
 * recursive and never longer than about `max` characters: a raw line may hold
 * a value nested hundreds of thousands of levels deep (which `JSON.parse`
 * accepts but `JSON.stringify` overflows the stack on) or a 1 MiB string, and
 * one such line must end in quarantine, not abort the day. The full line is
 * kept in the quarantine record's `raw` field anyway.
 * @since 0.1.0
 */
export function briefJson(value: unknown, max = 64): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (value !== null && typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = JSON.stringify(value.length > max ? value.slice(0, max) : value);
    return value.length > max ? `${text.slice(0, -1)}…"` : text;
  }
  // number, boolean, null; undefined only when a caller passes a missing value.
  return value === undefined ? 'undefined' : String(JSON.stringify(value));
}
