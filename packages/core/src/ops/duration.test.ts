import { describe, expect, test } from 'vitest';
import { RecsysError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  test.each([
    ['26h', 26 * 3_600_000],
    ['90m', 90 * 60_000],
    ['2d', 2 * 86_400_000],
    ['1h30m', 90 * 60_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['1w', 7 * 86_400_000],
    ['1.5h', 90 * 60_000],
    [' 0s ', 0],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration('--max-age', text)).toBe(ms);
  });

  test.each(['', '30', 'h', '26 h', '1y', '-1h', '1h-', 'abc'])('%j is a usage error naming the flag', (text) => {
    let error: unknown;
    try {
      parseDuration('--older-than', text);
    } catch (e) {
      error = e;
    }
    expect(RecsysError.isInstance(error) && error.kind).toBe('usage');
    expect((error as Error).message).toMatch(/^--older-than .* is not a duration/);
  });
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [42_000, '42s'],
    [5 * 60_000 + 3000, '5m 3s'],
    [26 * 3_600_000 + 5 * 60_000, '1d 2h'],
    [-90_000, '-1m 30s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
