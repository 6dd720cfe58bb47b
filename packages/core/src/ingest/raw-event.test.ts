import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CanonicalExposureSchema, RawExposureEventV1Schema, isValidPathSegment } from '@recsys/contracts';
import { REJECT_REASONS, canonicalLine, checkRawEvent, type RejectReason } from '../internal.js';

const good = { v: 1, ts: '2026-01-01T12:00:00+02:00', tenant: 'demo', surface: 'home', session_id: 's1', item_id: 'A' };

describe('checkRawEvent reasons', () => {
  const cases: [string, unknown, RejectReason][] = [
    ['null', null, 'not_an_object'],
    ['an array', [good], 'not_an_object'],
    ['a string', 'event', 'not_an_object'],
    ['a number', 1, 'not_an_object'],
    ['an unknown field', { ...good, price: 3 }, 'unknown_field'],
    ['an unknown field even when otherwise invalid', { v: 2, extra: true }, 'unknown_field'],
    ['v missing', { ...good, v: undefined }, 'missing_field'],
    ['v = 2', { ...good, v: 2 }, 'unsupported_version'],
    ['v = "1"', { ...good, v: '1' }, 'unsupported_version'],
    ['v = 1.5', { ...good, v: 1.5 }, 'unsupported_version'],
    ['tenant missing', { ...good, tenant: undefined }, 'missing_field'],
    ['surface missing', { ...good, surface: undefined }, 'missing_field'],
    ['session_id missing', { ...good, session_id: undefined }, 'missing_field'],
    ['item_id missing', { ...good, item_id: undefined }, 'missing_field'],
    ['ts missing', { ...good, ts: undefined }, 'missing_field'],
    ['item_id a number', { ...good, item_id: 7 }, 'invalid_type'],
    ['session_id null', { ...good, session_id: null }, 'invalid_type'],
    ['user_id a number', { ...good, user_id: 7 }, 'invalid_type'],
    ['request_id an object', { ...good, request_id: {} }, 'invalid_type'],
    ['item_id empty', { ...good, item_id: '' }, 'empty_field'],
    ['session_id blank', { ...good, session_id: ' \t ' }, 'empty_field'],
    ['tenant a no-break space', { ...good, tenant: '\u00a0' }, 'empty_field'],
    ['ts a number', { ...good, ts: 1767225600 }, 'invalid_timestamp'],
    ['ts without offset', { ...good, ts: '2026-01-01T00:00:00' }, 'invalid_timestamp'],
    ['ts with a space separator', { ...good, ts: '2026-01-01 00:00:00Z' }, 'invalid_timestamp'],
    ['ts on Feb 30', { ...good, ts: '2026-02-30T00:00:00Z' }, 'invalid_timestamp'],
    ['ts at hour 24', { ...good, ts: '2026-01-01T24:00:00Z' }, 'invalid_timestamp'],
    ['ts with a 10-digit fraction', { ...good, ts: '2026-01-01T00:00:00.1234567890Z' }, 'invalid_timestamp'],
    ['ts a date only', { ...good, ts: '2026-01-01' }, 'invalid_timestamp'],
    ['rank negative', { ...good, rank: -1 }, 'negative_rank'],
    ['rank a fraction', { ...good, rank: 1.5 }, 'invalid_rank'],
    ['rank a string', { ...good, rank: '1' }, 'invalid_rank'],
    ['rank beyond 2^53', { ...good, rank: 2 ** 53 }, 'invalid_rank'],
    ['rank null', { ...good, rank: null }, 'invalid_rank'],
  ];

  test.each(cases)('%s → %s', (_name, value, reason) => {
    const input = value !== null && typeof value === 'object' && !Array.isArray(value) ? JSON.parse(JSON.stringify(value)) : value;
    const result = checkRawEvent(input);
    expect(result).toMatchObject({ ok: false, reason });
    expect(result.ok === false && result.detail.length).toBeGreaterThan(0);
  });

  test('every reason checkRawEvent can return is in REJECT_REASONS and has a case above', () => {
    const covered = new Set(cases.map(([, , r]) => r));
    // The line-level reasons come from the line splitter and JSON.parse, not from checkRawEvent.
    // `invalid_response` is a record-level reason of database sources (a row whose response has the wrong shape).
    const lineLevel: RejectReason[] = ['line_too_long', 'invalid_utf8', 'invalid_json', 'invalid_response'];
    expect([...covered, ...lineLevel].sort()).toEqual([...REJECT_REASONS].sort());
  });
});

describe('checkRawEvent normalisation', () => {
  test('trims ids, converts ts to UTC Z keeping the fraction, omits blank optional fields', () => {
    const result = checkRawEvent({ ...good, ts: '2026-01-01T01:30:00.120+02:00', tenant: ' demo ', item_id: '\tA\n', user_id: '  ', request_id: ' r1 ', rank: 0 });
    expect(result).toEqual({
      ok: true,
      event: { ts: '2025-12-31T23:30:00.120Z', tenant: 'demo', surface: 'home', session_id: 's1', item_id: 'A', request_id: 'r1', rank: 0 },
      secondsMs: Date.parse('2025-12-31T23:30:00Z'),
      nanos: 120_000_000,
    });
  });

  test('lower-case t and z are accepted and normalised', () => {
    expect(checkRawEvent({ ...good, ts: '2026-01-01t00:00:00.5z' })).toMatchObject({ ok: true, event: { ts: '2026-01-01T00:00:00.5Z' } });
  });

  test('canonicalLine has a fixed key order and omits absent optional fields', () => {
    const r = checkRawEvent({ rank: 3, user_id: 'u', item_id: 'A', session_id: 's', surface: 'home', tenant: 'demo', ts: '2026-01-01T00:00:00Z', v: 1 });
    expect(r.ok && canonicalLine(r.event)).toBe('{"v":1,"ts":"2026-01-01T00:00:00Z","tenant":"demo","surface":"home","session_id":"s","item_id":"A","user_id":"u","rank":3}');
  });
});

// ---------------------------------------------------------------------------
// Property: checkRawEvent is a hand-written fast path of the contract's zod
// schema. It must accept exactly the objects RawExposureEventV1Schema accepts.

const ALLOWED = ['v', 'ts', 'tenant', 'surface', 'session_id', 'item_id', 'user_id', 'request_id', 'rank'] as const;

const pad2 = (n: number) => String(n).padStart(2, '0');
/** RFC 3339-looking timestamps around every rule's edge (calendar, hour 24, offsets, fraction length, case, year range). */
const timestampArb = fc.oneof(
  fc
    .record({
      year: fc.oneof(fc.constantFrom(0, 1900, 2000, 2024, 2026, 2100, 9999), fc.integer({ min: 0, max: 9999 })),
      month: fc.integer({ min: 0, max: 13 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 60 }),
      second: fc.integer({ min: 0, max: 61 }),
      fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,10}$/), fc.constant('.')),
      zone: fc.oneof(fc.constantFrom('Z', 'z', '+00:00', '-00:00', '+23:59', '-23:59', '+24:00', '+01:60', '+0100', ''), fc.stringMatching(/^[+-]\d{2}:\d{2}$/)),
      t: fc.constantFrom('T', 't', ' '),
    })
    .map(({ year, month, day, hour, minute, second, fraction, zone, t }) => `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}${t}${pad2(hour)}:${pad2(minute)}:${pad2(second)}${fraction}${zone}`),
  fc.constantFrom('0000-01-01T00:30:00+01:00', '9999-12-31T23:30:00-01:00', '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '2026-01-01T00:00:60Z', ''),
  fc.string(),
);

/** Valid instants written with assorted offsets and fractions. */
const validTimestampArb = fc
  .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), fc.constantFrom('Z', '+02:00', '-05:30', 'z'), fc.constantFrom('', '.1', '.123456789'))
  .map(([d, zone, fraction]) => d.toISOString().slice(0, 19) + fraction + zone);

const idArb = fc.oneof(fc.constantFrom('', ' ', '\t', '\u00a0', '\u2028', '\ufeff', '\u200b', 'A', ' A ', 'a/b', '..'), fc.string(), fc.string({ unit: 'binary' }));

const valueArb = (key: (typeof ALLOWED)[number]): fc.Arbitrary<unknown> => {
  const junk = fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
  switch (key) {
    case 'v':
      return fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2, 1.0000001, '1', true, -1, null) }, { weight: 1, arbitrary: junk });
    case 'ts':
      return fc.oneof({ weight: 6, arbitrary: validTimestampArb }, { weight: 6, arbitrary: timestampArb }, { weight: 1, arbitrary: junk });
    case 'rank':
      return fc.oneof(fc.integer({ min: -3, max: 1000 }), fc.constantFrom(0, -0, 1.5, -1, 2 ** 53, 2 ** 53 - 1, Number.MAX_VALUE, '3', null), junk);
    default:
      return fc.oneof({ weight: 8, arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,8}$/) }, { weight: 4, arbitrary: idArb }, { weight: 1, arbitrary: junk });
  }
};

/** Objects that are mostly well-formed events, with every field sometimes missing, wrong, or joined by an unknown one. */
const eventLikeArb = fc
  .record(
    {
      present: fc.record(Object.fromEntries(ALLOWED.map((k) => [k, fc.boolean()])) as Record<(typeof ALLOWED)[number], fc.Arbitrary<boolean>>),
      values: fc.record(Object.fromEntries(ALLOWED.map((k) => [k, valueArb(k)])) as Record<(typeof ALLOWED)[number], fc.Arbitrary<unknown>>),
      required: fc.boolean(),
      extra: fc.option(fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'V', 'ts ', 'price'), fc.string()), fc.jsonValue()), { freq: 6 }),
    },
  )
  .map(({ present, values, required, extra }) => {
    const out: Record<string, unknown> = {};
    for (const key of ALLOWED) {
      const isRequired = key !== 'user_id' && key !== 'request_id' && key !== 'rank';
      if ((required && isRequired) || present[key]) out[key] = values[key];
    }
    // Built through JSON so that `__proto__` becomes an own property, exactly as JSON.parse produces it.
    let json = JSON.stringify(out);
    if (extra !== null) json = json.slice(0, -1) + (json.length > 2 ? ',' : '') + `${JSON.stringify(extra[0])}:${JSON.stringify(extra[1])}}`;
    return JSON.parse(json) as unknown;
  });

const anyJsonArb = fc.oneof({ weight: 10, arbitrary: eventLikeArb }, { weight: 1, arbitrary: fc.jsonValue() });

describe('checkRawEvent agrees with RawExposureEventV1Schema', () => {
  test('property: accepted by checkRawEvent ⇔ accepted by the zod schema', () => {
    fc.assert(
      fc.property(anyJsonArb, (value) => {
        const ours = checkRawEvent(value).ok;
        const contract = RawExposureEventV1Schema.safeParse(value).success;
        expect(ours, JSON.stringify(value)).toBe(contract);
      }),
      { numRuns: 3000 },
    );
  });

  test('property: an accepted event whose tenant/surface are path segments yields a valid canonical line', () => {
    fc.assert(
      fc.property(eventLikeArb, (value) => {
        const result = checkRawEvent(value);
        if (!result.ok || !isValidPathSegment(result.event.tenant) || !isValidPathSegment(result.event.surface)) return;
        const line = canonicalLine(result.event);
        const parsed = CanonicalExposureSchema.safeParse(JSON.parse(line));
        expect(parsed.success, line).toBe(true);
        // The canonical line is a fixed point: checking it again gives the same event.
        expect(checkRawEvent(JSON.parse(line))).toEqual(result);
      }),
      { numRuns: 2000 },
    );
  });

  test('the generators reach both outcomes and every object-level reason', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(anyJsonArb, (value) => {
        const r = checkRawEvent(value);
        seen.add(r.ok ? 'ok' : r.reason);
      }),
      { numRuns: 3000, seed: 42 },
    );
    expect([...seen].sort()).toEqual(['empty_field', 'invalid_rank', 'invalid_timestamp', 'invalid_type', 'missing_field', 'negative_rank', 'not_an_object', 'ok', 'unknown_field', 'unsupported_version']);
  });
});
