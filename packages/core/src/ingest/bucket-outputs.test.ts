import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { MemoryStorage } from '../testing/memory-storage.js';
import { sha256 } from '../testing/fixtures.js';
import type { Crc32, ObjectStorage, WriterOptions } from '../ports.js';
import { crc32Hex, portableCrc32 } from '../crc32-portable.js';
import { BucketDecoder } from '../pipeline/bucket-format.js';
import { BucketOutputs, type PartLinesTarget } from './bucket-outputs.js';
import { ByteInterner } from './byte-interner.js';
import { concatBytes } from '../bytes.js';
import { shardOfSession } from '../shard.js';

const HEAD = { tenant: 'demo', surface: 'home', day: '2026-01-01', part: { index: 0, count: 1 } };
const enc = new TextEncoder();
const crcHex = (b: Uint8Array) => crc32Hex(portableCrc32(b, 0));
const digestOf = (b: Uint8Array) => {
  const h = sha256();
  h.update(b);
  return h.digest();
};

/** Memory storage whose writers report the SHA-256 of what they were given, as the fs adapter does. */
function reporting(storage: MemoryStorage, lie = false): ObjectStorage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop !== 'writer') return Reflect.get(target, prop, receiver) as unknown;
      return async (key: string) => {
        const w = await target.writer(key);
        const h = sha256();
        return {
          reportsSha256: true,
          write: async (chunk: string | Uint8Array) => {
            h.update(chunk);
            await w.write(chunk);
          },
          commit: async (o?: { exclusive?: boolean }) => ({ ...(await w.commit(o)), sha256: lie ? '0'.repeat(64) : h.digest() }),
          abort: () => w.abort(),
        };
      };
    },
  });
}

/**
 * Memory storage whose writers take a chunk's bytes only when the write resolves, a macrotask later (as the fs
 * adapter hands the buffer to the kernel and resolves once it is written): a buffer written into again before
 * then is stored changed.
 */
function lazy(storage: ObjectStorage): ObjectStorage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop !== 'writer') return Reflect.get(target, prop, receiver) as unknown;
      return async (key: string, options?: WriterOptions) => {
        const w = await target.writer(key, options);
        return {
          ...w,
          write: async (chunk: string | Uint8Array) => {
            await new Promise((resolve) => setImmediate(resolve));
            await w.write(chunk);
          },
          commit: (o?: { exclusive?: boolean }) => w.commit(o),
          abort: () => w.abort(),
        };
      };
    },
  });
}

/** Memory storage that records the key and options of every writer it opens into `opened`. */
function recordingWriters(storage: MemoryStorage, opened: [string, WriterOptions | undefined][]): ObjectStorage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop !== 'writer') return Reflect.get(target, prop, receiver) as unknown;
      return (key: string, options?: WriterOptions) => {
        opened.push([key, options]);
        return target.writer(key, options);
      };
    },
  });
}

interface Ev {
  session: string;
  item: string;
  bucket: number;
}

/**
 * Writes `events` through a BucketOutputs as ingest does: in chunks of `chunk` events, each chunk's
 * sessions named once as UTF-8 bytes with their keyed hash (as the parse workers send them), then its
 * events in runs of one bucket; every buffer handed over is scribbled over afterwards, except the runs
 * that close a block (written as they are).
 */
async function writeAll(storage: ObjectStorage, events: Ev[], count: number, chunk = 5, crc32?: Crc32, dictionaries = 1, linesTo?: PartLinesTarget) {
  const out = new BucketOutputs(storage, (b) => `p/bucket-${b}.bin`, count, crc32, HEAD, undefined, linesTo);
  const hasher = new ByteInterner({ key: out.sessionKey });
  const lines: string[] = [];
  // Items are numbered per parser dictionary (one per parse thread): chunk c comes from dictionary c mod `dictionaries`.
  const dictionaryIds = Array.from({ length: dictionaries }, () => new Map<string, number>());
  for (let c = 0; c < events.length; c += chunk) {
    const part = events.slice(c, c + chunk);
    const dictionary = (c / chunk) % dictionaries;
    const localItems = dictionaryIds[dictionary]!;
    const newItems: string[] = [];
    for (const e of part) {
      if (!localItems.has(e.item)) {
        localItems.set(e.item, localItems.size);
        newItems.push(e.item);
      }
    }
    const partItems = out.items(dictionary * 7 + 3, newItems);
    const local = new Map<string, number>();
    for (const e of part) if (!local.has(e.session)) local.set(e.session, local.size);
    const names = [...local.keys()].map((v) => enc.encode(v));
    const bytes = concatBytes(names);
    const ends = new Uint32Array(names.length);
    const hashes = new Uint32Array(names.length);
    let at = 0;
    names.forEach((v, j) => {
      hashes[j] = hasher.hashOf(bytes, at, (at += v.length));
      ends[j] = at;
    });
    const ids = out.sessions(bytes, ends, hashes, Uint16Array.from(local.keys(), (v) => shardOfSession(v, count)));
    bytes.fill(0x21);
    let k = c;
    while (k < c + part.length) {
      const b = events[k]!.bucket;
      let text = '';
      let n = 0;
      for (; k < c + part.length && events[k]!.bucket === b; k++, n++) {
        const e = events[k]!;
        out.row(b, ids[local.get(e.session)!]!, partItems[localItems.get(e.item)!]!);
        // Long lines so that blocks close in the middle of a run and on the run that reaches 1 MiB.
        const line = `{"k":${k},"s":${JSON.stringify(e.session)},"pad":"${'x'.repeat((k * 7919) % 500_000)}"}\n`;
        text += line;
        lines[k] = line;
      }
      const buf = enc.encode(text);
      const written = out.write(b, buf, n);
      if (written) await written; // a run that closes a block is the writer's now
      else buf.fill(0x21); // the others were copied: the caller may reuse its buffer
    }
  }
  const done = await out.finish();
  return { info: done.buckets, partition: done.partition, lines };
}

// A session's bucket is its shard (as in ingest): a session never shows up in two buckets.
const evArb = (count: number) =>
  fc.array(
    fc.record({ session: fc.oneof(fc.constantFrom('a', 'b', 'ü', 's-1', '😀x'), fc.string({ minLength: 1, maxLength: 3 })), item: fc.constantFrom('x', 'y', 'é', 'z', '😀') }).map((e) => ({ ...e, bucket: shardOfSession(e.session, count) })),
    { maxLength: 30, size: 'max' },
  );

describe('BucketOutputs', () => {
  test('each bucket holds its events and lines whatever the caller does with its buffers; its CRC-32 and size are of the stored bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }).chain((count) => fc.tuple(fc.constant(count), evArb(count), fc.constantFrom('plain', 'reporting', 'lazy'), fc.integer({ min: 1, max: 8 }))),
        async ([count, events, writers, chunk]) => {
          const memory = new MemoryStorage('parts');
          const storage = writers === 'reporting' ? reporting(memory) : writers === 'lazy' ? lazy(memory) : memory;
          const { info, lines } = await writeAll(storage, events, count, chunk);
          expect(info).toHaveLength(count);
          for (let b = 0; b < count; b++) {
            const stored = memory.objects.get(`p/bucket-${b}.bin`)!.data;
            expect(info[b]!.crc32).toBe(crcHex(stored));
            expect(info[b]!.bytes).toBe(stored.length);
            const mine = events.map((e, k) => ({ ...e, k })).filter((e) => e.bucket === b);
            expect(info[b]!.events).toBe(mine.length);
            const d = new BucketDecoder({ ...HEAD, bucket: b });
            const sessions: string[] = [];
            const items: string[] = [];
            const got: { session: string; item: string }[] = [];
            let text = '';
            for (const block of d.push(stored)) {
              sessions.push(...block.newSessions);
              items.push(...block.newItems);
              for (let k = 0; k < block.events; k++) got.push({ session: sessions[block.session[k]!]!, item: items[block.item[k]!]! });
              text += new TextDecoder().decode(concatBytes(block.lines));
            }
            expect(d.end()).toBe(mine.length);
            expect(got).toEqual(mine.map((e) => ({ session: e.session, item: e.item })));
            // Each session named once, in first-seen order (a session's id is its place in the dictionary).
            expect(sessions).toEqual([...new Set(mine.map((e) => e.session))]);
            expect(text).toBe(mine.map((e) => lines[e.k]).join(''));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('the buckets are the same bytes however the parse threads split the items among their dictionaries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }).chain((count) => fc.tuple(fc.constant(count), evArb(count), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 2, max: 4 }))),
        async ([count, events, chunk, dictionaries]) => {
          const one = new MemoryStorage('parts');
          const many = new MemoryStorage('parts');
          const a = await writeAll(one, events, count, chunk);
          const b = await writeAll(many, events, count, chunk, undefined, dictionaries);
          expect(b.info).toEqual(a.info); // CRC-32 and size of each bucket too
          for (let k = 0; k < count; k++) expect(Buffer.from(many.objects.get(`p/bucket-${k}.bin`)!.data).equals(one.objects.get(`p/bucket-${k}.bin`)!.data)).toBe(true);
        },
      ),
      { numRuns: 20 },
    );
  });

  test("the CRC-32 is the environment's when it has one (and never a writer's reported SHA-256)", async () => {
    const memory = new MemoryStorage('parts');
    // Not a CRC: a checksum that only counts bytes, to see that it is the one used, continued piece after piece.
    const counting: Crc32 = (data, value) => value + data.length;
    const { info } = await writeAll(reporting(memory, true), [{ session: 'a', item: 'x', bucket: 0 }], 1, 5, counting);
    const stored = memory.objects.get('p/bucket-0.bin')!.data;
    expect(info[0]!.crc32).toBe(crc32Hex(stored.length));
    expect(info[0]).not.toHaveProperty('sha256');
  });

  test('buckets are opened as objects their reader verifies, with no SHA-256 wanted (no read-back, no hash by the writer), every one of them', async () => {
    const opened: [string, WriterOptions | undefined][] = [];
    const recording = recordingWriters(new MemoryStorage('parts'), opened);
    await writeAll(recording, [{ session: 'a', item: 'x', bucket: shardOfSession('a', 3) }], 3);
    expect(opened.sort()).toEqual([0, 1, 2].map((b) => [`p/bucket-${b}.bin`, { verifiedByReader: true, reportSha256: false }]));
  });

  test('one part: its lines go into the shard partition (every check of the writer, its SHA-256 and size reported), its bucket holds the same ids with no lines', async () => {
    await fc.assert(
      fc.asyncProperty(evArb(1), fc.constantFrom('plain', 'reporting', 'lazy'), fc.integer({ min: 1, max: 8 }), async (events, writers, chunk) => {
        const memory = new MemoryStorage('parts');
        const canonical = new MemoryStorage('canonical');
        const opened: [string, WriterOptions | undefined][] = [];
        const recorded = recordingWriters(canonical, opened);
        const partitionStorage = writers === 'reporting' ? reporting(canonical) : writers === 'lazy' ? lazy(recorded) : recorded;
        const target = { storage: partitionStorage, key: 'c/shard-0-of-1.jsonl', sha256 };
        const withLines = await writeAll(new MemoryStorage('ref'), events, 1, chunk);
        const { info, partition, lines } = await writeAll(memory, events, 1, chunk, undefined, 1, target);
        const stored = memory.objects.get('p/bucket-0.bin')!.data;
        const written = canonical.objects.get('c/shard-0-of-1.jsonl')!.data;
        const text = lines.join('');
        expect(new TextDecoder().decode(written)).toBe(text);
        expect(partition).toEqual({ key: 'c/shard-0-of-1.jsonl', sha256: digestOf(written), bytes: written.length, events: events.length });
        if (writers !== 'reporting') expect(opened).toEqual([['c/shard-0-of-1.jsonl', undefined]]);
        expect(info).toEqual([{ ...withLines.info[0]!, bytes: stored.length, crc32: crcHex(stored) }]);
        expect(stored.length).toBe(withLines.info[0]!.bytes - enc.encode(text).length);
        // The same ids and sessions, no lines; a decoder that expects lines refuses the bucket (and the other way round).
        const d = new BucketDecoder({ ...HEAD, bucket: 0 }, { lines: false });
        const got: string[] = [];
        const sessions: string[] = [];
        const items: string[] = [];
        for (const block of d.push(stored)) {
          expect(block.lines).toEqual([]);
          sessions.push(...block.newSessions);
          items.push(...block.newItems);
          for (let k = 0; k < block.events; k++) got.push(`${sessions[block.session[k]!]!} ${items[block.item[k]!]!}`);
        }
        expect(d.end()).toBe(events.length);
        expect(got).toEqual(events.map((e) => `${e.session} ${e.item}`));
        if (events.length > 0) {
          expect(() => new BucketDecoder({ ...HEAD, bucket: 0 }).push(stored)).toThrow(/holds 0 bytes of lines/);
          const full = new MemoryStorage('ref2');
          await writeAll(full, events, 1, chunk);
          expect(() => new BucketDecoder({ ...HEAD, bucket: 0 }, { lines: false }).push(full.objects.get('p/bucket-0.bin')!.data)).toThrow(/says its lines are in the shard's partition/);
        }
      }),
      { numRuns: 40 },
    );
  });

  test('only a part of one bucket writes its lines into a partition', () => {
    expect(() => new BucketOutputs(new MemoryStorage('p'), (b) => `p/${b}`, 2, undefined, HEAD, undefined, { storage: new MemoryStorage('c'), key: 'c', sha256 })).toThrow(/only part/);
  });
});
