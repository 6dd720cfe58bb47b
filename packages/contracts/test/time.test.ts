import { describe, expect, it } from 'vitest';
import { formatUtcSeconds, isValidDay, parseRfc3339, toCanonicalTimestamp } from '../src/index.js';

describe('toCanonicalTimestamp (RFC 3339 → UTC Z, sub-second digits kept)', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ['2026-01-01t00:00:00z', '2026-01-01T00:00:00Z'],
    ['2026-01-01T02:30:00+02:30', '2026-01-01T00:00:00Z'],
    ['2026-01-01T00:15:00+05:45', '2025-12-31T18:30:00Z'],
    ['2025-12-31T19:00:00-05:00', '2026-01-01T00:00:00Z'],
    ['2026-01-01T00:00:00-00:00', '2026-01-01T00:00:00Z'],
    ['2026-01-01T23:59:59+23:59', '2026-01-01T00:00:59Z'],
    ['2026-01-01T00:00:00.1Z', '2026-01-01T00:00:00.1Z'],
    ['2026-01-01T00:00:00.120Z', '2026-01-01T00:00:00.120Z'],
    ['2026-01-01T00:00:00.123456Z', '2026-01-01T00:00:00.123456Z'],
    ['2026-01-01T01:00:00.123456789+01:00', '2026-01-01T00:00:00.123456789Z'],
    ['2024-03-01T00:30:00+01:00', '2024-02-29T23:30:00Z'],
    ['2023-03-01T00:30:00+01:00', '2023-02-28T23:30:00Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00Z'],
    ['0050-06-15T12:00:00Z', '0050-06-15T12:00:00Z'],
    ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00Z'],
    ['9999-12-31T23:59:59.999999999Z', '9999-12-31T23:59:59.999999999Z'],
  ])('%s → %s', (input, canonical) => {
    expect(toCanonicalTimestamp(input)).toBe(canonical);
  });

  it.each([
    ['2026-02-30T00:00:00Z', 'Feb 30'],
    ['2025-02-29T00:00:00Z', 'Feb 29 of a common year'],
    ['1900-02-29T00:00:00Z', 'Feb 29 of a century non-leap year'],
    ['2026-04-31T00:00:00Z', 'April 31'],
    ['2026-13-01T00:00:00Z', 'month 13'],
    ['2026-00-10T00:00:00Z', 'month 0'],
    ['2026-01-00T00:00:00Z', 'day 0'],
    ['2026-01-01T24:00:00Z', 'hour 24'],
    ['2026-01-01T23:60:00Z', 'minute 60'],
    ['2026-12-31T23:59:60Z', 'leap second'],
    ['2026-01-01T00:00:00+24:00', 'offset hour 24'],
    ['2026-01-01T00:00:00+01:60', 'offset minute 60'],
    ['2026-01-01T00:00:00+0100', 'offset without colon'],
    ['2026-01-01T00:00:00', 'no offset'],
    ['2026-01-01 00:00:00Z', 'space separator'],
    ['2026-01-01T00:00:00.Z', 'empty fraction'],
    ['2026-01-01T00:00:00.1234567890Z', '10-digit fraction'],
    ['2026-01-01T00:00:00,5Z', 'comma fraction'],
    ['2026-1-01T00:00:00Z', 'one-digit month'],
    ['+2026-01-01T00:00:00Z', 'expanded year'],
    ['2026-01-01', 'date only'],
    ['', 'empty'],
    ['0000-01-01T00:30:00+01:00', 'UTC instant before year 0000'],
    ['9999-12-31T23:30:00-01:00', 'UTC instant after year 9999'],
  ])('rejects %s (%s)', (input) => {
    expect(toCanonicalTimestamp(input)).toBeUndefined();
  });
});

describe('parseRfc3339', () => {
  it('returns the whole-second epoch and the verbatim fraction', () => {
    expect(parseRfc3339('2026-01-01T00:00:00.5+01:00')).toEqual({ epochSecondsMs: Date.UTC(2025, 11, 31, 23), fraction: '.5' });
    expect(parseRfc3339('1970-01-01T00:00:00Z')).toEqual({ epochSecondsMs: 0, fraction: '' });
  });

  it('agrees with Date for years before 100 (no 19xx mapping)', () => {
    expect(parseRfc3339('0050-01-01T00:00:00Z')?.epochSecondsMs).toBe(new Date('0050-01-01T00:00:00Z').getTime());
  });

  it('orders instants across offsets', () => {
    const a = parseRfc3339('2026-01-01T00:00:00+01:00')!;
    const b = parseRfc3339('2025-12-31T23:30:00Z')!;
    expect(a.epochSecondsMs).toBeLessThan(b.epochSecondsMs);
  });
});

describe('formatUtcSeconds', () => {
  it('truncates to whole seconds', () => {
    expect(formatUtcSeconds(Date.UTC(2026, 0, 1, 0, 0, 0, 999))).toBe('2026-01-01T00:00:00Z');
    expect(formatUtcSeconds(-1)).toBe('1969-12-31T23:59:59Z');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Date.UTC(10000, 0, 1), new Date('-000001-12-31T23:59:59Z').getTime()])('throws RangeError for %s', (ms) => {
    expect(() => formatUtcSeconds(ms)).toThrow(RangeError);
  });
});

describe('isValidDay', () => {
  it.each([
    ['2024-02-29', true],
    ['2000-02-29', true],
    ['2026-12-31', true],
    ['2025-02-29', false],
    ['2100-02-29', false],
    ['2026-02-30', false],
    ['2026-1-1', false],
    ['2026-01-01T00:00:00Z', false],
  ])('%s → %s', (day, valid) => {
    expect(isValidDay(day)).toBe(valid);
  });
});
