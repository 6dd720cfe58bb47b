// The production ingest engine (blocks of lines, parsed in a pool) must write
// exactly what the line-by-line reference engine writes — canonical
// partition, quarantine records and counts — wherever the storage's read
// chunks and the engine's parse blocks happen to cut the input.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test, vi } from 'vitest';
import {
  EventTable,
  FingerprintSet,
  LimitExceededError,
  LocalDictionary,
  MAX_LINE_BYTES,
  chunkArena,
  chunkArenaBytes,
  parseChunk,
  ingestDay,
  ingestDayReference,
  inProcessParsePool,
  resolveLimits,
  silentLogger,
  systemClock,
  type ChunkContext,
  type ChunkResult,
  type ConditionalPutResult,
  type ObjectInfo,
  type ObjectStorage,
  type ObjectWriter,
  type ParsePool,
  type PipelineEnv,
  type ReadOptions,
} from '../internal.js';

/**
 * A minimal in-memory ObjectStorage whose `read` streams in chunks cut at
 * `cuts` (byte offsets), each a Node Buffer over an ArrayBuffer of its own,
 * as a file's read stream yields them (on a Buffer, `slice` is a view).
 */
class MemoryStorage implements ObjectStorage {
  readonly location = 'memory://test';
  readonly objects = new Map<string, Uint8Array>();
  constructor(private readonly cuts: readonly number[] = []) {}
  uri(key: string) {
    return `memory://test/${key}`;
  }
  keyOfUri(uri: string) {
    return uri.startsWith('memory://test/') ? uri.slice(14) : undefined;
  }
  async get(key: string) {
    return this.objects.get(key);
  }
  async getVersioned(key: string) {
    const data = this.objects.get(key);
    return data ? { data, generation: createHash('sha256').update(data).digest('hex') } : undefined;
  }
  async read(key: string, options?: ReadOptions) {
    const data = this.objects.get(key);
    if (!data) return undefined;
    const cuts = [...new Set(this.cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
    const into = options?.into;
    return (async function* () {
      let from = 0;
      const own = (bytes: Uint8Array) => Buffer.from(new Uint8Array(bytes).buffer);
      // Into the caller's buffers (ReadOptions.into), as the fs storage reads: a view of each from its start.
      async function* chunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
        if (!into) {
          yield own(bytes);
          return;
        }
        for (let at = 0; at < bytes.length || at === 0; ) {
          const buffer = await into.next();
          const n = Math.min(buffer.length, bytes.length - at);
          buffer.set(bytes.subarray(at, at + n));
          yield buffer.subarray(0, n);
          at += n;
          if (n === 0) break;
        }
      }
      for (const cut of cuts) {
        yield* chunks(data.subarray(from, cut));
        from = cut;
      }
      yield* chunks(data.subarray(from));
    })();
  }
  async stat(key: string): Promise<ObjectInfo | undefined> {
    const data = this.objects.get(key);
    return data ? { key, size: data.length } : undefined;
  }
  async put(key: string, data: string | Uint8Array) {
    this.objects.set(key, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }
  async putIfAbsent(key: string, data: string | Uint8Array): Promise<ConditionalPutResult> {
    if (this.objects.has(key)) return 'conflict';
    await this.put(key, data);
    return 'written';
  }
  async putIfGeneration(key: string, data: string | Uint8Array, generation: string | null): Promise<ConditionalPutResult> {
    const current = await this.getVersioned(key);
    if ((current?.generation ?? null) !== generation) return 'conflict';
    await this.put(key, data);
    return 'written';
  }
  async writer(key: string): Promise<ObjectWriter> {
    const parts: Buffer[] = [];
    return {
      write: async (chunk) => void parts.push(Buffer.from(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)),
      commit: async (options?: { exclusive?: boolean }) => {
        const data = Buffer.concat(parts);
        if (options?.exclusive && this.objects.has(key)) return { size: data.length, written: false };
        this.objects.set(key, data);
        return { size: data.length, written: true };
      },
      abort: async () => {},
    };
  }
  async *list(prefix: string) {
    for (const key of [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort()) yield { key, size: this.objects.get(key)!.length };
  }
  async delete(key: string) {
    this.objects.delete(key);
  }
}

const sha256 = () => {
  const h = createHash('sha256');
  return { update: (d: string | Uint8Array) => void h.update(d), digest: () => h.digest('hex') };
};

function envWith(raw: MemoryStorage): { env: PipelineEnv; out: MemoryStorage } {
  const out = new MemoryStorage();
  const env = {
    areas: { raw, canonical: out, quarantine: out, artifacts: out, objects: out, registry: out, checkpoints: out },
    limits: resolveLimits(),
    clock: systemClock,
    logger: silentLogger,
    identity: { runId: 'r', host: 'h', user: 'u', tool: { name: 't', version: '0' } },
    sha256,
  } as PipelineEnv;
  return { env, out };
}

const scope = { tenant: 'demo', surface: 'home' };
const DAY = '2026-01-01';
const RAW_KEY = `demo/home/exposure.${DAY}.jsonl`;

/**
 * A pool like the CLI's worker pool, on this thread: the first block of a
 * stream on a dictionary of its own (the pool's main-thread parse), then
 * blocks round-robin over `workers` dictionaries (one per worker), so local
 * ids of several dictionaries meet in the merge.
 */
function roundRobinPool(workers: number): ParsePool & { outstanding(): number } {
  return assignedPool(workers, Array.from({ length: workers }, (_, i) => i + 1));
}

/**
 * A pool that parses each block after a stream's first on any dictionary:
 * block k on dictionary `choice[k % choice.length] % (workers + 1)`, where 0
 * is the first block's (the CLI pool parses on its own thread until a worker
 * is ready, then sends blocks to the least busy worker). Each dictionary
 * still sees its blocks in input order, as a worker answers in order. Like
 * the worker pool, it takes each block's whole buffer over (the buffer is
 * detached from the caller, as a worker pool once moved it), copies the
 * block into memory of its own and parses it into an arena there (the
 * result's arrays are views of that memory), and reuses that memory once
 * the caller releases the result: here it overwrites all of it at once, so
 * a caller that reads a result (or hands its bytes to a writer that keeps
 * them) after releasing it writes garbage. `outstanding()` counts results
 * not released. Its `readBuffers` hand out a fresh buffer for every read
 * (the first ones short views of it, as the worker pool's first reads are)
 * and fill the previous one with garbage unless a parse took it (ingest
 * must have copied what it keeps of it); a parse of a chunk read into one
 * parses it there, as the worker pool does.
 */
function assignedPool(workers: number, choice: readonly number[]): ParsePool & { outstanding(): number } {
  const dicts = Array.from({ length: workers + 1 }, (_, i) => new LocalDictionary(i));
  let stream: string | undefined;
  let k = 0;
  const live = new Map<ChunkResult, { raw: Uint8Array; arena: ArrayBuffer }>();
  const handedOut = new Set<ArrayBufferLike>();
  let reading: Uint8Array | undefined;
  // Short first reads (WorkerParsePool's firstReads): each is parsed as a block of its own, however short.
  const firstReads = [70, 200, 1000];
  const parse = (given: Uint8Array, ctx: ChunkContext, dict: LocalDictionary) => {
    let raw: Uint8Array;
    let chunk: Uint8Array;
    if (reading && given.buffer === reading.buffer) {
      // Read into our buffer: parsed where it is, and ours until released.
      raw = reading;
      chunk = given;
      reading = undefined;
    } else {
      // Like the worker pool, it takes each block's whole buffer over (moved, as to a worker) and copies it.
      const moved = structuredClone(given, { transfer: [given.buffer as ArrayBuffer] });
      raw = new Uint8Array(moved.length + 16);
      raw.set(moved);
      chunk = raw.subarray(0, moved.length);
    }
    const arena = new ArrayBuffer(chunkArenaBytes(raw.length));
    const r = parseChunk(chunk, ctx, dict, { arena: chunkArena(arena, raw.length) });
    live.set(r, { raw, arena });
    return r;
  };
  return {
    readBuffers: {
      next: async () => {
        reading?.fill(0x7b);
        reading = new Uint8Array(1 << 16);
        handedOut.add(reading.buffer);
        const first = firstReads.shift();
        return first === undefined ? reading : reading.subarray(0, first);
      },
      owns: (bytes) => handedOut.has(bytes.buffer),
    },
    parse: async (chunk, ctx) => {
      // One kind of array for the parser whatever the source yields (here Node Buffers): plain Uint8Arrays.
      expect(Object.getPrototypeOf(chunk)).toBe(Uint8Array.prototype);
      if (stream !== ctx.stream) {
        stream = ctx.stream;
        k = 0;
        return parse(chunk, ctx, dicts[0]!);
      }
      return parse(chunk, ctx, dicts[choice[k++ % choice.length]! % (workers + 1)]!);
    },
    release: (r) => {
      const block = live.get(r);
      expect(block, 'a result released twice, or not from this pool').toBeDefined();
      live.delete(r);
      // The next chunk's bytes would land here: garbage now, so that reading it later shows.
      block!.raw.fill(0x7b);
      new Uint8Array(block!.arena).fill(0xa5);
    },
    outstanding: () => live.size,
  };
}

/** Every column and dictionary of an event table, as plain arrays. */
function tableContents(table: EventTable) {
  return {
    events: table.length,
    items: [...table.items.values],
    sessions: [...table.sessions.values],
    users: [...table.users.values],
    item: [...table.item.view()],
    session: [...table.session.view()],
    user: [...table.user.view()],
    secondsMs: [...table.secondsMs.view()],
    nanos: [...table.nanos.view()],
    itemCounts: Array.from({ length: table.items.size }, (_, i) => table.itemCounts.get(i)),
  };
}

async function ingestBoth(data: Uint8Array, cuts: readonly number[], chunkBytes: number, workers = 0, tableOptions: { users?: boolean; instants?: boolean } = {}, choice?: readonly number[]) {
  const results = [];
  for (const engine of ['reference', 'blocks', 'spilled'] as const) {
    const raw = new MemoryStorage(engine === 'reference' ? [] : cuts);
    raw.objects.set(RAW_KEY, data);
    const { env: base, out } = envWith(raw);
    // A budget of one byte spills every day's duplicate table; the spill files are read back in chunks cut at `cuts` too.
    const scratch = new MemoryStorage(cuts);
    const env = engine === 'spilled' ? { ...base, spill: { memoryBudget: 1, scratch } } : base;
    const table = new EventTable(tableOptions);
    // An earlier day's rows stay in the table: the spilled path must remove only this day's duplicates.
    table.addRow(table.sessions.intern('earlier'), table.items.intern('A'), 0xffffffff, 0, 0);
    const recycling = workers === 0 ? undefined : choice ? assignedPool(workers, choice) : roundRobinPool(workers);
    const pool = recycling ?? inProcessParsePool();
    const report = engine === 'reference' ? await ingestDayReference(env, scope, DAY, table) : await ingestDay(env, scope, DAY, table, { pool, chunkBytes });
    if (engine === 'spilled') expect([...scratch.objects.keys()]).toEqual([]);
    // Every result handed back once merged (a pool of reused memory would wait for it).
    if (recycling) expect(recycling.outstanding()).toBe(0);
    const text = (key: string) => (out.objects.has(key) ? Buffer.from(out.objects.get(key)!).toString('utf8') : undefined);
    results.push({
      counts: report.counts,
      canonicalSha: report.canonical.sha256,
      canonical: text(`demo/home/exposures/${DAY}.jsonl`),
      quarantine: text(`demo/home/${DAY}.jsonl`),
      table: tableContents(table),
    });
  }
  return { reference: results[0]!, blocks: results[1]!, spilled: results[2]! };
}

const ev = (fields: Record<string, unknown>) => JSON.stringify({ v: 1, ts: `${DAY}T10:00:00Z`, tenant: 'demo', surface: 'home', session_id: 's1', item_id: 'A', ...fields });
const HUGE = 'h'.repeat(MAX_LINE_BYTES + 5);
// Longer than the limit by more than one read chunk, so the engine must skip it while reading.
const HUGER = 'g'.repeat(MAX_LINE_BYTES + 300_000);
const lineArb = fc.oneof(
  { weight: 10, arbitrary: fc.record({ session_id: fc.constantFrom('s1', 's2', ' s3 '), item_id: fc.constantFrom('A', 'B', 'é', '\u{1F600}', 'x<y'), user_id: fc.constantFrom(undefined, 'u1', ''), rank: fc.constantFrom(undefined, 0, 3) }).map((f) => ev(Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)))) },
  { weight: 3, arbitrary: fc.constantFrom(ev({ v: 2 }), ev({ rank: -1 }), ev({ extra: 1 }), ev({ ts: 'yesterday' }), ev({ item_id: ' ' }), ev({ tenant: 'other' }), ev({ ts: '2026-01-02T00:00:00Z' }), '{broken', '[]', '', '   ', ev({ ts: `${DAY}T01:00:00+01:00` })) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0x7b, 0xff, 0x7d]), Buffer.from([0xe2, 0x82])) },
  { weight: 1, arbitrary: fc.constantFrom(ev({ user_id: HUGE }), HUGE, HUGER) },
);
const inputArb = fc
  .tuple(fc.array(lineArb, { minLength: 1, maxLength: 30 }), fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 30, maxLength: 30 }), fc.boolean())
  .map(([lines, endings, trailing]) => Buffer.concat(lines.flatMap((l, i) => [Buffer.from(l), Buffer.from(i < lines.length - 1 || trailing ? endings[i]! : '')])));

// Many distinct ids in a different first-seen order per block, so each dictionary's local ids differ from the global ones.
const idLineArb = fc
  .record({
    session_id: fc.constantFrom('s1', 's2', 's3', 's4', 's5'),
    item_id: fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'é', '\u{1F600}'),
    user_id: fc.constantFrom(undefined, 'u1', 'u2', 'u3', 'u4', ''),
    ts: fc.constantFrom(`${DAY}T10:00:00Z`, `${DAY}T10:00:00.5Z`, `${DAY}T09:59:59.123456789Z`),
  })
  .map((f) => ev(Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined))));
const idInputArb = fc.array(fc.oneof({ weight: 8, arbitrary: idLineArb }, { weight: 1, arbitrary: lineArb }), { minLength: 1, maxLength: 80 }).map((lines) => Buffer.from(lines.map((l) => Buffer.from(l).toString('latin1')).join('\n'), 'latin1'));

describe('ingestDay (blocks) equals ingestDayReference (line by line)', () => {
  test('property: same partition, quarantine, counts and table for any read chunks and block size, with the duplicate table in memory or spilled', async () => {
    await fc.assert(
      fc.asyncProperty(
        inputArb.chain((data) =>
          fc.tuple(
            fc.constant(data),
            // A few random cuts, or (for big inputs) regular 64 KiB chunks plus random ones, like a file stream.
            fc.oneof(
              fc.array(fc.integer({ min: 1, max: Math.max(1, data.length - 1) }), { maxLength: 8 }),
              fc.array(fc.integer({ min: 1, max: Math.max(1, data.length - 1) }), { maxLength: 4 }).map((c) => [...c, ...Array.from({ length: Math.floor(data.length / 65536) }, (_, i) => (i + 1) * 65536)]),
            ),
            fc.constantFrom(1, 7, 64, 300, 1 << 16, 4 << 20),
          ),
        ),
        async ([data, cuts, chunkBytes]) => {
          const { reference, blocks, spilled } = await ingestBoth(data, cuts, chunkBytes);
          expect(blocks).toEqual(reference);
          // Duplicates removed after the day was read (spilled table) leave exactly the same outputs and table.
          expect(spilled).toEqual(reference);
        },
      ),
      { numRuns: 120 },
    );
  });

  test('property: the same event table (global ids, columns, counts) with 1–4 parse dictionaries and any block split', async () => {
    await fc.assert(
      fc.asyncProperty(
        idInputArb,
        fc.array(fc.integer({ min: 1, max: 8000 }), { maxLength: 6 }),
        fc.constantFrom(1, 200, 700, 1 << 16),
        fc.integer({ min: 1, max: 4 }),
        fc.record({ users: fc.boolean(), instants: fc.boolean() }),
        async (data, cuts, chunkBytes, workers, tableOptions) => {
          const { reference, blocks, spilled } = await ingestBoth(data, cuts, chunkBytes, workers, tableOptions);
          expect(blocks).toEqual(reference);
          expect(spilled).toEqual(reference);
        },
      ),
      { numRuns: 120 },
    );
  });

  test('property: the same event table whichever dictionary parses each block (the first thread while workers start, then the least busy)', async () => {
    await fc.assert(
      fc.asyncProperty(
        idInputArb,
        // Reads of `step` bytes: a block ends at the last newline of what was read, so many blocks need small reads.
        fc.integer({ min: 40, max: 600 }).map((step) => Array.from({ length: 250 }, (_, i) => (i + 1) * step)),
        fc.constantFrom(1, 200, 700),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 8 }),
        fc.record({ users: fc.boolean(), instants: fc.boolean() }),
        async (data, cuts, chunkBytes, workers, choice, tableOptions) => {
          const { reference, blocks } = await ingestBoth(data, cuts, chunkBytes, workers, tableOptions, choice);
          expect(blocks).toEqual(reference);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('property: max_events_per_run stops both engines with the same error (the first event over the limit)', async () => {
    await fc.assert(
      fc.asyncProperty(inputArb, fc.integer({ min: 0, max: 12 }), fc.constantFrom(1, 64, 300, 1 << 16), fc.integer({ min: 0, max: 3 }), async (data, max, chunkBytes, workers) => {
        const outcome = async (engine: 'reference' | 'blocks') => {
          const raw = new MemoryStorage();
          raw.objects.set(RAW_KEY, data);
          const { env } = envWith(raw);
          const limited = { ...env, limits: { ...env.limits, max_events_per_run: max } } as PipelineEnv;
          try {
            const r = engine === 'reference' ? await ingestDayReference(limited, scope, DAY, new EventTable()) : await ingestDay(limited, scope, DAY, new EventTable(), { pool: workers === 0 ? inProcessParsePool() : roundRobinPool(workers), chunkBytes });
            return { accepted: r.counts.accepted };
          } catch (error) {
            expect(error).toBeInstanceOf(LimitExceededError);
            return { error: (error as Error).message };
          }
        };
        expect(await outcome('blocks')).toEqual(await outcome('reference'));
      }),
      { numRuns: 150 },
    );
  });

  test('a spooled partition that does not read back whole fails the day (integrity) and writes no partition', async () => {
    const raw = new MemoryStorage();
    raw.objects.set(RAW_KEY, Buffer.from([ev({}), ev({ item_id: 'B' }), ev({}), ev({ session_id: 's2' })].join('\n') + '\n'));
    const { env: base, out } = envWith(raw);
    const scratch = new MemoryStorage();
    // The spool loses its last byte as it is committed (scratch files are not hashed).
    const writer = scratch.writer.bind(scratch);
    scratch.writer = async (key) => {
      const w = await writer(key);
      if (!key.endsWith('/partition.jsonl')) return w;
      return { ...w, commit: async (o) => {
        const r = await w.commit(o);
        scratch.objects.set(key, scratch.objects.get(key)!.subarray(0, r.size - 1));
        return r;
      } };
    };
    const env = { ...base, spill: { memoryBudget: 1, scratch } };
    await expect(ingestDay(env, scope, DAY, new EventTable(), { pool: inProcessParsePool() })).rejects.toMatchObject({ kind: 'integrity', message: expect.stringMatching(/spooled partition .* reads back 3 lines \/ \d+ bytes; 4 lines \/ \d+ bytes were written/) });
    expect(out.objects.has(`demo/home/exposures/${DAY}.jsonl`)).toBe(false);
    expect([...scratch.objects.keys()]).toEqual([]);
  });

  test('users are parsed only for a table with the user column: a table without it and a plain ingest ask the parse for none', async () => {
    const asked = async (table: EventTable | undefined) => {
      const raw = new MemoryStorage();
      raw.objects.set(RAW_KEY, Buffer.from([ev({ user_id: 'u1' }), ev({ item_id: 'B', user_id: 'u2' })].join('\n') + '\n'));
      const inner = inProcessParsePool();
      const seen: (boolean | undefined)[] = [];
      const pool: ParsePool = { parse: (chunk, ctx) => (seen.push(ctx.users), inner.parse(chunk, ctx)) };
      await ingestDay(envWith(raw).env, scope, DAY, table, { pool });
      return { seen: [...new Set(seen)], users: table ? [...table.users.values] : undefined, user: table ? [...table.user.view()] : undefined };
    };
    const withUsers = await asked(new EventTable({ users: true }));
    expect(withUsers.seen).toEqual([undefined]);
    expect(withUsers.users).toEqual(['u1', 'u2']);
    expect(withUsers.user).toEqual([0, 1]);
    expect((await asked(new EventTable({ users: false }))).seen).toEqual([false]);
    expect((await asked(undefined)).seen).toEqual([false]);
  });

  test('the event table is sized for the day before its first merge: no column is copied while the day is read', async () => {
    // Lines of at least 160 bytes (what ingest guesses a raw event takes), so the guess covers every event.
    const lines = Array.from({ length: 3000 }, (_, i) => ev({ session_id: `s${i % 97}`, item_id: `item-${i % 300}`, request_id: `r-${i}-${'x'.repeat(60)}` }));
    expect(Math.min(...lines.map((l) => l.length + 1))).toBeGreaterThanOrEqual(160);
    // Read in 16 KiB chunks, so the day is merged chunk by chunk.
    const raw = new MemoryStorage(Array.from({ length: 40 }, (_, i) => (i + 1) << 14));
    raw.objects.set(RAW_KEY, Buffer.from(lines.join('\n') + '\n'));
    // Every array the table's item column had when a merge reserved its rows.
    const arrays = new Set<Uint32Array>();
    class Watched extends EventTable {
      override reserve(rows: number): void {
        super.reserve(rows);
        arrays.add(this.item.data);
      }
    }
    const table = new Watched({ users: false, instants: false });
    const report = await ingestDay(envWith(raw).env, scope, DAY, table, { pool: inProcessParsePool(), chunkBytes: 16 << 10 });
    expect(report.counts.accepted).toBe(lines.length);
    expect(table.length).toBe(lines.length);
    // One array from the first reserve on (the day's), however many chunks were merged into it.
    expect(arrays.size).toBe(1);
    expect([...table.item.view()]).toEqual(lines.map((_, i) => i % 300));
  });

  test('an over-long CRLF line reports the same byte count in both engines', async () => {
    const data = Buffer.from(`${ev({})}\n${HUGER}\r\n${ev({ item_id: 'B' })}\n`);
    // Read chunks of 64 KiB: the engine must skip the line without ever holding it whole.
    const every64k = Array.from({ length: 20 }, (_, i) => (i + 1) * 65536);
    for (const [cuts, chunkBytes] of [[[100, 70_000], 64], [[100, 70_000], 4 << 20], [every64k, 64], [every64k, 1 << 20], [every64k, 4 << 20]] as const) {
      const { reference, blocks } = await ingestBoth(data, cuts, chunkBytes);
      expect(blocks.quarantine).toBe(reference.quarantine);
      expect(JSON.parse(reference.quarantine!).detail).toBe(`line is ${HUGER.length} bytes; the limit is 1 MiB`);
    }
  });
});

/**
 * A pool that answers only when the test says so: `settle()` resolves the
 * oldest parse. It counts the reads it hands buffers out for (each a fresh
 * buffer of `readBytes`, the first ones views of `firstReads` bytes of it),
 * and the parses posted and not yet answered. A block read into one of its
 * buffers, or of at least half `readBytes`, is a full one (takes a place of
 * `depth`).
 */
function heldPool(depth: number, readBytes: number, firstReads: readonly number[] = []) {
  const dict = new LocalDictionary(0);
  const held: { result: ChunkResult; resolve: (r: ChunkResult) => void; big: boolean }[] = [];
  const owned = new Set<ArrayBufferLike>();
  const state = { reads: 0, posted: 0, bigPosted: 0, released: 0, mostHeldBig: 0 };
  const pool: ParsePool = {
    depth,
    readBuffers: {
      next: async () => {
        const buffer = new Uint8Array(readBytes);
        owned.add(buffer.buffer);
        const first = firstReads[state.reads++];
        return first === undefined ? buffer : buffer.subarray(0, first);
      },
      owns: (bytes) => owned.has(bytes.buffer),
    },
    parse: (chunk, ctx) => {
      const big = owned.has(chunk.buffer) || chunk.length >= readBytes / 2;
      const result = parseChunk(new Uint8Array(chunk), ctx, dict);
      state.posted++;
      if (big) state.bigPosted++;
      return new Promise<ChunkResult>((resolve) => {
        held.push({ result, resolve, big });
        state.mostHeldBig = Math.max(state.mostHeldBig, held.filter((h) => h.big).length);
      });
    },
    release: () => void state.released++,
  };
  const settle = () => {
    const h = held.shift()!;
    h.resolve(h.result);
  };
  const heldBig = () => held.filter((h) => h.big).length;
  return { pool, state, settle, heldBig, held };
}

/** Lets every pending promise and immediate of the ingest run (the memory storage does no real I/O). */
async function quiesce() {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ingest keeps its parse pool busy', () => {
  test('property: `depth` full chunks posted and not merged (the one-line blocks joining two reads not counted; the short first reads counted), never more, and the next read started while the oldest waits', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => ev({ session_id: `s${i % 7}`, item_id: `item-${i}` }));
    const data = Buffer.from(lines.join('\n') + '\n');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.constantFrom(512, 1024, 2048), fc.constantFrom([], [256], [256, 384, 256]), async (depth, chunkBytes, firstReads) => {
        const raw = new MemoryStorage();
        raw.objects.set(RAW_KEY, data);
        // How many full blocks the day has: a run whose parses are answered at once.
        const dry = heldPool(depth, chunkBytes, firstReads);
        const dryDay = ingestDay(envWith(raw).env, scope, DAY, new EventTable(), { pool: dry.pool, chunkBytes });
        for (let settled = false; !settled; ) {
          await quiesce();
          while (dry.held.length > 0) dry.settle();
          settled = await Promise.race([dryDay.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
        }
        const bigBlocks = dry.state.bigPosted;
        const { env, out } = envWith(raw);
        const { pool, state, settle, heldBig, held } = heldPool(depth, chunkBytes, firstReads);
        let done = false;
        const day = ingestDay(env, scope, DAY, new EventTable(), { pool, chunkBytes }).finally(() => (done = true));
        // Every read fills its buffer (the short first ones too) but the last, and each but the first yields a one-line
        // block and a full one (every read holds a newline).
        const readSizes: number[] = [...firstReads];
        while (readSizes.reduce((a, b) => a + b, 0) < data.length) readSizes.push(chunkBytes);
        const fullChunks = readSizes.filter((_, i) => readSizes.slice(0, i + 1).reduce((a, b) => a + b, 0) <= data.length).length;
        let answered = 0;
        for (;;) {
          await quiesce();
          if (done) break;
          const bigLeft = bigBlocks - answered;
          // Waiting for the oldest parse with the pool `depth` full chunks deep (fewer only once the input ran out).
          expect(heldBig()).toBe(Math.min(depth, bigLeft));
          // ... and the read after the last chunk posted already asked for.
          if (state.bigPosted < fullChunks) expect(state.reads).toBe(state.bigPosted + 1);
          expect(held.length).toBeGreaterThan(0);
          if (held[0]!.big) answered++;
          settle();
        }
        const report = await day;
        expect(state.mostHeldBig).toBe(Math.min(depth, bigBlocks));
        expect(state.released).toBe(state.posted);
        expect(report.counts.accepted).toBe(lines.length);
        expect(Buffer.from(out.objects.get(`demo/home/exposures/${DAY}.jsonl`)!).toString()).toBe(data.toString());
      }),
      { numRuns: 15 },
    );
  });

  test('while the oldest parse is out, the main thread goes through the duplicate table (prefault); with every parse back at once, it does not', async () => {
    const lines = Array.from({ length: 60 }, (_, i) => ev({ session_id: `s${i % 7}`, item_id: `item-${i}` }));
    const data = Buffer.from(lines.join('\n') + '\n');
    const prefault = vi.spyOn(FingerprintSet.prototype, 'prefault');
    try {
      const raw = new MemoryStorage();
      raw.objects.set(RAW_KEY, data);
      // Parses on this thread: each is back after a microtask, nothing to wait for.
      const here = await ingestDay(envWith(raw).env, scope, DAY, new EventTable(), { pool: inProcessParsePool(), chunkBytes: 1024 });
      expect(prefault).not.toHaveBeenCalled();
      // A pool that answers only when told: ingest waits for the oldest parse, and meanwhile goes through the table
      // (2 MiB for the smallest table: one step of 4 MiB, which says nothing is left).
      const { env, out } = envWith(raw);
      const { pool, settle, held } = heldPool(2, 1024);
      let done = false;
      const day = ingestDay(env, scope, DAY, new EventTable(), { pool, chunkBytes: 1024 }).finally(() => (done = true));
      await quiesce();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(prefault).toHaveBeenCalledTimes(1);
      expect(prefault.mock.calls[0]).toEqual([4 << 20]);
      expect(prefault.mock.results[0]!.value).toBe(false);
      while (!done) {
        await quiesce();
        if (held.length > 0) settle();
      }
      expect((await day).counts.accepted).toBe(lines.length);
      // Asked again at later waits, with nothing left to do.
      expect(prefault.mock.results.every((r) => r.value === false)).toBe(true);
      expect(Buffer.from(out.objects.get(`demo/home/exposures/${DAY}.jsonl`)!).toString()).toBe(data.toString());
      expect(here.counts.accepted).toBe(lines.length);
    } finally {
      prefault.mockRestore();
    }
  });
});
