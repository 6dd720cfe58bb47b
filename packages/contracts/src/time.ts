/**
 * RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
 * @since 0.1.0
 */
export const RFC3339_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * A UTC instant at second precision, e.g. `2026-01-01T00:00:00Z` (artifact windows).
 * @since 0.1.0
 */
export const UTC_SECOND_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A UTC day, `YYYY-MM-DD`. @since 0.1.0 */
export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** A parsed RFC 3339 timestamp. @since 0.1.0 */
export interface ParsedTimestamp {
  /** Milliseconds since the epoch of the whole-second part (fraction excluded). */
  readonly epochSecondsMs: number;
  /** The fraction as written, including the dot (`.123`), or `''`. */
  readonly fraction: string;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Milliseconds since the epoch of `year-month-day 00:00Z`, valid for every year (unlike `Date.UTC`, which maps years 0–99 to 1900–1999). */
function epochDayMs(year: number, month: number, day: number): number {
  // Days from civil date, proleptic Gregorian calendar (H. Hinnant's algorithm).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return (era * 146_097 + doe - 719_468) * 86_400_000;
}

/** First and last whole seconds expressible as a four-digit-year RFC 3339 timestamp. */
const MIN_EPOCH_MS = epochDayMs(0, 1, 1);
const MAX_EPOCH_MS = epochDayMs(9999, 12, 31) + 86_399_000;

/**
 * Parses an RFC 3339 date-time, keeping the fraction verbatim so that
 * sub-second precision (up to nanoseconds) survives normalisation.
 * Returns `undefined` for anything that is not a valid RFC 3339 instant:
 * a bad calendar date (Feb 30, Feb 29 of a common year), hour 24, a leap
 * second (`:60`), an offset beyond ±23:59, or a fraction of more than 9 digits.
 * @since 0.1.0
 */
export function parseRfc3339(value: string): ParsedTimestamp | undefined {
  // Hand-rolled (same language as RFC3339_PATTERN): this runs once per event on the ingest hot path.
  const len = value.length;
  if (len < 20) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  const t = value.charCodeAt(10);
  if (
    year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 ||
    value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 || (t !== 84 && t !== 116) ||
    value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58
  ) {
    return undefined;
  }
  let i = 19;
  let fraction = '';
  if (value.charCodeAt(i) === 46) {
    let j = i + 1;
    while (j < len && isDigit(value.charCodeAt(j))) j++;
    if (j - i - 1 < 1 || j - i - 1 > 9) return undefined;
    fraction = value.slice(i, j);
    i = j;
  }
  let offsetMinutes = 0;
  const z = value.charCodeAt(i);
  if (z === 90 || z === 122) {
    if (i !== len - 1) return undefined;
  } else if ((z === 43 || z === 45) && len - i === 6 && value.charCodeAt(i + 3) === 58) {
    const oh = digits(value, i + 1, 2);
    const om = digits(value, i + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return undefined;
    offsetMinutes = (oh * 60 + om) * (z === 45 ? -1 : 1);
  } else {
    return undefined;
  }
  if (month < 1 || month > 12 || day < 1) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const maxDay = month === 2 && !leap ? 28 : DAYS_IN_MONTH[month - 1]!;
  if (day > maxDay || hour > 23 || minute > 59 || second > 59) return undefined;
  const epochSecondsMs = epochDayMs(year, month, day) + ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000;
  return { epochSecondsMs, fraction };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** The value of `n` ASCII digits at `at`, or -1 if any is not a digit. */
function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let k = at; k < at + n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/**
 * Converts an RFC 3339 timestamp to its canonical UTC form
 * (`2026-01-01T00:00:00.123Z`), keeping the original sub-second digits.
 * Returns `undefined` when the input is not RFC 3339, or when its UTC
 * instant falls outside years 0000–9999 (e.g. `0000-01-01T00:30:00+01:00`).
 * @since 0.1.0
 */
export function toCanonicalTimestamp(value: string): string | undefined {
  return canonicalTimestampParts(value)?.ts;
}

/** A canonical timestamp with its instant, as {@link canonicalTimestampParts} returns it. @since 0.1.0 */
export interface CanonicalTimestampParts extends ParsedTimestamp {
  /** Canonical UTC form, e.g. `2026-01-01T00:00:00.123Z`. */
  readonly ts: string;
}

/**
 * {@link toCanonicalTimestamp} plus the parsed instant, in one parse (the
 * ingest hot path needs both).
 * @since 0.1.0
 */
export function canonicalTimestampParts(value: string): CanonicalTimestampParts | undefined {
  const parsed = parseRfc3339(value);
  if (!parsed || parsed.epochSecondsMs < MIN_EPOCH_MS || parsed.epochSecondsMs > MAX_EPOCH_MS) return undefined;
  // Already canonical (UTC, upper-case T and Z): the common case, no reformatting.
  const ts = value.charCodeAt(10) === 84 && value.charCodeAt(value.length - 1) === 90 ? value : formatUtcSeconds(parsed.epochSecondsMs).slice(0, -1) + parsed.fraction + 'Z';
  return { ts, epochSecondsMs: parsed.epochSecondsMs, fraction: parsed.fraction };
}

/**
 * Formats epoch milliseconds as a second-precision UTC instant
 * (`…T00:00:00Z`), truncating any sub-second part.
 * @throws RangeError when `epochMs` is not finite or outside years 0000–9999.
 * @since 0.1.0
 */
export function formatUtcSeconds(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs < MIN_EPOCH_MS || epochMs >= MAX_EPOCH_MS + 1000) {
    throw new RangeError(`instant out of range for an RFC 3339 timestamp: ${epochMs}`);
  }
  const iso = new Date(Math.floor(epochMs / 1000) * 1000).toISOString();
  return iso.slice(0, 19) + 'Z';
}

/** True for a real calendar day written `YYYY-MM-DD`. @since 0.1.0 */
export function isValidDay(value: string): boolean {
  return DAY_PATTERN.test(value) && parseRfc3339(`${value}T00:00:00Z`) !== undefined;
}
