// The byte scanner is a shortcut for the JSON.parse + checkRawEvent path: on
// any line, parsing a chunk with it must give exactly what parsing without it
// gives (canonical bytes, fingerprints, ids, instants, rejects and their
// details, counts). The generators build raw lines of every shape the
// scanner may meet (key order, whitespace, number spellings, escapes,
// non-ASCII, padded and empty ids, timestamps of every form, unknown and
// repeated keys) and then mutate bytes at random.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { NO_USER } from '../compute/event-table.js';
import { LocalDictionary, parseChunk, type ChunkContext, type ChunkResult } from './chunk-parser.js';
import { FP, fingerprintBytes } from './fingerprint-set.js';
import { canonicalLine, checkRawEvent } from './raw-event.js';
import { RawScan, scanCanonicalLine, scanRawLine } from './raw-scanner.js';

const DAY = '2026-03-01';
const ctx: ChunkContext = { stream: 'scanner-test', tenant: 'bench', surface: 'web', day: DAY, fpKey: [0x01234567, 0x89abcdef] };
const encoder = new TextEncoder();

/** JSON texts of a value (the token as written in the raw line). */
const idToken = fc.oneof(
  { weight: 24, arbitrary: fc.stringMatching(/^[A-Za-z0-9_:.-]{1,12}$/).map((s) => JSON.stringify(s)) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('""', '" "', '" a"', '"a "', '"a b"', '"é"', '"\\u00e9"', '"a\\"b"', '"a\\\\b"', '"\\ud800"', '"\\/x"', '"a\\tb"', '"\u2028"', '"\u00a0a"', '"\x7f"', '"\\u0041"', '"~!@#$%^&*()"'),
  },
  { weight: 1, arbitrary: fc.constantFrom('1', 'null', 'true', '[]', '{}', '"a', 'a"') },
);
const plainTs = fc
  .record({ h: fc.integer({ min: 0, max: 23 }), m: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }), frac: fc.oneof(fc.constant(''), fc.stringMatching(/^\.[0-9]{1,9}$/)) })
  .map(({ h, m, s, frac }) => JSON.stringify(`${DAY}T${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${frac}Z`));
const tsToken = fc.oneof(
  { weight: 16, arbitrary: plainTs },
  {
    weight: 8,
    arbitrary: fc
      .record({
        day: fc.constantFrom(DAY, DAY, DAY, '2026-02-28', '2024-02-29', '2026-02-29', '2026-04-31', '2026-13-01', '0000-01-01', '9999-12-31', '2026-00-10', '2026-3-01'),
        h: fc.integer({ min: 0, max: 25 }),
        m: fc.integer({ min: 0, max: 61 }),
        s: fc.integer({ min: 0, max: 61 }),
        frac: fc.oneof(fc.constant(''), fc.stringMatching(/^\.[0-9]{0,11}$/)),
        t: fc.constantFrom('T', 'T', 'T', 't', ' '),
        z: fc.constantFrom('Z', 'Z', 'Z', 'z', '+00:00', '+01:30', '-05:00', ''),
      })
      .map(({ day, h, m, s, frac, t, z }) => JSON.stringify(`${day}${t}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}${frac}${z}`)),
  },
  { weight: 1, arbitrary: fc.constantFrom('"yesterday"', '1', 'null', '""', `"${DAY}T10:00:00\\u005a"`, `"${DAY}T10:00:00ZZ"`, `"${DAY}T10:00:00.Z"`) },
);
const vToken = fc.oneof({ weight: 30, arbitrary: fc.constant('1') }, { weight: 2, arbitrary: fc.constantFrom('1.0', '1e0', '10e-1', '2', '0', '-1', '"1"', 'true', 'null', '01', '1.5') });
const rankToken = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 1000 }).map(String) },
  { weight: 3, arbitrary: fc.constantFrom('999999999999999', '1000000000000000', '9007199254740993', '1e2', '1E2', '2.0', '1.5', '-0', '-1', '01', '00', '"3"', 'null', '-', '1e400') },
);
const scopeToken = (want: string) => fc.oneof({ weight: 24, arbitrary: fc.constant(JSON.stringify(want)) }, { weight: 1, arbitrary: fc.constantFrom('"other"', `" ${want}"`, `"${want} "`, '""', '1') });

const KEYS = ['v', 'ts', 'tenant', 'surface', 'session_id', 'item_id', 'user_id', 'request_id', 'rank'] as const;
const ws = fc.constantFrom('', '', '', '', ' ', '\t', '\r', '  ');

type LineParts = {
  [K in (typeof KEYS)[number]]?: string | undefined;
} & { extra?: readonly string[] | undefined; extraAt?: number; order?: readonly number[] | undefined; spaces: readonly string[]; tail: string };

function assemble(r: LineParts): string {
  const order = r.order ?? [...KEYS.keys()];
  const entries: [string, string][] = [];
  for (const i of order) {
    const token = r[KEYS[i]!];
    if (token !== undefined) entries.push([JSON.stringify(KEYS[i]), token]);
  }
  if (r.extra) entries.splice((r.extraAt ?? 0) % (entries.length + 1), 0, [r.extra[0] === '\\u0076' ? '"\\u0076"' : JSON.stringify(r.extra[0]), r.extra[1]!]);
  let k = 0;
  const sp = () => r.spaces[k++ % r.spaces.length]!;
  return `${sp()}{${entries.map(([key, value]) => `${sp()}${key}${sp()}:${sp()}${value}${sp()}`).join(',')}}${r.tail}`;
}

/** A raw line: the known fields (some left out), maybe an extra or repeated key, in any order, with any whitespace. */
const rawLine = fc
  .record({
    v: fc.option(vToken, { freq: 12, nil: undefined }),
    ts: fc.option(tsToken, { freq: 12, nil: undefined }),
    tenant: fc.option(scopeToken('bench'), { freq: 20, nil: undefined }),
    surface: fc.option(scopeToken('web'), { freq: 20, nil: undefined }),
    session_id: fc.option(idToken, { freq: 20, nil: undefined }),
    item_id: fc.option(idToken, { freq: 20, nil: undefined }),
    user_id: fc.option(idToken, { freq: 2, nil: undefined }),
    request_id: fc.option(idToken, { freq: 2, nil: undefined }),
    rank: fc.option(rankToken, { freq: 2, nil: undefined }),
    // fc.option(arb, { freq }) leaves the value out once in `freq` draws; these are mostly absent instead.
    extra: fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(['extra', '1'], ['rank', '2'], ['item_id', '"dup"'], ['\\u0076', '1'], ['Rank', '1'], ['', '""']) }),
    extraAt: fc.nat(),
    order: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.shuffledSubarray([...KEYS.keys()], { minLength: KEYS.length, maxLength: KEYS.length }) }),
    spaces: fc.oneof({ weight: 3, arbitrary: fc.constant(['']) }, { weight: 1, arbitrary: fc.array(ws, { minLength: 40, maxLength: 40 }) }),
    tail: fc.constantFrom('', '', '', '', '', '', ' ', '\t', 'x', ',', '}'),
  })
  .map(assemble);

/** A valid line of the plain shape (ASCII ids, UTC timestamp, canonical key order, no whitespace), the scanner's main case. */
const plainId = fc.stringMatching(/^[A-Za-z0-9_:.-]{1,12}$/).map((s) => JSON.stringify(s));
const plainLine = fc
  .record({
    ts: plainTs,
    session_id: plainId,
    item_id: plainId,
    user_id: fc.option(plainId, { freq: 2, nil: undefined }),
    request_id: fc.option(plainId, { freq: 2, nil: undefined }),
    rank: fc.option(fc.nat({ max: 10_000 }).map(String), { freq: 2, nil: undefined }),
  })
  .map((r) => assemble({ v: '1', tenant: '"bench"', surface: '"web"', ...r, spaces: [''], tail: '' }));

/** A plain line with one key repeated somewhere (JSON.parse keeps the last value). */
const repeatedKeyLine = fc
  .tuple(plainLine, fc.constantFrom(...KEYS), fc.oneof(plainId, fc.constantFrom('1', '2', '""', '"x y"')), fc.nat())
  .map(([line, key, value, at]) => {
    const body = line.slice(1, -1).split(/,(?=")/);
    body.splice(at % (body.length + 1), 0, `${JSON.stringify(key)}:${value}`);
    return `{${body.join(',')}}`;
  });

/** Byte-level mutations: replace, insert or delete bytes anywhere. */
const INTERESTING = [0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x20, 0x09, 0x30, 0x31, 0x39, 0x65, 0x2e, 0x2d, 0x00, 0x1f, 0x7f, 0xc3, 0xa9, 0xff, 0x5a, 0x7a, 0x54, 0x61];
const mutatedLine = fc
  .tuple(fc.oneof(plainLine, rawLine), fc.array(fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), fc.constantFrom(...INTERESTING)), { minLength: 1, maxLength: 3 }))
  .map(([line, edits]) => {
    const bytes = [...encoder.encode(line)];
    for (const [op, at, byte] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (op === 'replace' && bytes.length > 0) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return Uint8Array.from(bytes.filter((b) => b !== 0x0a));
  });

const anyLine = fc.oneof({ weight: 2, arbitrary: plainLine.map((l) => encoder.encode(l)) }, { weight: 3, arbitrary: rawLine.map((l) => encoder.encode(l)) }, { weight: 3, arbitrary: mutatedLine }, { weight: 1, arbitrary: repeatedKeyLine.map((l) => encoder.encode(l)) });

/** One to three chunks of lines, and the line endings they cycle through (the properties below share them). */
const chunksArb = fc.array(fc.array(anyLine, { minLength: 1, maxLength: 25 }), { minLength: 1, maxLength: 3 });
const endingsArb = fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 1, maxLength: 4 });

/** The lines joined, each followed by the next of `endings` (the last line by none when `openEnd`: a file's last line). */
function chunkOf(lines: Uint8Array[], endings: string[], openEnd = false): Uint8Array {
  const parts: number[] = [];
  lines.forEach((l, i) => parts.push(...l, ...(openEnd && i === lines.length - 1 ? [] : encoder.encode(endings[i % endings.length]!))));
  return Uint8Array.from(parts);
}

/** Parses the same chunks with and without the scanner (fresh dictionaries, so ids are comparable). */
function bothWays(chunks: Uint8Array[]) {
  const withScanner = new LocalDictionary(1);
  const without = new LocalDictionary(1);
  return chunks.map((chunk) => ({
    scanned: { ...parseChunk(chunk, ctx, withScanner) },
    general: { ...parseChunk(chunk, ctx, without, { scanner: false }) },
  }));
}

/** Each event's canonical line (without its newline) and fingerprint, from a parsed chunk. */
function linesAndFingerprints(r: ChunkResult): { line: string; fp: number[] }[] {
  const out: { line: string; fp: number[] }[] = [];
  for (let k = 0, from = 0; k < r.events; from = r.ends[k]!, k++) out.push({ line: new TextDecoder().decode(r.canonical.subarray(from, r.ends[k]! - 1)), fp: [...r.fp.subarray(4 * k, 4 * k + 4)] });
  return out;
}

/**
 * The message parseChunk fingerprints a canonical line of `scope` by, built
 * here from strings: the time after the day, one to four zero bytes up to a
 * multiple of four, then what follows `"session_id":"`; the whole line when it
 * is not `{"v":1,"ts":"<day>T…","tenant":"<tenant>","surface":"<surface>","session_id":"…`.
 */
function fingerprintMessage(line: string, scope: { tenant: string; surface: string; day: string }): Uint8Array {
  const open = `{"v":1,"ts":"${scope.day}T`;
  const shared = `","tenant":"${scope.tenant}","surface":"${scope.surface}","session_id":"`;
  const q = line.indexOf('"', open.length);
  if (!line.startsWith(open) || q < 0 || !line.startsWith(shared, q) || line.slice(open.length - 1, q).includes('\u0000')) return encoder.encode(line);
  const time = encoder.encode(line.slice(open.length - 1, q));
  const rest = encoder.encode(line.slice(q + shared.length));
  const padded = (time.length + 4) & ~3;
  const message = new Uint8Array(padded + rest.length);
  message.set(time);
  message.set(rest, padded);
  return message;
}

/** Plain and reshaped raw lines over few values per field, so that equal and nearly equal events are common. */
const fewValues = fc
  .record({
    ts: fc.constantFrom(`"${DAY}T10:00:00Z"`, `"${DAY}T10:00:00.5Z"`, `"${DAY}T10:00:00.500Z"`, `"${DAY}T10:00:01Z"`),
    session_id: fc.constantFrom('"s1"', '"s2"', '"s1x"', '"a\\"b"', '"é"'),
    item_id: fc.constantFrom('"i1"', '"i2"', '"s1"', '"i10"'),
    user_id: fc.option(fc.constantFrom('"u1"', '"i1"'), { freq: 3, nil: undefined }),
    request_id: fc.option(fc.constantFrom('"r1"', '"r2"'), { freq: 3, nil: undefined }),
    rank: fc.option(fc.constantFrom('0', '1', '10'), { freq: 3, nil: undefined }),
    order: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.shuffledSubarray([...KEYS.keys()], { minLength: KEYS.length, maxLength: KEYS.length }) }),
    spaces: fc.oneof({ weight: 3, arbitrary: fc.constant(['']) }, { weight: 1, arbitrary: fc.array(ws, { minLength: 40, maxLength: 40 }) }),
  })
  .map((r) => encoder.encode(assemble({ v: '1', tenant: '"bench"', surface: '"web"', ...r, tail: '' })));

describe('raw line byte scanner', () => {
  test('property: parsing with the scanner gives exactly what JSON.parse + checkRawEvent give (generated and mutated lines)', () => {
    fc.assert(
      fc.property(
        chunksArb,
        endingsArb,
        fc.boolean(),
        (chunks, endings, openEnd) => {
          for (const { scanned, general } of bothWays(chunks.map((lines) => chunkOf(lines, endings, openEnd)))) expect(scanned).toEqual(general);
        },
      ),
      { numRuns: 600 },
    );
  });

  test('property: without users (an ingest part) no user is interned, and everything else is the same, on both paths', () => {
    fc.assert(
      fc.property(
        chunksArb,
        endingsArb,
        fc.boolean(),
        (chunks, endings, scanner) => {
          const withUsers = new LocalDictionary(1);
          const withoutUsers = new LocalDictionary(1);
          for (const lines of chunks) {
            const chunk = chunkOf(lines, endings);
            const all = { ...parseChunk(chunk, ctx, withUsers, { scanner }) };
            const none = { ...parseChunk(chunk, { ...ctx, users: false }, withoutUsers, { scanner }) };
            expect(none.newUsers).toEqual([]);
            expect([...none.user].every((u) => u === NO_USER)).toBe(true);
            expect({ ...none, user: all.user, newUsers: all.newUsers }).toEqual(all);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('property: a line the scanner accepts is valid, and its fields are those of the parsed event', () => {
    const scan = new RawScan();
    fc.assert(
      fc.property(anyLine, (bytes) => {
        if (!scanRawLine(bytes, 0, bytes.length, scan)) return;
        const result = checkRawEvent(JSON.parse(new TextDecoder().decode(bytes)));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const field = (f: number) => (scan.start[f]! < 0 ? undefined : new TextDecoder().decode(bytes.subarray(scan.start[f], scan.end[f])));
        const e = result.event;
        expect([field(1), field(2), field(3), field(4), field(5), field(6), field(7), field(8)]).toEqual([e.ts, e.tenant, e.surface, e.session_id, e.item_id, e.user_id, e.request_id, e.rank?.toString()]);
        expect([scan.secondsMs, scan.nanos]).toEqual([result.secondsMs, result.nanos]);
        if (scan.canonical) expect(new TextDecoder().decode(bytes)).toBe(canonicalLine(e));
      }),
      { numRuns: 3000 },
    );
  });

  test('the generators reach both sides: lines the scanner takes (plain and reordered) and lines it leaves to JSON.parse', () => {
    const scan = new RawScan();
    const samples = fc.sample(anyLine, { numRuns: 3000, seed: 17 });
    const outcome = samples.map((b) => (scanRawLine(b, 0, b.length, scan) ? (scan.canonical ? 'plain' : 'reshaped') : 'general'));
    for (const kind of ['plain', 'reshaped', 'general']) expect(outcome.filter((o) => o === kind).length, kind).toBeGreaterThan(100);
    // Among the lines left to the general path are valid events too (it is a shortcut, not a validator).
    const validLeft = samples.filter((b, i) => {
      if (outcome[i] !== 'general') return false;
      try {
        return checkRawEvent(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b))).ok;
      } catch {
        return false;
      }
    });
    expect(validLeft.length).toBeGreaterThan(50);
  });

  test('a canonical line over 1 MiB is rejected as too long, as on the general path, and the lines around it are read', () => {
    const plain = (item: string) => `{"v":1,"ts":"2026-03-01T00:00:36.260Z","tenant":"bench","surface":"web","session_id":"s1","item_id":"${item}","rank":1}`;
    const chunk = encoder.encode(`${plain('a')}\n${plain('x'.repeat(1024 * 1024))}\n${plain('b')}\n`);
    const { scanned, general } = bothWays([chunk])[0]!;
    expect(scanned).toEqual(general);
    expect(scanned.events).toBe(2);
    expect(scanned.rejects.map((r) => r.reason)).toEqual(['line_too_long']);
  });

  test('the plain bench shape is scanned, copied as is, and its instant is exact', () => {
    const line = '{"v":1,"ts":"2026-03-01T00:00:36.260Z","tenant":"bench","surface":"web","session_id":"s1","item_id":"i39580","request_id":"r1","rank":1}';
    const scan = new RawScan();
    const bytes = encoder.encode(line);
    expect(scanRawLine(bytes, 0, bytes.length, scan)).toBe(true);
    expect(scan.canonical).toBe(true);
    expect([scan.secondsMs, scan.nanos]).toEqual([Date.UTC(2026, 2, 1, 0, 0, 36), 260_000_000]);
    const { scanned } = bothWays([encoder.encode(line + '\n')])[0]!;
    expect(new TextDecoder().decode(scanned.canonical)).toBe(line + '\n');
  });
  test('property: an event is fingerprinted by its canonical line without what every line of the scope shares (the day, tenant, surface), on both paths', () => {
    const quoted: ChunkContext = { ...ctx, stream: 'quoted-scope', tenant: 'a"b' };
    fc.assert(
      fc.property(chunksArb, endingsArb, fc.boolean(), fc.boolean(), (chunks, endings, scanner, quotedScope) => {
        // A tenant the canonical line escapes: its lines are fingerprinted whole.
        const c = quotedScope ? quoted : ctx;
        const dict = new LocalDictionary(1);
        for (const lines of chunks) {
          const chunk = chunkOf(quotedScope ? lines.map((l) => encoder.encode(new TextDecoder().decode(l).replace('"bench"', '"a\\"b"'))) : lines, endings);
          for (const { line, fp } of linesAndFingerprints(parseChunk(chunk, c, dict, { scanner }))) {
            const message = fingerprintMessage(line, c);
            fingerprintBytes(message, 0, message.length, c.fpKey);
            expect(fp, line).toEqual([...FP]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('property: two events have equal fingerprints exactly when their canonical lines are equal, whatever path and chunk read them', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fewValues, { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 3 }), fc.boolean(), (chunks, scanner) => {
        const dict = new LocalDictionary(1);
        const byLine = new Map<string, string>();
        const byFp = new Map<string, string>();
        for (const lines of chunks) {
          for (const { line, fp } of linesAndFingerprints(parseChunk(chunkOf(lines, ['\n']), ctx, dict, { scanner }))) {
            const key = fp.join();
            expect(byLine.get(line) ?? key, line).toBe(key);
            expect(byFp.get(key) ?? line, key).toBe(line);
            byLine.set(line, key);
            byFp.set(key, line);
          }
        }
      }),
      { numRuns: 400 },
    );
  });
  test('property: a scanner told the expected scope finds the same lines, fields and instants as one that is not, and says in scope only for that scope', () => {
    const plainScan = new RawScan();
    const told = new RawScan();
    fc.assert(
      fc.property(anyLine, plainLine, fc.boolean(), fc.constantFrom('bench', ' bench', 'bench ', 'bé', 'a"b', 'a\\b', '', 'other'), fc.constantFrom('web', 'web ', 'w'), (any, plain, ofScope, tenant, surface) => {
        // Half the lines are plain lines of the expected scope, whatever it is (what a scope of a value the scanner does not read plainly must not take).
        const bytes = ofScope ? encoder.encode(plain.replace('"tenant":"bench","surface":"web"', `"tenant":${JSON.stringify(tenant)},"surface":${JSON.stringify(surface)}`)) : any;
        told.expect(tenant, surface);
        const withNewline = Uint8Array.from([...bytes, 10]);
        const same = (accepted: boolean) => {
          if (!accepted) return;
          expect([...told.start, ...told.end, told.canonical, told.secondsMs, told.nanos]).toEqual([...plainScan.start, ...plainScan.end, plainScan.canonical, plainScan.secondsMs, plainScan.nanos]);
          const field = (f: number) => new TextDecoder().decode(bytes.subarray(plainScan.start[f], plainScan.end[f]));
          if (told.inScope) expect([field(2), field(3)]).toEqual([tenant, surface]);
        };
        const raw = scanRawLine(bytes, 0, bytes.length, plainScan);
        expect(scanRawLine(bytes, 0, bytes.length, told)).toBe(raw);
        same(raw);
        const canonical = scanCanonicalLine(withNewline, 0, withNewline.length, plainScan);
        expect(scanCanonicalLine(withNewline, 0, withNewline.length, told)).toBe(canonical);
        same(canonical >= 0);
      }),
      { numRuns: 3000 },
    );
  });
});
