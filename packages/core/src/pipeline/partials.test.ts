import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { EventTable } from '../compute/event-table.js';
import { countSessionPairs } from '../compute/cooc.js';
import { DEFAULT_LIMITS, resolveLimits } from '../limits.js';
import { IntegrityError, UsageError } from '../errors.js';
import { shardOfSession } from '../shard.js';
import { MemoryStorage } from '../testing/memory-storage.js';
import type { ObjectStorage } from '../ports.js';
import { DayItems, PARTIAL_FORMAT, SHARD_HASH, mergePartials, partialConfigHash, partialItems, partialLimits, readPartial, readPartialHeader, shardOfPartialKey, writePartial, type PartialHeaderInput } from './partials.js';
import { parseShardCount, resolveShard } from './plan.js';
import { compareUtf8 } from '../utf8-order.js';
import { dayAggregateOf, dayAggregateOfCounts } from '../compute/day-aggregate.js';
import { GroupedPairs } from '../compute/sorted-pairs.js';

const sha256 = () => {
  const h = createHash('sha256');
  return { update: (d: string | Uint8Array) => void h.update(d), digest: () => h.digest('hex') };
};

const COUNTS = { read: 5, accepted: 5, duplicates: 0, out_of_window: 0, other_scope: 0, rejected: 0, rejected_by_reason: {} };

function headerInput(index: number, count: number): PartialHeaderInput {
  return {
    format: PARTIAL_FORMAT,
    artifact_type: 'cooc',
    tenant: 't',
    surface: 's',
    segment: 'default',
    day: '2026-01-01',
    window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
    shard: { index, count },
    shard_hash: SHARD_HASH,
    config_hash: partialConfigHash('cooc', DEFAULT_LIMITS, sha256),
    limits: partialLimits('cooc', DEFAULT_LIMITS),
    counts: COUNTS,
    inputs: [],
  };
}

function table(events: [session: string, item: string][]): EventTable {
  const t = new EventTable();
  for (const [session_id, item_id] of events) t.add({ ts: '2026-01-01T10:00:00Z', tenant: 't', surface: 's', session_id, item_id });
  return t;
}

const decode = (data: Uint8Array | undefined) => new TextDecoder().decode(data);

/** The partials of `day` split into `n` shards by session, written to `storage` as `<k>-of-<n>.json`. */
async function writeShards(storage: ObjectStorage, day: [session: string, item: string][], n: number) {
  const keys: string[] = [];
  const headers = [];
  for (let k = 0; k < n; k++) {
    const t = table(day.filter(([s]) => shardOfSession(s, n) === k));
    keys.push(`${k}-of-${n}.json`);
    headers.push(await writePartial(storage, keys[k]!, headerInput(k, n), t, DEFAULT_LIMITS));
  }
  return { keys, headers };
}

/** Reads objects back in pieces of `chunk` bytes, so readers meet chunk edges everywhere. */
class ChunkedStorage extends MemoryStorage {
  chunk = Infinity;
  override async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const data = await this.get(key);
    if (!data) return undefined;
    const size = this.chunk;
    return (async function* () {
      for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
    })();
  }
}

describe('shard function (documented: FNV-1a 32 of the UTF-8 bytes, mod n)', () => {
  // Reference values of FNV-1a 32 (the first three are the published test vectors).
  test.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
    ['s1', 139573449],
    ['é', 513665217],
    ['😀', 866293256],
  ])('fnv1a32(%j) = %d', (session, hash) => {
    // With n = 2^32 the shard is the hash itself.
    expect(shardOfSession(session, 2 ** 32)).toBe(hash);
    expect(shardOfSession(session, 7)).toBe(hash % 7);
  });
});

describe('shard flags', () => {
  test('--shard i/n', () => {
    expect(resolveShard({ shard: '2/4' }, undefined)).toEqual({ index: 2, count: 4 });
    expect(resolveShard({}, '3')).toBeUndefined();
  });
  test('--shard-count n takes the index from JOB_COMPLETION_INDEX', () => {
    expect(resolveShard({ shardCount: '4' }, '3')).toEqual({ index: 3, count: 4 });
    expect(resolveShard({ shardCount: '1' }, '0')).toEqual({ index: 0, count: 1 });
  });
  test.each([
    [{ shardCount: '4' }, undefined, /JOB_COMPLETION_INDEX/],
    [{ shardCount: '4' }, '4', /from 0 to 3/],
    [{ shardCount: '4' }, '-1', /from 0 to 3/],
    [{ shardCount: '4' }, '1.5', /from 0 to 3/],
    [{ shardCount: '0' }, '0', /--shard-count must be an integer from 1/],
    [{ shardCount: 'x' }, '0', /--shard-count/],
    [{ shard: '4/4' }, undefined, /--shard/],
    [{ shard: '1' }, undefined, /--shard/],
    [{ shard: '0/0' }, undefined, /--shard/],
    [{ shard: '0/5000' }, undefined, /--shard/],
    [{ shard: '0/2', shardCount: '2' }, '0', /not both/],
  ])('%j with JOB_COMPLETION_INDEX=%j is a usage error', (flags, index, message) => {
    expect(() => resolveShard(flags, index)).toThrow(UsageError);
    expect(() => resolveShard(flags, index)).toThrow(message);
  });
  test('parseShardCount', () => {
    expect(parseShardCount('--shard-count', ' 7 ')).toBe(7);
    expect(() => parseShardCount('--shard-count', '07')).toThrow(UsageError);
  });
});

describe('partial files', () => {
  test('pairs counted row by row while writing (compute --shard) give the very bytes of the pair table', async () => {
    const storage = new MemoryStorage('partials');
    const item = fc.oneof(fc.constantFrom('a', 'b', 'c', 'é', '😀', '\uffff', 'i10', 'i9'), fc.string({ minLength: 1, maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), item), { maxLength: 120 }), async (events) => {
        const t = table(events.map(([s, i]) => [`s${s}`, i]));
        const a = await writePartial(storage, 'table', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
        const b = await writePartial(storage, 'rows', headerInput(0, 1), t, DEFAULT_LIMITS);
        expect(b).toEqual(a);
        expect(decode(storage.objects.get('rows')!.data)).toBe(decode(storage.objects.get('table')!.data));
        expect([...storage.objects.get('rows')!.data]).toEqual([...storage.objects.get('table')!.data]);
      }),
      { numRuns: 300 },
    );
  });

  test('the same bytes as the pair table for short and long sessions (sorted two ways) and items in hundreds of sessions (counted in batches)', async () => {
    const storage = new MemoryStorage('partials');
    // Sessions of 0–60 events over 40 items (repeats within a session; some longer than the insertion-sorted ones),
    // and "hub" in 250–700 of them: its sessions are counted in several batches, the last one partial.
    const item = fc.integer({ min: 0, max: 39 }).map((i) => `i${i}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(item, { maxLength: 60, size: 'max' }), { minLength: 250, maxLength: 700 }), fc.integer({ min: 0, max: 30 }), async (sessions, skip) => {
        const events = sessions.flatMap((items, s) => [...(s % 31 === skip ? [] : [['hub']]), ...items.map((i) => [i])].map(([i]): [string, string] => [`s${s}`, i!]));
        const t = table(events);
        await writePartial(storage, 'table', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
        await writePartial(storage, 'rows', headerInput(0, 1), t, DEFAULT_LIMITS);
        expect(Buffer.from(storage.objects.get('rows')!.data).equals(Buffer.from(storage.objects.get('table')!.data))).toBe(true);
      }),
      { numRuns: 15 },
    );
  });

  test('the same bytes as the pair table with tens of thousands of items: groups read off the bit set and groups sorted, spans over many words', async () => {
    const storage = new MemoryStorage('partials');
    // Tens of thousands of rare items (short groups over spans of thousands of ranks: sorted) and a few thousand
    // commoner ones (longer groups: read off the bit set when dense enough, sorted otherwise), so every way of
    // ordering a group runs, at word edges too. Ids of 6 digits: their ranks are their numbers' order.
    const item = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 999 }) }, { weight: 4, arbitrary: fc.integer({ min: 0, max: 999_999 }) }).map((i) => String(i).padStart(6, '0'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(item, { minLength: 2, maxLength: 8 }), { minLength: 2000, maxLength: 6000 }), async (sessions) => {
        const t = table(sessions.flatMap((items, s) => items.map((i): [string, string] => [`s${s}`, i])));
        await writePartial(storage, 'table', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
        await writePartial(storage, 'rows', headerInput(0, 1), t, DEFAULT_LIMITS);
        expect(Buffer.from(storage.objects.get('rows')!.data).equals(Buffer.from(storage.objects.get('table')!.data))).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  test.each([3, 16, 17, 40, 2000])('the same bytes as the pair table for an item that shares sessions with %i items spread over 40 000 ranks', async (t) => {
    // 40 000 items (each alone in a session: no pairs); item 000000 shares a session with t of them, met out of order.
    const events: [string, string][] = [];
    for (let i = 1; i < 40_000; i++) events.push([`alone${i}`, String(i).padStart(6, '0')]);
    for (let k = 0; k < t; k++) {
      const b = 1 + ((k * 7919 + 1) % t) * Math.floor(39_998 / t);
      events.push([`with${k}`, '000000'], [`with${k}`, String(b).padStart(6, '0')], [`with${k}`, String(b + 1).padStart(6, '0')]);
    }
    const storage = new MemoryStorage('partials');
    const tbl = table(events);
    await writePartial(storage, 'table', headerInput(0, 1), tbl, countSessionPairs(tbl, DEFAULT_LIMITS));
    const header = await writePartial(storage, 'rows', headerInput(0, 1), tbl, DEFAULT_LIMITS);
    expect(header.pairs).toBe(3 * t);
    expect(Buffer.from(storage.objects.get('rows')!.data).equals(Buffer.from(storage.objects.get('table')!.data))).toBe(true);
  });

  test('the item section made once per shard: each id in UTF-8 order, its UTF-8 length, bytes and exposures, whatever the id', async () => {
    const storage = new MemoryStorage('partials');
    const varint = (v: number): number[] => {
      const out: number[] = [];
      for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v & 0x7f) | 0x80);
      return [...out, v];
    };
    // Long ids (a length varint of two bytes from 128 bytes on), non-ASCII, lone surrogates (encoded as U+FFFD).
    const id = fc.oneof(
      fc.string({ minLength: 1, maxLength: 4 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 60 }),
      fc.string({ minLength: 40, maxLength: 200 }),
      fc.constantFrom('\ud800', 'a\udc00', 'é'.repeat(42), 'é'.repeat(43), 'x'.repeat(127), 'x'.repeat(128), '😀'.repeat(40)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), id), { minLength: 1, maxLength: 40 }), async (events) => {
        const t = table(events.map(([s, i]) => [`s${s}`, i]));
        const items = partialItems(t);
        const names = t.items.values;
        const order = names.map((_, k) => k).sort((a, b) => compareUtf8(names[a]!, names[b]!));
        const expected = order.flatMap((k) => {
          const bytes = [...new TextEncoder().encode(names[k]!)];
          return [...varint(bytes.length), ...bytes, ...varint(t.itemCounts.get(k))];
        });
        expect([...items.section]).toEqual(expected);
        order.forEach((k, r) => expect(items.ranks[k]).toBe(r));
        // A partial written with the shared section is the one written without it.
        await writePartial(storage, 'own', headerInput(0, 1), t, DEFAULT_LIMITS);
        await writePartial(storage, 'shared', headerInput(0, 1), t, DEFAULT_LIMITS, items);
        expect([...storage.objects.get('shared')!.data]).toEqual([...storage.objects.get('own')!.data]);
      }),
      { numRuns: 300 },
    );
  });

  test('counting pairs row by row trips max_items_per_session on the same session as the pair table, and writes nothing', async () => {
    const storage = new MemoryStorage('partials');
    const t = table([['s1', 'a'], ['s2', 'a'], ['s2', 'b'], ['s2', 'c'], ['s3', 'a'], ['s3', 'b'], ['s3', 'c'], ['s3', 'd']]);
    const limits = resolveLimits({ max_items_per_session: 3 });
    expect(() => countSessionPairs(t, limits)).toThrow(/session "s3"/);
    await expect(writePartial(storage, 'rows', headerInput(0, 1), t, limits)).rejects.toThrow(/max_items_per_session.*session "s3"|session "s3".*max_items_per_session/);
    expect(storage.objects.has('rows')).toBe(false);
  });

  test('round trip: items in UTF-8 order with exposures, each session pair once with a < b', async () => {
    const storage = new MemoryStorage('partials');
    // 😀 (U+1F600) sorts after \uffff in UTF-8 but before it in UTF-16.
    const t = table([
      ['s1', 'b'],
      ['s1', 'a'],
      ['s1', 'b'],
      ['s2', '😀'],
      ['s2', '\uffff'],
      ['s2', 'a'],
      ['s3', 'c'],
    ]);
    const header = await writePartial(storage, 'p/0-of-1.json', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
    expect(header).toMatchObject({ events: 7, sessions: 3, items: 5, pairs: 4 });
    const data = storage.objects.get('p/0-of-1.json')!.data;
    const nl = data.indexOf(10);
    expect(JSON.parse(decode(data.subarray(0, nl)))).toEqual(header);
    // Varints: per item its UTF-8 length, bytes and exposures; then per item a with pairs: a − previous a, the pair
    // count, and (b − previous b, sessions) for each.
    expect([...data.subarray(nl + 1)]).toEqual([
      ...[1, 0x61, 2, 1, 0x62, 2, 1, 0x63, 1, 3, 0xef, 0xbf, 0xbf, 1, 4, 0xf0, 0x9f, 0x98, 0x80, 1],
      ...[1, 3, 1, 1, 2, 1, 1, 1],
      ...[3, 1, 1, 1],
    ]);
    const items: [number, string, number][] = [];
    const pairs: [number, number, number][] = [];
    const read = await readPartial(storage, 'p/0-of-1.json', { item: (...a) => items.push(a), pair: (...a) => pairs.push(a) });
    expect(read).toEqual(header);
    expect(items.map((i) => i[1])).toEqual(['a', 'b', 'c', '\uffff', '😀']);
    expect(pairs).toEqual([
      [0, 1, 1],
      [0, 3, 1],
      [0, 4, 1],
      [3, 4, 1],
    ]);
    expect(await readPartialHeader(storage, 'p/0-of-1.json')).toEqual(header);
  });

  test('an id that starts with U+FEFF reads back whole, as the merge of item sections decodes it', async () => {
    const storage = new MemoryStorage('partials');
    const t = table([
      ['s1', '\ufeffa'],
      ['s1', 'b'],
    ]);
    const header = await writePartial(storage, 'p', headerInput(0, 1), t, DEFAULT_LIMITS);
    const items: string[] = [];
    await readPartial(storage, 'p', { item: (_i, id) => items.push(id), pair() {} });
    expect(items).toEqual(['b', '\ufeffa']);
    expect((await mergePartials(storage, ['p'], [header])).items.values).toEqual(items);
  });

  test('the same events in another order give the same bytes', async () => {
    const storage = new MemoryStorage('partials');
    const events: [string, string][] = [
      ['s1', 'x'],
      ['s2', 'y'],
      ['s1', 'y'],
      ['s2', 'z'],
    ];
    const a = table(events);
    const b = table([...events].reverse());
    await writePartial(storage, 'a', headerInput(0, 1), a, countSessionPairs(a, DEFAULT_LIMITS));
    await writePartial(storage, 'b', headerInput(0, 1), b, countSessionPairs(b, DEFAULT_LIMITS));
    expect(decode(storage.objects.get('a')!.data)).toBe(decode(storage.objects.get('b')!.data));
  });

  test('multi-byte counts and long rows read back the same, wherever the chunks of the object end', async () => {
    const storage = new ChunkedStorage('partials');
    // Item "a" shares a session with 5000 other items, and with "b" in 300 sessions (a 2-byte count).
    const events: [string, string][] = Array.from({ length: 5000 }, (_, k): [string, string][] => [
      [`s${k}`, 'a'],
      [`s${k}`, `i${k}`],
      ...(k < 300 ? [[`s${k}`, 'b'] as [string, string]] : []),
    ]).flat();
    const t = table(events);
    const header = await writePartial(storage, 'p', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
    const entries = async () => {
      const out: unknown[] = [];
      const h = await readPartial(storage, 'p', { item: (...e) => out.push(e), pair: (...e) => out.push(e) });
      expect(h).toEqual(header);
      return out;
    };
    storage.chunk = Infinity;
    const whole = await entries();
    expect(whole).toContainEqual([0, 1, 300]);
    // a–i<k>, a–b, b–i<k> (k < 300).
    expect(header.pairs).toBe(5000 + 1 + 300);
    expect(whole).toHaveLength(header.items + header.pairs);
    for (const chunk of [1, 2, 3, 7, 4096]) {
      storage.chunk = chunk;
      expect(await entries()).toEqual(whole);
      expect(await readPartialHeader(storage, 'p')).toEqual(header);
    }
  });

  test('a truncated or malformed partial is an integrity error', async () => {
    const storage = new MemoryStorage('partials');
    const t = table([
      ['s1', 'a'],
      ['s1', 'b'],
      ['s1', 'c'],
    ]);
    await writePartial(storage, 'p', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
    const data = storage.objects.get('p')!.data;
    const body = data.indexOf(10) + 1;
    // Every case read both ways: pairs to the visitor, and pairs decoded straight into columns (the merge's way).
    const intoColumns = (key: string) =>
      readPartial(storage, key, { item() {}, pair() {} }, { pairsInto: { grouped: new GroupedPairs(0), local: Uint32Array.from({ length: 64 }, (_, r) => r), outOfOrder: () => expect.unreachable() } });
    for (const read of [(key: string) => readPartial(storage, key, { item() {}, pair() {} }), intoColumns]) {
      // Cut anywhere after the header: never read as a whole partial.
      for (let end = body; end < data.length; end++) {
        await storage.put('cut', data.subarray(0, end));
        await expect(read('cut'), `cut at ${end}`).rejects.toThrow(/truncated/);
      }
      const tail = [...data.subarray(body + 9)];
      expect(tail).toEqual([1, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
      const withTail = async (bytes: number[]) => {
        await storage.put('bad', new Uint8Array([...data.subarray(0, body + 9), ...bytes]));
        return read('bad');
      };
      // b not above the previous b, a count of 0, an index past the items, a 33-bit number, bytes after the end.
      await expect(withTail([1, 2, 0, 1, 1, 1, 1, 1, 1, 1])).rejects.toThrow(/malformed pair entry/);
      await expect(withTail([1, 2, 1, 0, 1, 1, 1, 1, 1, 1])).rejects.toThrow(/malformed pair entry/);
      await expect(withTail([1, 2, 1, 1, 5, 1, 1, 1, 1, 1])).rejects.toThrow(/malformed pair entry/);
      await expect(withTail([1, 2, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1, 1, 1, 1, 1])).rejects.toThrow(/over 32 bits/);
      await expect(withTail([...tail, 0])).rejects.toThrow(IntegrityError);
      await expect(withTail(tail)).resolves.toBeDefined();
      // The same checks inside a long row (the decoder's fast path, taken while 10 bytes or more are left).
      const items = Array.from({ length: 30 }, (_, k) => [1, 0x61 + (k % 26), 1]).flat();
      const long = async (first: number[]) => {
        const h = { ...JSON.parse(decode(data.subarray(0, body - 1))), items: 30, pairs: 20 };
        await storage.put('long', new Uint8Array([...new TextEncoder().encode(JSON.stringify(h) + '\n'), ...items, 1, 20, ...first, ...Array.from({ length: 19 }, () => [1, 1]).flat()]));
        return read('long');
      };
      await expect(long([1, 1])).resolves.toBeDefined();
      await expect(long([0, 1])).rejects.toThrow(/malformed pair entry/);
      await expect(long([1, 0])).rejects.toThrow(/malformed pair entry/);
      await expect(long([40, 1])).rejects.toThrow(/malformed pair entry/);
      await expect(long([1, 0x80, 0x80, 0x80, 0x80, 0x10])).rejects.toThrow(/over 32 bits/);
    }
    await storage.put('nohdr', '["a",1]\n');
    await expect(readPartialHeader(storage, 'nohdr')).rejects.toThrow(/no valid header/);
  });

  // With a trailing session, the pairs checked here are decoded on the fast path (10 bytes or more left), else on the slow one.
  test.each([false, true])('pairs decoded into columns are the pairs the visitor gets, mapped; a mapping that breaks their order is refused at the pair (trailing session: %s)', async (trailing) => {
    const storage = new MemoryStorage('partials');
    // Pairs (0, 2) and (1, 3): two groups of one pair each; then (4, 5), (4, 6), … (6, 7).
    const t = table([
      ['s1', 'a'],
      ['s1', 'c'],
      ['s2', 'b'],
      ['s2', 'd'],
      ...(trailing ? ['e', 'f', 'g', 'h'].map((id) => ['s3', id] as [string, string]) : []),
    ]);
    await writePartial(storage, 'p', headerInput(0, 1), t, countSessionPairs(t, DEFAULT_LIMITS));
    const seen: number[][] = [];
    await readPartial(storage, 'p', { item() {}, pair: (...e) => seen.push(e) });
    expect(seen.slice(0, 2)).toEqual([
      [0, 2, 1],
      [1, 3, 1],
    ]);
    expect(seen.length).toBe(trailing ? 8 : 2);
    const into = async (local: number[]) => {
      const grouped = new GroupedPairs(0);
      const refused: number[][] = [];
      await readPartial(storage, 'p', { item() {}, pair: () => expect.unreachable() }, { pairsInto: { grouped, local: Uint32Array.from([...local, 50, 60, 70, 80]), outOfOrder: (a, b) => { refused.push([a, b]); throw new IntegrityError('out of order'); } } }).catch((e: unknown) => {
        if (!(e instanceof IntegrityError)) throw e;
      });
      return { refused, groups: [...grouped.xs.subarray(0, grouped.groups)], starts: [...grouped.starts.subarray(0, grouped.groups + 1)], y: [...grouped.y.subarray(0, grouped.size)], counts: [...grouped.counts.subarray(0, grouped.size)] };
    };
    const whole = await into([10, 20, 30, 40]);
    expect(whole).toEqual(trailing ? { refused: [], groups: [10, 20, 50, 60, 70], starts: [0, 1, 2, 5, 7, 8], y: [30, 40, 60, 70, 80, 70, 80, 80], counts: [1, 1, 1, 1, 1, 1, 1, 1] } : { refused: [], groups: [10, 20], starts: [0, 1, 2], y: [30, 40], counts: [1, 1] });
    // y not above x; a group not above the previous one (refused at its first pair, which it names).
    expect((await into([30, 20, 10, 40])).refused).toEqual([[0, 2]]);
    expect((await into([20, 10, 30, 40])).refused).toEqual([[1, 3]]);
  });

  test('the day items of one type are taken for the next only when every partial lists the very same items and exposures', async () => {
    const storage = new MemoryStorage('partials');
    const shard0 = table([
      ['s1', 'a'],
      ['s1', 'b'],
    ]);
    const shard1 = table([
      ['s2', 'b'],
      ['s2', 'c'],
    ]);
    const other = table([
      ['s2', 'b'],
      ['s2', 'c'],
      ['s3', 'c'],
    ]);
    const write = (key: string, index: number, t: EventTable, pairs: boolean) => writePartial(storage, key, headerInput(index, 2), t, pairs ? DEFAULT_LIMITS : undefined);
    const pop = [await write('pop0', 0, shard0, false), await write('pop1', 1, shard1, false)];
    const cooc = [await write('cooc0', 0, shard0, true), await write('cooc1', 1, shard1, true)];
    const changed = [await write('x0', 0, shard0, true), await write('x1', 1, other, true)];
    const shared = new DayItems();
    const first = await mergePartials(storage, ['pop0', 'pop1'], pop, shared);
    const second = await mergePartials(storage, ['cooc0', 'cooc1'], cooc, shared);
    // The same items: taken as they are.
    expect(second.items).toBe(first.items);
    expect(second.exposures).toBe(first.exposures);
    expect(second.pairs.size).toBe(2);
    // Other exposures (c twice): merged again, and right.
    const third = await mergePartials(storage, ['x0', 'x1'], changed, shared);
    expect(third.items).not.toBe(first.items);
    expect(Object.fromEntries(third.items.values.map((v, id) => [v, third.exposures.get(id)]))).toEqual({ a: 1, b: 2, c: 2 });
    // Without a shared one, nothing is taken over.
    expect((await mergePartials(storage, ['cooc0', 'cooc1'], cooc)).items).not.toBe(first.items);
  });

  test('merging sums exposures and pair counts across shards', async () => {
    const storage = new MemoryStorage('partials');
    const s0 = table([
      ['s1', 'a'],
      ['s1', 'b'],
    ]);
    const s1 = table([
      ['s2', 'b'],
      ['s2', 'a'],
      ['s3', 'c'],
    ]);
    const h0 = await writePartial(storage, '0', headerInput(0, 2), s0, countSessionPairs(s0, DEFAULT_LIMITS));
    const h1 = await writePartial(storage, '1', headerInput(1, 2), s1, countSessionPairs(s1, DEFAULT_LIMITS));
    const merged = await mergePartials(storage, ['0', '1'], [h0, h1]);
    const exposures = Object.fromEntries(merged.items.values.map((v, id) => [v, merged.exposures.get(id)]));
    expect(exposures).toEqual({ a: 2, b: 2, c: 1 });
    const pairs: string[] = [];
    merged.pairs.forEach((x, y, c) => pairs.push(`${[merged.items.values[x], merged.items.values[y]].sort().join('')}:${c}`));
    expect(pairs).toEqual(['ab:2']);
    expect(merged.events).toBe(5);
    expect(merged.sessions).toBe(3);
    expect(merged.counts.accepted).toBe(10);
  });

  test('merging n shards gives the items in UTF-8 order (ids are ranks) and the pairs of the whole day, sorted', async () => {
    const storage = new ChunkedStorage('partials');
    const item = fc.oneof(fc.constantFrom('a', 'b', 'c', 'é', '😀', '\uffff', 'i10', 'i9'), fc.string({ minLength: 1, maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), item), { maxLength: 120 }), fc.integer({ min: 1, max: 7 }), fc.constantFrom(1, 3, 4096), async (events, n, chunk) => {
        storage.chunk = chunk;
        const day = events.map(([s, i]): [string, string] => [`s${s}`, i]);
        const { keys, headers } = await writeShards(storage, day, n);
        const merged = await mergePartials(storage, keys, headers);
        const whole = table(day);
        const names = merged.items.values;
        expect(names).toEqual([...whole.items.values].sort(compareUtf8));
        expect([...merged.ranks]).toEqual(names.map((_, id) => id));
        expect(names.map((_, id) => merged.exposures.get(id))).toEqual(names.map((name) => whole.itemCounts.get(whole.items.lookup(name)!)));
        const want: string[] = [];
        countSessionPairs(whole, DEFAULT_LIMITS).forEach((x, y, c) => {
          const [p, q] = [whole.items.values[x]!, whole.items.values[y]!].sort(compareUtf8);
          want.push(`${names.indexOf(p!)},${names.indexOf(q!)}:${c}`);
        });
        const got: string[] = [];
        merged.pairs.forEach((x, y, c) => got.push(`${x},${y}:${c}`));
        // In (a, b) order, as the day aggregate stores them.
        const byRank = (u: string, v: string) => {
          const [a, b] = u.split(':')[0]!.split(',').map(Number);
          const [c, d] = v.split(':')[0]!.split(',').map(Number);
          return a! - c! || b! - d!;
        };
        expect(got).toEqual(want.sort(byRank));
        expect(merged.events).toBe(day.length);
        // The day aggregate of a sharded window takes the merged pairs as they are: the same as from the whole day's table.
        const aggregate = dayAggregateOfCounts('2026-01-01', merged.items, merged.exposures, merged.pairs, merged.events, merged.sessions);
        expect(aggregate).toEqual(dayAggregateOf('2026-01-01', whole, countSessionPairs(whole, DEFAULT_LIMITS)));
      }),
      { numRuns: 150 },
    );
  });

  test('merging with a filter keeps exactly the pairs that touch a flagged item, in groups of at least one pair', async () => {
    const storage = new ChunkedStorage('partials');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 24 })), { minLength: 20, maxLength: 300, size: 'max' }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.boolean(), { minLength: 25, maxLength: 25 }),
        fc.constantFrom(1, 7, 4096),
        async (events, n, flagged, chunk) => {
          storage.chunk = chunk;
          const day = events.map(([s, i]): [string, string] => [`s${s}`, `i${i}`]);
          const { keys, headers } = await writeShards(storage, day, n);
          const all = await mergePartials(storage, keys, headers);
          // Flags by the day's item (ids are ranks), from each item's name.
          const touching = Uint8Array.from(all.items.values, (name) => (flagged[Number(name.slice(1))] ? 1 : 0));
          const filtered = await mergePartials(storage, keys, headers, undefined, (exposure) => {
            expect(exposure.names).toEqual(all.items.values);
            return touching;
          });
          expect(filtered.pairs.touching).toBe(touching);
          const entries = (m: typeof all) => {
            const out: string[] = [];
            m.pairs.forEach((x, y, c) => out.push(`${x},${y}:${c}`));
            return out;
          };
          expect(entries(filtered)).toEqual(entries(all).filter((e) => e.split(':')[0]!.split(',').some((r) => touching[Number(r)] === 1)));
          const { xs, starts, y } = filtered.pairs;
          expect(starts.length).toBe(xs.length + 1);
          expect(starts[xs.length]).toBe(y.length);
          for (let g = 0; g < xs.length; g++) expect(starts[g + 1]!).toBeGreaterThan(starts[g]!);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('merging refuses a partial whose items are not in UTF-8 order; reading its items only stops before the pairs', async () => {
    const storage = new MemoryStorage('partials');
    const t = table([
      ['s1', 'a'],
      ['s1', 'b'],
    ]);
    const header = await writePartial(storage, 'good', headerInput(0, 1), t, DEFAULT_LIMITS);
    const data = storage.objects.get('good')!.data;
    const body = data.indexOf(10) + 1;
    // Items "a" and "b" (length, byte, exposures), then the pair (0, 1) in 1 session.
    expect([...data.subarray(body)]).toEqual([1, 0x61, 1, 1, 0x62, 1, 1, 1, 1, 1]);
    await storage.put('swapped', new Uint8Array([...data.subarray(0, body), 1, 0x62, 1, 1, 0x61, 1, 1, 1, 1, 1]));
    await expect(mergePartials(storage, ['swapped'], [header])).rejects.toThrow(/partial s3:\/\/partials\/swapped: item "a" \(entry 1\) is not after the previous one in UTF-8 order/);
    await expect(mergePartials(storage, ['swapped'], [header])).rejects.toThrow(IntegrityError);
    await storage.put('twice', new Uint8Array([...data.subarray(0, body), 1, 0x61, 1, 1, 0x61, 1, 1, 1, 1, 1]));
    await expect(mergePartials(storage, ['twice'], [header])).rejects.toThrow(/item "a" \(entry 1\) is not after/);
    await expect(mergePartials(storage, ['good'], [header])).resolves.toMatchObject({ events: 2 });
    // A cut pair section: refused when read whole, not when only the items are read.
    await storage.put('cut', data.subarray(0, data.length - 1));
    await expect(readPartial(storage, 'cut', { item() {}, pair() {} })).rejects.toThrow(/truncated/);
    const items: string[] = [];
    const pairs: number[] = [];
    await expect(readPartial(storage, 'cut', { item: (_i, id) => items.push(id), pair: (a) => pairs.push(a) }, { itemsOnly: true })).resolves.toEqual(header);
    expect(items).toEqual(['a', 'b']);
    expect(pairs).toEqual([]);
    await expect(mergePartials(storage, ['cut'], [header])).rejects.toThrow(/truncated/);
  });

  test('merging refuses a partial whose items change between its two reads, a popularity partial out of order, and an id that is not UTF-8', async () => {
    const t = table([
      ['s1', 'a'],
      ['s1', 'b'],
    ]);
    const scratch = new MemoryStorage('partials');
    const header = await writePartial(scratch, 'good', headerInput(0, 1), t, DEFAULT_LIMITS);
    const data = scratch.objects.get('good')!.data;
    const body = data.indexOf(10) + 1;
    // The second read finds "a" replaced by "c" (same length, same pairs).
    const changed = new Uint8Array([...data.subarray(0, body), 1, 0x63, 1, 1, 0x64, 1, 1, 1, 1, 1]);
    class Changing extends MemoryStorage {
      reads = 0;
      override async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
        if (this.reads++ === 0) return super.read(key);
        return (async function* () {
          yield changed;
        })();
      }
    }
    const storage = new Changing('partials');
    await storage.put('p', data);
    await expect(mergePartials(storage, ['p'], [header])).rejects.toThrow(/partial s3:\/\/partials\/p changed while merging/);
    // A partial without pairs is read once: its items are checked for order all the same.
    const plain = new MemoryStorage('partials');
    await plain.put('pop', new Uint8Array([...data.subarray(0, body), 1, 0x62, 1, 1, 0x61, 1]));
    await expect(mergePartials(plain, ['pop'], [{ ...header, pairs: 0 }])).rejects.toThrow(/partial s3:\/\/partials\/pop: item "a" \(entry 1\) is not after the previous one/);
    // An id that is not UTF-8 (a lone continuation byte), named with its partial.
    await plain.put('bad', new Uint8Array([...data.subarray(0, body), 1, 0x61, 1, 1, 0x80, 1, 1, 1, 1, 1]));
    await expect(mergePartials(plain, ['bad'], [header])).rejects.toThrow(/partial s3:\/\/partials\/bad: item \(entry 1\) is not UTF-8/);
    await expect(mergePartials(plain, ['bad'], [header])).rejects.toThrow(IntegrityError);
  });

  test('merging takes each id once however many partials hold it, and each partial its own items, whatever their bytes', async () => {
    const storage = new MemoryStorage('partials');
    // Ids of any bytes (non-ASCII, astral, long), spread over up to 9 partials with overlaps.
    const id = fc.oneof(fc.constantFrom('a', 'ab', 'b', 'é', '😀', '\uffff', 'a\u0000'), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), id), { maxLength: 12 }), { minLength: 1, maxLength: 9 }), async (shards) => {
        const keys: string[] = [];
        const headers = [];
        for (let k = 0; k < shards.length; k++) {
          keys.push(`${k}.json`);
          headers.push(await writePartial(storage, keys[k]!, headerInput(k, shards.length), table(shards[k]!.map(([s, i]) => [`s${k}-${s}`, i])), DEFAULT_LIMITS));
        }
        const merged = await mergePartials(storage, keys, headers);
        const all = shards.flat().map(([, i]) => i);
        const distinct = [...new Set(all)].sort(compareUtf8);
        expect(merged.items.values).toEqual(distinct);
        expect(distinct.map((_, r) => merged.exposures.get(r))).toEqual(distinct.map((i) => all.filter((x) => x === i).length));
        const whole = table(shards.flatMap((events, k) => events.map(([s, i]): [string, string] => [`s${k}-${s}`, i])));
        const want: string[] = [];
        countSessionPairs(whole, DEFAULT_LIMITS).forEach((x, y, c) => want.push([whole.items.values[x]!, whole.items.values[y]!].sort(compareUtf8).join('|') + `:${c}`));
        const got: string[] = [];
        merged.pairs.forEach((x, y, c) => got.push(`${distinct[x]}|${distinct[y]}:${c}`));
        expect(got.sort()).toEqual(want.sort());
      }),
      { numRuns: 300 },
    );
  });

  test('config hash changes with the result-shaping limits only', () => {
    const base = partialConfigHash('cooc', DEFAULT_LIMITS, sha256);
    expect(partialConfigHash('cooc', resolveLimits({ min_cooc_support: 2 }), sha256)).not.toBe(base);
    expect(partialConfigHash('cooc', resolveLimits({ max_users_per_run: 5 }), sha256)).toBe(base);
    expect(partialConfigHash('popularity', resolveLimits({ min_cooc_support: 2 }), sha256)).toBe(partialConfigHash('popularity', DEFAULT_LIMITS, sha256));
    expect(partialLimits('cooc', DEFAULT_LIMITS)).toEqual({ max_items_per_session: 1000, min_cooc_support: 1, max_neighbors_per_item: 50, max_items_per_artifact: 1000 });
  });

  test('partial key names', () => {
    expect(shardOfPartialKey('a/b/3-of-7.json')).toEqual({ index: 3, count: 7 });
    expect(shardOfPartialKey('a/b/x.json')).toBeUndefined();
  });
});
