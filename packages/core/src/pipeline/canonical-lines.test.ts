import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { canonicalLine, checkRawEvent, type CanonicalEvent } from '../ingest/raw-event.js';
import { CanonicalLineParser, LineBlocks, forEachLine } from './canonical-lines.js';

const scope = { tenant: 'shop', surface: 'home' };
const day = '2026-01-01';

/** The full path's verdict: the event when the line is the canonical line of an event of this scope and day. */
function full(text: string): CanonicalEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = checkRawEvent(parsed);
  if (!r.ok || canonicalLine(r.event) !== text) return undefined;
  if (r.event.tenant !== scope.tenant || r.event.surface !== scope.surface || !r.event.ts.startsWith(day)) return undefined;
  return r.event;
}

const id = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,12}$/),
  fc.string({ minLength: 0, maxLength: 6, unit: fc.constantFrom('a', ' ', '"', '\\', '\u00a0', 'é', '\u2028', '\u0001', '😀', '}', ',', ':') }),
);
const ts = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.integer({ min: 0, max: 61 }), fc.stringMatching(/^(\.[0-9]{0,10})?$/)).map(
    ([h, m, s, f]) => `${day}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${f}Z`,
  ),
  fc.constantFrom('2026-01-02T00:00:00Z', '2026-01-01t00:00:00Z', '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00.5z', '2026-01-01T00:00:00'),
);
const tenant = fc.constantFrom('shop', 'other', 'shop ');
const rank = fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.constantFrom(-1, 0.5, 2 ** 53));

/** Lines built by hand (not through canonicalLine), so some are canonical and many are not. */
const handLine = fc.record({ ts, tenant, session: id, item: id, user: fc.option(id, { nil: undefined }), request: fc.option(id, { nil: undefined }), rank }).map((e) => {
  let s = `{"v":1,"ts":"${e.ts}","tenant":"${e.tenant}","surface":"home","session_id":"${e.session}","item_id":"${e.item}"`;
  if (e.user !== undefined) s += `,"user_id":"${e.user}"`;
  if (e.request !== undefined) s += `,"request_id":"${e.request}"`;
  if (e.rank !== undefined) s += `,"rank":${e.rank}`;
  return s + '}';
});

/** Canonical lines of valid events, some of which the fast path leaves to the full path (escapes). */
const canonical = fc
  .record({ ts, session: id, item: id, user: fc.option(id, { nil: undefined }), request: fc.option(id, { nil: undefined }), rank: fc.option(fc.integer({ min: 0, max: 2 ** 53 - 1 }), { nil: undefined }) })
  .map((e) => checkRawEvent({ v: 1, ts: e.ts, tenant: 'shop', surface: 'home', session_id: e.session, item_id: e.item, user_id: e.user, request_id: e.request, rank: e.rank }))
  .filter((r) => r.ok)
  .map((r) => canonicalLine((r as { event: CanonicalEvent }).event));

describe('fast canonical line parser', () => {
  test('accepts a line only when the full path accepts it, with the same event', () => {
    const parser = new CanonicalLineParser(scope, day);
    fc.assert(
      fc.property(fc.oneof(handLine, canonical, fc.string()), (text) => {
        if (!parser.parse(text)) return;
        expect(full(text)).toEqual(parser.event(scope));
      }),
      { numRuns: 5000 },
    );
  });

  test('takes plain canonical lines (no escapes) itself', () => {
    const parser = new CanonicalLineParser(scope, day);
    fc.assert(
      fc.property(canonical, (text) => {
        const event = full(text);
        // eslint-disable-next-line no-control-regex -- lines with escapes or controls take the full path
        if (!event || /[\\\u0000-\u001f]/.test(text)) return;
        expect(parser.parse(text)).toBe(true);
        expect(parser.event(scope)).toEqual(event);
      }),
      { numRuns: 3000 },
    );
  });

  test('refuses near misses the full path refuses', () => {
    const parser = new CanonicalLineParser(scope, day);
    const ok = '{"v":1,"ts":"2026-01-01T10:00:00.5Z","tenant":"shop","surface":"home","session_id":"s1","item_id":"i1","rank":3}';
    expect(parser.parse(ok)).toBe(true);
    for (const bad of [
      ok.replace('"v":1', '"v":2'),
      ok.replace('10:00', '24:00'),
      ok.replace('.5Z', '.Z'),
      ok.replace('"rank":3', '"rank":03'),
      ok.replace('"s1"', '" s1"'),
      ok.replace('"i1"', '""'),
      ok.replace('"shop"', '"shop2"'),
      ok.replace('2026-01-01T', '2026-01-02T'),
      ok + ' ',
      ok.replace(',"rank":3', ',"rank":3,"x":1'),
      ok.replace('"item_id":"i1",', '"item_id":"i1","user_id":"",'),
    ]) {
      expect(parser.parse(bad), bad).toBe(false);
    }
  });
});

describe('line blocks', () => {
  test('every line once, numbered, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'é', '😀', '\r') }), { maxLength: 20 }), fc.boolean(), fc.integer({ min: 1, max: 9 }), (lines, finalNewline, size) => {
        const text = lines.join('\n') + (finalNewline && lines.length > 0 ? '\n' : '');
        const bytes = new TextEncoder().encode(text);
        const blocks = new LineBlocks();
        const seen: [string, number][] = [];
        const take = (b: ReturnType<LineBlocks['push']>) => {
          if (!b) return;
          if ('problem' in b) throw new Error(b.problem);
          blocks.lineNo += forEachLine(b.text, blocks.lineNo + 1, (l, n) => seen.push([l, n]));
        };
        for (let at = 0; at < bytes.length; at += size) take(blocks.push(bytes.subarray(at, at + size)));
        take(blocks.end());
        const parts = text.split('\n');
        if (parts.at(-1) === '') parts.pop();
        const expected = parts.map((l, i) => [l, i + 1]);
        expect(seen).toEqual(expected);
      }),
    );
  });

  test('names the line that is not UTF-8', () => {
    const blocks = new LineBlocks();
    const bytes = new Uint8Array([...new TextEncoder().encode('ok\nok\n'), 0xff, 10]);
    expect(blocks.push(bytes)).toEqual({ lineNo: 3, problem: 'invalid_utf8' });
  });
});
