import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseArtifact, serializeArtifact, verifyArtifactVersion, type CoocArtifactV1, type PopularityArtifactV1 } from '@recsys/contracts';
import { EventTable, RecsysError, blobText, computeArtifacts, dayWindow, resolveLimits, type ArtifactTarget, type LimitsConfig, type Sha256Factory } from '../internal.js';
import { portableSha256 } from '../sha256-portable.js';
import { finishArtifact } from './artifacts.js';

const sha256: Sha256Factory = () => {
  const h = createHash('sha256');
  return { update: (d) => void h.update(d), digest: () => h.digest('hex') };
};

const target: ArtifactTarget = { scope: { tenant: 'demo', surface: 'home' }, segment: 'default', window: dayWindow('2026-01-01') };

/** `[session, item]` pairs → an event table (one event per pair, in order). */
function table(events: readonly (readonly [string, string])[]): EventTable {
  const t = new EventTable();
  events.forEach(([session_id, item_id], i) => t.add({ ts: `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id, item_id }));
  return t;
}

function build(events: readonly (readonly [string, string])[], limits: LimitsConfig = {}) {
  const built = computeArtifacts(table(events), ['popularity', 'cooc'], target, resolveLimits(limits), '2026-01-02T00:00:00Z', sha256);
  const [pop, cooc] = built.map((b) => ({ built: b, artifact: parseArtifact(JSON.parse(blobText(b))) }));
  return { popularity: pop!.artifact as PopularityArtifactV1, cooc: cooc!.artifact as CoocArtifactV1, built };
}

const pop = (a: PopularityArtifactV1) => a.items.map((i) => `${i.item_id}:${i.count}`);
const rows = (a: CoocArtifactV1) => Object.fromEntries(a.neighbors.map((r) => [r.item_id, r.items.map((i) => `${i.item_id}:${i.count}`)]));

describe('the tiny set (sessions s1: A,B; s2: A,C; s3: D)', () => {
  const tiny = [['s1', 'A'], ['s1', 'B'], ['s2', 'A'], ['s2', 'C'], ['s3', 'D']] as const;

  test('has the Go implementation’s payloads and versions', async () => {
    const { popularity, cooc, built } = build(tiny);
    expect(pop(popularity)).toEqual(['A:2', 'B:1', 'C:1', 'D:1']);
    expect(cooc.neighbors).toEqual([
      { item_id: 'A', items: [{ item_id: 'B', count: 1 }, { item_id: 'C', count: 1 }] },
      { item_id: 'B', items: [{ item_id: 'A', count: 1 }] },
      { item_id: 'C', items: [{ item_id: 'A', count: 1 }] },
    ]);
    expect(built.map((b) => b.version)).toEqual(['0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9', 'b705f3235774c7c07599a4521ef7cbbdd3beeab82993e0f1dea3a60c856ea7d7']);
    for (const artifact of [popularity, cooc]) {
      expect(await verifyArtifactVersion(artifact)).toEqual({ ok: true, version: artifact.build.version });
      expect(artifact.segment).toBe('default');
      expect(artifact.window).toEqual({ start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' });
    }
  });

  test('the version ignores built_at; the blob carries it', () => {
    const a = computeArtifacts(table(tiny), ['popularity'], target, resolveLimits(), '2026-01-02T00:00:00Z', sha256)[0]!;
    const b = computeArtifacts(table(tiny), ['popularity'], target, resolveLimits(), '2030-05-05T05:05:05Z', sha256)[0]!;
    expect(a.version).toBe(b.version);
    expect(blobText(a)).not.toBe(blobText(b));
    expect(JSON.parse(blobText(b)).build).toEqual({ built_at: '2030-05-05T05:05:05Z', version: b.version, source_hash: b.version });
  });

  test('blob_format: compact by default (the hashed bytes with the real build), pretty on request; same version', () => {
    const compact = computeArtifacts(table(tiny), ['popularity', 'cooc'], target, resolveLimits(), '2026-01-02T00:00:00Z', sha256);
    const pretty = computeArtifacts(table(tiny), ['popularity', 'cooc'], target, resolveLimits(), '2026-01-02T00:00:00Z', sha256, {}, 'pretty');
    for (const [k, c] of compact.entries()) {
      const p = pretty[k]!;
      expect(c.version).toBe(p.version);
      const object = parseArtifact(JSON.parse(blobText(c)));
      expect(parseArtifact(JSON.parse(blobText(p)))).toEqual(object);
      expect(blobText(c)).toBe(serializeArtifact(object, { format: 'compact' }));
      expect(blobText(p)).toBe(serializeArtifact(object));
      expect(blobText(c)).not.toMatch(/\s/);
      // A re-stamped compact blob is still the hashed bytes with the new build.
      expect(JSON.parse(blobText(c.withBuiltAt!('2030-01-01T00:00:00Z'))).build).toEqual({ built_at: '2030-01-01T00:00:00Z', version: c.version, source_hash: c.version });
    }
  });

  test('a compact blob comes with the SHA-256 of its bytes (hashed once with the version), also when re-stamped; pretty or without a copyable hasher, none', () => {
    const withCopy: Sha256Factory = () => {
      const wrap = (h: ReturnType<typeof createHash>): ReturnType<Sha256Factory> => ({ update: (d) => void h.update(d), digest: () => h.digest('hex'), copy: () => wrap(h.copy()) });
      return wrap(createHash('sha256'));
    };
    const blobHash = (b: { blob(): unknown }) => createHash('sha256').update(blobText(b as never)).digest('hex');
    for (const factory of [withCopy, portableSha256]) {
      const built = computeArtifacts(table(tiny), ['popularity', 'cooc'], target, resolveLimits({}), '2026-01-02T00:00:00Z', factory);
      for (const b of built) {
        expect(b.sha256).toBe(blobHash(b));
        const later = b.withBuiltAt!('2026-01-03T00:00:00Z');
        expect(later.version).toBe(b.version);
        expect(later.sha256).toBe(blobHash(later));
        expect(later.sha256).not.toBe(b.sha256);
      }
      expect(built.map((b) => b.version)).toEqual(build(tiny).built.map((b) => b.version));
    }
    expect(computeArtifacts(table(tiny), ['cooc'], target, resolveLimits({}), '2026-01-02T00:00:00Z', withCopy, {}, 'pretty')[0]!.sha256).toBeUndefined();
    expect(build(tiny).built[0]!.sha256).toBeUndefined();
  });

  test('the blob hash is right wherever a chunk boundary falls in the blanked build tail', () => {
    const blobHash = (b: { blob(): unknown }) => createHash('sha256').update(blobText(b as never)).digest('hex');
    const at = (n: number) => finishArtifact('popularity', target, { members: { items: 'x'.repeat(n) }, rows: 1 }, '2026-01-02T00:00:00Z', portableSha256);
    const tail = ',"build":{"built_at":"","version":""}}'.length;
    const blobLength = (b: { blob(): unknown }) => [...(b.blob() as Iterable<Uint8Array>)].reduce((n, c) => n + c.length, 0);
    const empty = at(0);
    const realTail = `,"build":{"built_at":"2026-01-02T00:00:00Z","version":"${empty.version}","source_hash":"${empty.version}"}}`.length;
    const hashedLength0 = blobLength(empty) - realTail + tail;
    // The hashed text's tail starts `cut` bytes before the first 1 MiB chunk boundary (0: on it; 1..tail-1: across it).
    for (const cut of [0, 1, 7, tail - 1, tail, tail + 1]) {
      const b = at(2 ** 20 - cut - hashedLength0 + tail);
      expect(b.sha256).toBe(blobHash(b));
    }
  });

  test('another segment or window gives another version', () => {
    const base = computeArtifacts(table(tiny), ['popularity'], target, resolveLimits(), '2026-01-02T00:00:00Z', sha256)[0]!.version;
    const seg = computeArtifacts(table(tiny), ['popularity'], { ...target, segment: 'mobile' }, resolveLimits(), '2026-01-02T00:00:00Z', sha256)[0]!.version;
    const day = computeArtifacts(table(tiny), ['popularity'], { ...target, window: dayWindow('2026-01-02') }, resolveLimits(), '2026-01-02T00:00:00Z', sha256)[0]!.version;
    expect(new Set([base, seg, day]).size).toBe(3);
  });
});

describe('popularity ordering and truncation', () => {
  test.each([
    ['most exposed first', [['s', 'b'], ['s', 'a'], ['t', 'b']], {}, ['b:2', 'a:1']],
    ['ties by item id', [['s', 'c'], ['s', 'a'], ['s', 'b']], {}, ['a:1', 'b:1', 'c:1']],
    ['ties by UTF-8 bytes: upper case before lower case', [['s', 'a'], ['s', 'B']], {}, ['B:1', 'a:1']],
    ['ties by UTF-8 bytes: U+FFFF before an astral character', [['s', '\u{1F600}'], ['s', '\uffff']], {}, ['\uffff:1', '\u{1F600}:1']],
    ['every exposure counts, also repeats in one session', [['s', 'x'], ['s', 'x'], ['s', 'y']], {}, ['x:2', 'y:1']],
    ['max_items_per_artifact keeps the most exposed', [['s', 'a'], ['s', 'z'], ['t', 'z'], ['u', 'm'], ['v', 'm']], { max_items_per_artifact: 2 }, ['m:2', 'z:2']],
  ] as const)('%s', (_name, events, limits, expected) => {
    expect(pop(build(events, limits).popularity)).toEqual(expected);
  });
});

describe('cooc ordering and truncation', () => {
  test('a pair counts once per session in which both items appear', () => {
    const { cooc } = build([['s1', 'A'], ['s1', 'B'], ['s1', 'A'], ['s1', 'B'], ['s2', 'A'], ['s2', 'B'], ['s3', 'A']]);
    expect(rows(cooc)).toEqual({ A: ['B:2'], B: ['A:2'] });
  });

  test('rows by item id in UTF-8 order; each row by count desc then item id', () => {
    const { cooc } = build([
      ['s1', 'b'], ['s1', 'a'], ['s1', 'C'],
      ['s2', 'b'], ['s2', 'C'],
      ['s3', 'b'], ['s3', 'd'], ['s3', '\u{1F600}'], ['s3', '\uffff'],
    ]);
    expect(cooc.neighbors.map((r) => r.item_id)).toEqual(['C', 'a', 'b', 'd', '\uffff', '\u{1F600}']);
    expect(rows(cooc).b).toEqual(['C:2', 'a:1', 'd:1', '\uffff:1', '\u{1F600}:1']);
  });

  test('items that never share a session have no row; single-item sessions add nothing', () => {
    expect(rows(build([['s1', 'A'], ['s2', 'B'], ['s3', 'C'], ['s3', 'C']]).cooc)).toEqual({});
  });

  test('min_cooc_support filters neighbours but leaves the (possibly empty) row', () => {
    const events = [['s1', 'A'], ['s1', 'B'], ['s2', 'A'], ['s2', 'B'], ['s3', 'A'], ['s3', 'C']] as const;
    expect(rows(build(events, { min_cooc_support: 2 }).cooc)).toEqual({ A: ['B:2'], B: ['A:2'], C: [] });
    expect(rows(build(events, { min_cooc_support: 3 }).cooc)).toEqual({ A: [], B: [], C: [] });
  });

  test('max_neighbors_per_item keeps the strongest neighbours of each row', () => {
    const events = [['s1', 'A'], ['s1', 'B'], ['s1', 'C'], ['s1', 'D'], ['s2', 'A'], ['s2', 'D'], ['s3', 'A'], ['s3', 'D'], ['s3', 'C']] as const;
    expect(rows(build(events, { max_neighbors_per_item: 2 }).cooc)).toEqual({ A: ['D:3', 'C:2'], B: ['A:1', 'C:1'], C: ['A:2', 'D:2'], D: ['A:3', 'C:2'] });
  });

  test('max_items_per_artifact keeps the rows of the most exposed items, then sorts them by item id (not an alphabetical prefix)', () => {
    // Exposures: z 4, y 3, a 2, b 1 (+ q, never co-occurring, is the most exposed item of all).
    const events = [
      ['s1', 'z'], ['s1', 'a'],
      ['s2', 'z'], ['s2', 'y'],
      ['s3', 'z'], ['s3', 'y'], ['s3', 'b'],
      ['s4', 'z'], ['s4', 'y'], ['s4', 'a'],
      ['q1', 'q'], ['q2', 'q'], ['q3', 'q'], ['q4', 'q'], ['q5', 'q'],
    ] as const;
    const { cooc, popularity } = build(events, { max_items_per_artifact: 2 });
    expect(rows(cooc)).toEqual({ y: ['z:3', 'a:1', 'b:1'], z: ['y:3', 'a:2', 'b:1'] });
    expect(pop(popularity)).toEqual(['q:5', 'z:4']);
    // Ties in exposure are broken by item id, like popularity.
    const tie = build([['s1', 'c'], ['s1', 'b'], ['s2', 'a'], ['s2', 'd']], { max_items_per_artifact: 3 });
    expect(Object.keys(rows(tie.cooc))).toEqual(['a', 'b', 'c']);
  });

  test('a session with more distinct items than limits.max_items_per_session trips the limit (exit 4), naming it', () => {
    const error = (() => {
      try {
        build([['s1', 'A'], ['s1', 'B'], ['s1', 'C'], ['s2', 'A'], ['s2', 'B']], { max_items_per_session: 2 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(RecsysError.isInstance(error)).toBe(true);
    const e = error as RecsysError;
    expect(e.kind).toBe('limit');
    expect(e.exitCode).toBe(4);
    expect(e.context).toMatchObject({ limit: 'max_items_per_session', observed: 3, allowed: 2, config_key: 'limits.max_items_per_session' });
    expect(e.message).toContain('limits.max_items_per_session');
    // Repeats of one item do not count as distinct items.
    expect(() => build([['s1', 'A'], ['s1', 'A'], ['s1', 'A'], ['s1', 'B']], { max_items_per_session: 2 })).not.toThrow();
  });
});

// ---------------------------------------------------------------------------
// Property: both payloads equal a brute-force recomputation for any events and limits.

const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function bruteForce(events: readonly (readonly [string, string])[], limits: { maxItems: number; minSupport: number; maxNeighbors: number }) {
  const exposures = new Map<string, number>();
  for (const [, item] of events) exposures.set(item, (exposures.get(item) ?? 0) + 1);
  const byExposure = [...exposures.keys()].sort((a, b) => exposures.get(b)! - exposures.get(a)! || utf8(a, b));
  const popularity = byExposure.slice(0, limits.maxItems).map((i) => `${i}:${exposures.get(i)}`);

  const sessions = new Map<string, Set<string>>();
  for (const [s, item] of events) sessions.set(s, (sessions.get(s) ?? new Set()).add(item));
  const pairs = new Map<string, Map<string, number>>();
  const bump = (a: string, b: string) => {
    const row = pairs.get(a) ?? new Map<string, number>();
    row.set(b, (row.get(b) ?? 0) + 1);
    pairs.set(a, row);
  };
  for (const items of sessions.values()) for (const a of items) for (const b of items) if (a !== b) bump(a, b);
  let rowIds = [...pairs.keys()];
  if (rowIds.length > limits.maxItems) rowIds = byExposure.filter((i) => pairs.has(i)).slice(0, limits.maxItems);
  rowIds.sort(utf8);
  const cooc = Object.fromEntries(
    rowIds.map((id) => [
      id,
      [...pairs.get(id)!.entries()]
        .filter(([, c]) => c >= limits.minSupport)
        .sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b))
        .slice(0, limits.maxNeighbors)
        .map(([i, c]) => `${i}:${c}`),
    ]),
  );
  return { popularity, cooc };
}

describe('property: popularity and cooc equal a brute-force recomputation', () => {
  test('for random sessions, items and limits', () => {
    const item = fc.oneof(fc.constantFrom('A', 'B', 'C', 'D', 'a', 'é', '\uffff', '\u{1F600}', 'item-10', 'item-9'), fc.string({ minLength: 1, maxLength: 3 }).filter((s) => s.trim() === s));
    const session = fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(session, item), { minLength: 1, maxLength: 60 }),
        fc.record({ maxItems: fc.integer({ min: 1, max: 12 }), minSupport: fc.integer({ min: 1, max: 3 }), maxNeighbors: fc.integer({ min: 1, max: 6 }) }),
        (events, l) => {
          const { popularity, cooc } = build(events, { max_items_per_artifact: l.maxItems, min_cooc_support: l.minSupport, max_neighbors_per_item: l.maxNeighbors });
          const expected = bruteForce(events, l);
          expect(pop(popularity)).toEqual(expected.popularity);
          expect(rows(cooc)).toEqual(expected.cooc);
          expect(cooc.neighbors.map((r) => r.item_id)).toEqual(Object.keys(expected.cooc).sort(utf8));
        },
      ),
      { numRuns: 400 },
    );
  });
});
