import { isValidDay } from '@recsys/contracts';
import { UsageError } from './errors.js';

const DAY_MS = 86_400_000;

/** Epoch milliseconds of a day's 00:00Z. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The UTC day of an epoch millisecond. */
export function dayOfMs(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The following UTC day. */
export function nextDay(day: string): string {
  return dayOfMs(dayStartMs(day) + DAY_MS);
}

/** The artifact window of a day: `[D 00:00Z, D+1 00:00Z)`. @since 0.1.0 */
export function dayWindow(day: string): { start: string; end: string } {
  return { start: `${day}T00:00:00Z`, end: `${nextDay(day)}T00:00:00Z` };
}

/** Validates a `--start`/`--end` style day, naming the flag on error. @since 0.1.0 */
export function parseDayFlag(flag: string, value: string): string {
  if (!isValidDay(value)) {
    // Right shape but no such date (2026-02-30, 2026-13-01): say so rather than repeat the format.
    const shaped = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (shaped) {
      const [, y, m, d] = shaped.map(Number) as [number, number, number, number];
      const last = m >= 1 && m <= 12 ? new Date(Date.UTC(y, m, 0)).getUTCDate() : undefined;
      if (last === undefined) throw new UsageError(`${flag} ${value} is not a calendar date (there is no month ${shaped[2]})`, { flag, value });
      if (d < 1 || d > last) throw new UsageError(`${flag} ${value} is not a calendar date (${shaped[1]}-${shaped[2]} has ${last} days)`, { flag, value });
    }
    throw new UsageError(`${flag} must be a UTC day YYYY-MM-DD (got ${JSON.stringify(value)})`, { flag, value });
  }
  return value;
}

/** Every day from `start` to `end`, inclusive. @since 0.1.0 */
export function daysInRange(start: string, end: string): string[] {
  const out: string[] = [];
  for (let ms = dayStartMs(start), stop = dayStartMs(end); ms <= stop; ms += DAY_MS) out.push(dayOfMs(ms));
  return out;
}
