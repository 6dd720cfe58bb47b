import { UsageError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Parses a duration flag such as `26h`, `90m`, `2d`, `1h30m` or `45s` into
 * milliseconds. A bare number is refused: `30` could mean seconds or days,
 * and guessing wrong on a gc flag deletes data.
 * @since 0.1.0
 */
export function parseDuration(flag: string, value: string): number {
  const text = value.trim();
  let total = 0;
  let consumed = 0;
  PART.lastIndex = 0;
  for (let m = PART.exec(text); m !== null; m = PART.exec(text)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    consumed = PART.lastIndex;
  }
  if (text === '' || consumed !== text.length || !Number.isFinite(total)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration: use a number with a unit, e.g. 26h, 90m, 2d, 1h30m (units ms, s, m, h, d, w)`, { flag, value });
  }
  return Math.round(total);
}

/**
 * Formats milliseconds for humans: `1d 2h`, `5m 3s`, `42s` (the two largest units).
 * @since 0.1.0
 */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms / 1000));
  if (rest < 60) return `${sign}${rest}s`;
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (parts.length < 2 && rest > 0) parts.push(`${rest}s`);
  return sign + parts.slice(0, 2).join(' ');
}
