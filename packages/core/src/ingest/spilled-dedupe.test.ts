// The spilled duplicate table must drop exactly the events the in-memory
// table drops (every later occurrence, the first one kept), whatever the
// partition count, the write buffer size and the read chunks of the spill
// files; and it must leave nothing behind on the scratch storage.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FingerprintSet, SpilledDedupe, dedupePlan } from '../internal.js';
import { MemoryStorage } from '../testing.js';

/** Scratch storage whose reads come in pieces of `piece` bytes (at unaligned offsets). */
class ChoppedStorage extends MemoryStorage {
  constructor(private readonly piece: number) {
    super('scratch');
  }
  override async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const data = await this.get(key);
    if (!data) return undefined;
    const piece = this.piece;
    return (async function* () {
      for (let at = 0; at < data.length; at += piece) yield data.subarray(at, at + piece);
    })();
  }
}

type Fp = readonly [number, number, number, number];
const word = fc.constantFrom(0, 1, 0x80000000, 0xffffffff, 0x12345678, 0x9e3779b1);
// Few distinct values, so duplicates are common; same unkeyed part with another keyed part is a collision, not a duplicate.
const fpArb: fc.Arbitrary<Fp> = fc.tuple(word, word, fc.constantFrom(0, 7), fc.constantFrom(0, 9));

function inMemory(fps: readonly Fp[]): { dropped: number[]; collisions: number } {
  const set = new FingerprintSet(4);
  const dropped: number[] = [];
  fps.forEach((f, seq) => {
    if (!set.add(f[0], f[1], f[2], f[3])) dropped.push(seq);
  });
  return { dropped, collisions: set.collisions };
}

const bits = (dropped: Uint8Array, n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => (dropped[i >>> 3]! >>> (i & 7)) & 1);

describe('SpilledDedupe', () => {
  test('property: addBlock records the kept events, in order, as add would (same dropped events after resolve)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fpArb, fc.boolean()), { maxLength: 300 }), async (events) => {
        const spilled = new SpilledDedupe(new MemoryStorage('scratch'), 'ingest-x', 4, { bufferRecords: 5 });
        const fp = new Uint32Array(events.length * 4);
        const keep = new Uint8Array(events.length);
        events.forEach(([f, skip], k) => {
          fp.set(f, k * 4);
          keep[k] = skip ? 0 : 1;
        });
        const before = [...keep];
        expect(spilled.addBlock(fp, events.length, keep)).toBe(0);
        expect([...keep]).toEqual(before);
        expect(spilled.size).toBe(events.filter(([, skip]) => !skip).length);
        await spilled.flush();
        const { dropped } = await spilled.resolve();
        expect(bits(dropped, spilled.size)).toEqual(inMemory(events.filter(([, skip]) => !skip).map(([f]) => f)).dropped);
      }),
      { numRuns: 200 },
    );
  });

  test('property: drops exactly what the in-memory table drops, for any partitions, buffers and read chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fpArb, { maxLength: 300 }),
        fc.constantFrom(2, 4, 16, 256),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 40 }),
        async (fps, partitions, bufferRecords, piece, flushEvery) => {
          const scratch = new ChoppedStorage(piece);
          const spilled = new SpilledDedupe(scratch, 'ingest-x', partitions, { bufferRecords });
          for (let i = 0; i < fps.length; i++) {
            const f = fps[i]!;
            expect(spilled.add(f[0], f[1], f[2], f[3])).toBe(true);
            if (i % flushEvery === 0) await spilled.flush();
          }
          const { dropped, count } = await spilled.resolve();
          const expected = inMemory(fps);
          expect(bits(dropped, fps.length)).toEqual(expected.dropped);
          expect(count).toBe(expected.dropped.length);
          // The count is a diagnostic (probes past a same-unkeyed entry depend on table size and growth); whether any happened is not.
          expect(spilled.collisions > 0).toBe(expected.collisions > 0);
          expect([...scratch.objects.keys()]).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('a truncated spill file is an error, not a silent miss', async () => {
    const scratch = new ChoppedStorage(7);
    // Each spill file loses its tail as it is committed (on read-back).
    const writer = scratch.writer.bind(scratch);
    scratch.writer = async (key) => {
      const w = await writer(key);
      return {
        ...w,
        commit: async (o) => {
          const r = await w.commit(o);
          await scratch.put(key, (await scratch.get(key))!.subarray(0, 30));
          return r;
        },
      };
    };
    const spilled = new SpilledDedupe(scratch, 'ingest-x', 2, { bufferRecords: 1 });
    for (let i = 0; i < 10; i++) spilled.add(i, 0, 0, 0);
    await spilled.flush();
    await expect(spilled.resolve()).rejects.toThrow(/spill file .*fp-0000\.bin is truncated: 9 records missing/);
    expect([...scratch.objects.keys()]).toEqual([]);
  });

  test('spills only past a quarter of the budget, into 16 to 256 partitions', () => {
    // 1M expected events: a 2^21-slot table of 32 MiB.
    expect(FingerprintSet.bytesFor(1_000_000)).toBe(32 * 2 ** 20);
    expect(dedupePlan(1_000_000, undefined)).toEqual({ spill: false });
    expect(dedupePlan(1_000_000, 128 * 2 ** 20)).toEqual({ spill: false });
    expect(dedupePlan(1_000_000, 128 * 2 ** 20 - 1)).toMatchObject({ spill: true });
    // 50M at the 2 GiB default: a 1 GiB table, partitions of at most 32 MiB each.
    expect(dedupePlan(50_000_000, 2 * 2 ** 30)).toEqual({ spill: true, partitions: 32 });
    expect(dedupePlan(50_000_000, 64 * 2 ** 20)).toEqual({ spill: true, partitions: 256 });
  });
});
