import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseArtifact } from '@recsys/contracts';
import { LimitExceededError } from '../errors.js';
import { resolveLimits, type LimitsConfig } from '../limits.js';
import type { Sha256Factory } from '../ports.js';
import type { CanonicalEvent } from '../ingest/raw-event.js';
import { EventTable } from './event-table.js';
import { computeImplicit } from './implicit.js';
import { computeSessionSeq } from './session-seq.js';
import { blobText, computeArtifacts, type ArtifactTarget } from './artifacts.js';

// Brute-force references: plain Maps and arrays, no core code. Byte order
// of ids comes from Buffer.compare on their UTF-8 encodings.
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
type Rows = { user_id: string; items: { item_id: string; score: number }[] }[];

function rowsFromScores(perUser: Map<string, Map<string, number>>, maxItems: number): Rows {
  return [...perUser.entries()]
    .filter(([, scores]) => scores.size > 0)
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([user_id, scores]) => ({
      user_id,
      items: [...scores.entries()]
        .sort(([ia, sa], [ib, sb]) => sb - sa || byteOrder(ia, ib))
        .slice(0, maxItems)
        .map(([item_id, score]) => ({ item_id, score })),
    }));
}

function bruteImplicit(events: readonly CanonicalEvent[], maxItems = 200): Rows {
  const perUser = new Map<string, Map<string, number>>();
  for (const e of events) {
    if (e.user_id === undefined) continue;
    const scores = perUser.get(e.user_id) ?? new Map<string, number>();
    scores.set(e.item_id, (scores.get(e.item_id) ?? 0) + 1);
    perUser.set(e.user_id, scores);
  }
  return rowsFromScores(perUser, maxItems);
}

/** Nanoseconds since the epoch as a bigint, from the canonical text. */
function instant(ts: string): bigint {
  const m = /^(.{19})(?:\.(\d+))?Z$/.exec(ts)!;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function bruteSessionSeq(events: readonly CanonicalEvent[], maxItems = 200): Rows {
  const perUserEvents = new Map<string, CanonicalEvent[]>();
  for (const e of events) {
    if (e.user_id === undefined) continue;
    const list = perUserEvents.get(e.user_id) ?? [];
    list.push(e);
    perUserEvents.set(e.user_id, list);
  }
  const perUser = new Map<string, Map<string, number>>();
  for (const [user, list] of perUserEvents) {
    // Array#sort is stable: equal instants keep input (canonical) order.
    const sorted = [...list].sort((a, b) => (instant(a.ts) < instant(b.ts) ? -1 : instant(a.ts) > instant(b.ts) ? 1 : 0));
    const scores = new Map<string, number>();
    for (let k = 1; k < sorted.length; k++) scores.set(sorted[k]!.item_id, (scores.get(sorted[k]!.item_id) ?? 0) + 1);
    perUser.set(user, scores);
  }
  return rowsFromScores(perUser, maxItems);
}

function ev(ts: string, session: string, item: string, user?: string): CanonicalEvent {
  return { ts, tenant: 't', surface: 's', session_id: session, item_id: item, ...(user === undefined ? {} : { user_id: user }) };
}

function tableOf(events: readonly CanonicalEvent[]): EventTable {
  const table = new EventTable();
  for (const e of events) table.add(e);
  return table;
}

const limits = (config: LimitsConfig = {}) => resolveLimits(config);
const implicitOf = (events: readonly CanonicalEvent[], config: LimitsConfig = {}) => {
  const t = tableOf(events);
  return computeImplicit(t, t.items.utf8Ranks(), limits(config));
};
const seqOf = (events: readonly CanonicalEvent[], config: LimitsConfig = {}) => {
  const t = tableOf(events);
  return computeSessionSeq(t, t.items.utf8Ranks(), limits(config));
};

// apps/cli/sample-data/raw/demo/home/exposure.2026-01-01.jsonl
const TINY = [
  ev('2026-01-01T00:00:01Z', 's1', 'A', 'u1'),
  ev('2026-01-01T00:00:02Z', 's1', 'B', 'u1'),
  ev('2026-01-01T00:00:03Z', 's2', 'A', 'u2'),
  ev('2026-01-01T00:00:04Z', 's2', 'C', 'u2'),
  ev('2026-01-01T00:00:05Z', 's3', 'D', 'u2'),
];

describe('implicit', () => {
  it('tiny set, computed by hand', () => {
    expect(implicitOf(TINY)).toEqual([
      { user_id: 'u1', items: [{ item_id: 'A', score: 1 }, { item_id: 'B', score: 1 }] },
      { user_id: 'u2', items: [{ item_id: 'A', score: 1 }, { item_id: 'C', score: 1 }, { item_id: 'D', score: 1 }] },
    ]);
  });

  it('scores are exposure counts; anonymous events are ignored; items by score desc then id', () => {
    const events = [ev('2026-01-01T00:00:00Z', 'a', 'X', 'u'), ev('2026-01-01T00:00:00Z', 'a', 'Y', 'u'), ev('2026-01-01T00:00:01Z', 'b', 'Y', 'u'), ev('2026-01-01T00:00:02Z', 'c', 'Z')];
    expect(implicitOf(events)).toEqual([{ user_id: 'u', items: [{ item_id: 'Y', score: 2 }, { item_id: 'X', score: 1 }] }]);
  });

  it('orders users and items in UTF-8 byte order, not UTF-16', () => {
    // U+E000 is one UTF-16 unit above the surrogates of U+1F600 but below it in UTF-8.
    const events = [ev('2026-01-01T00:00:00Z', 's', '😀', '😀'), ev('2026-01-01T00:00:00Z', 's', '\uE000', '\uE000'), ev('2026-01-01T00:00:01Z', 's', '😀', '\uE000'), ev('2026-01-01T00:00:01Z', 's', '\uE000', '😀')];
    const rows = implicitOf(events);
    expect(rows.map((r) => r.user_id)).toEqual(['\uE000', '😀']);
    expect(rows[0]!.items.map((i) => i.item_id)).toEqual(['\uE000', '😀']);
  });

  it('keeps the top max_items_per_user items of each user', () => {
    const events = ['A', 'B', 'B', 'C', 'C', 'C', 'D'].map((item, k) => ev(`2026-01-01T00:00:0${k}Z`, 's', item, 'u'));
    expect(implicitOf(events, { max_items_per_user: 2 })).toEqual([{ user_id: 'u', items: [{ item_id: 'C', score: 3 }, { item_id: 'B', score: 2 }] }]);
    expect(implicitOf(events)[0]!.items).toHaveLength(4); // default 200
  });

  it('trips max_users_per_run with exit 4', () => {
    let error: unknown;
    try {
      implicitOf(TINY, { max_users_per_run: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).exitCode).toBe(4);
    expect((error as Error).message).toContain('limits.max_users_per_run');
    expect(implicitOf(TINY, { max_users_per_run: 2 })).toHaveLength(2);
  });

  it('cut to max_items_per_artifact keeps the most active users, not an alphabetical prefix', () => {
    const events = [ev('2026-01-01T00:00:00Z', 's', 'A', 'a'), ev('2026-01-01T00:00:00Z', 's', 'A', 'z'), ev('2026-01-01T00:00:01Z', 's', 'B', 'z'), ev('2026-01-01T00:00:00Z', 's', 'A', 'm'), ev('2026-01-01T00:00:01Z', 's', 'A', 'm')];
    expect(implicitOf(events, { max_items_per_artifact: 2 }).map((r) => r.user_id)).toEqual(['m', 'z']);
  });
});

describe('session_seq', () => {
  it('tiny set, computed by hand', () => {
    // u1: A(1s) → B(2s); u2: A(3s) → C(4s) → D(5s), across sessions s2 and s3.
    expect(seqOf(TINY)).toEqual([
      { user_id: 'u1', items: [{ item_id: 'B', score: 1 }] },
      { user_id: 'u2', items: [{ item_id: 'C', score: 1 }, { item_id: 'D', score: 1 }] },
    ]);
  });

  it('orders by instant, not by text, when fraction lengths differ', () => {
    // As text, "…01Z" sorts after "…01.5Z" ('Z' > '.'), but 01.000 is before 01.5.
    const events = [ev('2026-01-01T00:00:01.5Z', 's', 'LATE', 'u'), ev('2026-01-01T00:00:01Z', 's', 'FIRST', 'u'), ev('2026-01-01T00:00:01.25Z', 's', 'MID', 'u'), ev('2026-01-01T00:00:01.123456789Z', 's', 'EARLY', 'u')];
    // Order: FIRST(1.0) EARLY(1.123456789) MID(1.25) LATE(1.5).
    expect(seqOf(events)).toEqual([{ user_id: 'u', items: [{ item_id: 'EARLY', score: 1 }, { item_id: 'LATE', score: 1 }, { item_id: 'MID', score: 1 }] }]);
  });

  it('breaks timestamp ties by canonical order', () => {
    const a = ev('2026-01-01T00:00:01Z', 's', 'A', 'u');
    const b = ev('2026-01-01T00:00:01.000Z', 's', 'B', 'u');
    expect(seqOf([a, b])[0]!.items).toEqual([{ item_id: 'B', score: 1 }]);
    expect(seqOf([b, a])[0]!.items).toEqual([{ item_id: 'A', score: 1 }]);
  });

  it('counts repeats of the same item and spans sessions; single-event users have no row', () => {
    const events = [ev('2026-01-01T00:00:00Z', 's1', 'A', 'u'), ev('2026-01-01T00:00:01Z', 's1', 'A', 'u'), ev('2026-01-01T00:00:02Z', 's2', 'B', 'u'), ev('2026-01-01T00:00:03Z', 's3', 'A', 'u'), ev('2026-01-01T00:00:00Z', 's4', 'A', 'solo'), ev('2026-01-01T00:00:00Z', 's5', 'A')];
    expect(seqOf(events)).toEqual([{ user_id: 'u', items: [{ item_id: 'A', score: 2 }, { item_id: 'B', score: 1 }] }]);
  });

  it('trips max_users_per_run and applies max_items_per_user', () => {
    expect(() => seqOf(TINY, { max_users_per_run: 1 })).toThrow(LimitExceededError);
    expect(seqOf(TINY, { max_items_per_user: 1 })[1]).toEqual({ user_id: 'u2', items: [{ item_id: 'C', score: 1 }] });
  });
});

// Random days: few users/items/seconds so repeats and timestamp ties are common;
// fractions of 0–9 digits; ids include non-BMP and private-use characters.
const ids = (prefix: string) => fc.constantFrom(`${prefix}1`, `${prefix}2`, `${prefix}10`, `${prefix}\uE000`, `${prefix}😀`, `${prefix}é`);
const tsArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 999_999_999 }))
  .map(([s, digits, frac]) => `2026-01-01T10:00:0${s}${digits === 0 ? '' : '.' + String(frac).padStart(9, '0').slice(0, digits)}Z`);
const eventArb = fc.record({ ts: tsArb, session: fc.constantFrom('s1', 's2', 's3'), item: ids('i'), user: fc.option(ids('u'), { nil: undefined }) }).map((r) => ev(r.ts, r.session, r.item, r.user));

describe('against brute force', () => {
  it('implicit and session_seq equal the reference on random days', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (events, maxItems) => {
        expect(implicitOf(events, { max_items_per_user: maxItems })).toEqual(bruteImplicit(events, maxItems));
        expect(seqOf(events, { max_items_per_user: maxItems })).toEqual(bruteSessionSeq(events, maxItems));
      }),
      { numRuns: 300 },
    );
  });
});

describe('determinism', () => {
  const sha256: Sha256Factory = () => {
    const h = createHash('sha256');
    return { update: (d) => void h.update(d), digest: () => h.digest('hex') };
  };
  const target: ArtifactTarget = { scope: { tenant: 't', surface: 's' }, segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
  const versions = (events: readonly CanonicalEvent[]) =>
    computeArtifacts(tableOf(events), ['implicit', 'session_seq'], target, limits(), '2026-01-02T00:00:00Z', sha256).map((b) => b.version);

  it('shuffled input ⇒ same versions (session_seq: when no user has two events at the same instant)', () => {
    const distinctInstants = fc.array(eventArb, { maxLength: 40 }).map((events) => {
      const seen = new Set<string>();
      return events.filter((e) => {
        const key = `${e.user_id ?? ''}|${instant(e.ts)}`;
        if (e.user_id !== undefined && seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    });
    fc.assert(
      fc.property(
        distinctInstants.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }))),
        ([events, shuffled]) => {
          expect(versions(shuffled)).toEqual(versions(events));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('built blobs parse with the contract and carry the version', () => {
    const built = computeArtifacts(tableOf(TINY), ['implicit', 'session_seq'], target, limits(), '2026-01-02T00:00:00Z', sha256);
    for (const b of built) {
      const parsed = parseArtifact(JSON.parse(blobText(b)));
      expect(parsed.artifact_type).toBe(b.type);
      expect(parsed.build.version).toBe(b.version);
    }
  });
});
