import { readdirSync } from 'node:fs';
import { expect, test } from 'vitest';
import { LocalDictionary, parseChunk, randomFingerprintKey, type ChunkContext, type ChunkResult } from '@recsys/core/internal';
// The built package: the pool starts its workers from dist/parse-worker.js.
import { FIRST_READS, LOCAL_CHUNK_BYTES, WorkerParsePool, nodeSha256 } from '../dist/index.js';

const encoder = new TextEncoder();
const threads = () => readdirSync('/proc/self/task').length;
const line = (session: string, item: string, second: number) =>
  JSON.stringify({ v: 1, ts: `2026-01-01T00:00:${String(second).padStart(2, '0')}Z`, tenant: 'demo', surface: 'home', session_id: session, item_id: item });

test('worker threads parse a stream exactly like parseChunk on this thread, and close() ends them', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-01#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunks = [0, 1, 2, 3].map((c) => encoder.encode([line(`s${c}`, 'A', c), line(`s${c}`, `B${c}`, c + 1), 'not json', ''].join('\n') + '\n'));
  // Chunks of any size go to the workers here (the default keeps chunks under 64 KiB on this thread).
  const pool = new WorkerParsePool(2, { localBelow: 0 });
  try {
    await pool.warm();
    // Once warmed, every chunk goes to the workers (dictionaries 1 and 2), the least busy first, the stream's first too.
    const results = await Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(results.map((r) => r.dictId)).toEqual([1, 2, 1, 2]);
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const expected = chunks.map((chunk, i) => parseChunk(chunk, ctx, here[results[i]!.dictId]!));
    expect(results.map((r) => ({ ...r }))).toEqual(expected.map((r) => ({ ...r })));
    expect(results.map((r) => [r.events, r.rejects.length])).toEqual(chunks.map(() => [2, 1]));
  } finally {
    await pool.close();
  }
});

/** A result's contents as plain values (its arrays are views of the pool's reused blocks). */
const contents = (r: ChunkResult) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : v]));

/** {@link contents}, then the result handed back to `pool`. */
function plain(r: ChunkResult, pool: WorkerParsePool) {
  const copy = contents(r);
  pool.release(r);
  return copy;
}

test('a block serves the next chunk only once its result is released; parse waits for it meanwhile', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-04#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  // Two chunks of the same length, of canonical lines (each chunk is its own canonical form, a view of its block).
  const a = encoder.encode(`${line('sa', 'A', 1)}\n${line('sa', 'B', 2)}\n`);
  const b = encoder.encode(`${line('sb', 'C', 3)}\n${line('sb', 'D', 4)}\n`);
  expect(b.length).toBe(a.length);
  const pool = new WorkerParsePool(1, { localBelow: 0, blocks: 1 });
  try {
    await pool.warm();
    const ra = await pool.parse(a.slice(), ctx);
    const seen = contents(ra);
    let parsedB = false;
    const pb = pool.parse(b.slice(), ctx).then((r) => ((parsedB = true), r));
    // Long enough for a worker's round trip (the first parse took one): the one block is still ours.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(parsedB).toBe(false);
    expect(contents(ra)).toEqual(seen);
    expect(Buffer.from(ra.canonical).toString()).toBe(Buffer.from(a).toString());
    pool.release(ra);
    const rb = await pb;
    expect(rb.events).toBe(2);
    expect(Buffer.from(rb.canonical).toString()).toBe(Buffer.from(b).toString());
    // The same memory: the released result's views now show the next chunk (why the caller must be done with it).
    expect(Buffer.from(ra.canonical).toString()).toBe(Buffer.from(b).toString());
    pool.release(rb);
  } finally {
    await pool.close();
  }
});

test('a chunk read into the pool\'s buffers is parsed where it is; the next read reuses the reader\'s block unless a parse holds it, and never waits', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-05#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const a = encoder.encode(`${line('sa', 'A', 1)}\n${line('sa', 'B', 2)}\n`);
  const b = encoder.encode(`${line('sb', 'C', 3)}\n`);
  const pool = new WorkerParsePool(1, { localBelow: 0, blocks: 2, blockBytes: 4096 });
  try {
    await pool.warm();
    const first = await pool.readBuffers.next();
    first.set(a);
    const ra = await pool.parse(first.subarray(0, a.length), ctx);
    expect(ra.events).toBe(2);
    // Not copied: the result's canonical bytes are the block's (a chunk of canonical lines is its own output).
    expect(Buffer.from(ra.canonical).toString()).toBe(Buffer.from(a).toString());
    first[0] = 0x20;
    expect(ra.canonical[0]).toBe(0x20);
    // The parse holds the first block: the next read gets the other one, and again (nobody took it).
    const second = await pool.readBuffers.next();
    expect(second.buffer).not.toBe(first.buffer);
    expect((await pool.readBuffers.next()).buffer).toBe(second.buffer);
    expect(pool.readBuffers.owns(second.subarray(5))).toBe(true);
    expect(pool.readBuffers.owns(a)).toBe(false);
    second.set(b);
    const rb = await pool.parse(second.subarray(0, b.length), ctx);
    // Both blocks held by results: a read does not wait (its caller may be what releases them), it gets a third.
    const third = await pool.readBuffers.next();
    expect([first.buffer, second.buffer]).not.toContain(third.buffer);
    pool.release(ra);
    pool.release(rb);
    // Released blocks serve parses again; the reader keeps its own.
    expect((await pool.readBuffers.next()).buffer).toBe(third.buffer);
  } finally {
    await pool.close();
  }
});

test('once the workers start, the first reads are short views of their blocks (firstReads), then whole blocks; idle() starts over', async () => {
  const pool = new WorkerParsePool(1, { blocks: 2, blockBytes: 4096, firstReads: [100, 300] });
  const lengths = async (n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const buffer = await pool.readBuffers.next();
      // A view of one of the ring's blocks, from its start.
      expect(pool.readBuffers.owns(buffer)).toBe(true);
      expect(buffer.byteOffset).toBe(0);
      out.push(buffer.length);
    }
    return out;
  };
  try {
    // No workers yet (a small input, or a stream nobody announced): whole blocks.
    expect(await lengths(2)).toEqual([4096, 4096]);
    await pool.warm();
    expect(await lengths(4)).toEqual([100, 300, 4096, 4096]);
    // The next day's workers are new again.
    await pool.idle();
    await pool.warm();
    expect(await lengths(3)).toEqual([100, 300, 4096]);
  } finally {
    await pool.close();
  }
  // The default: whole blocks from the start (short first reads cost more system CPU than they saved).
  expect(FIRST_READS).toEqual([]);
  const plain = new WorkerParsePool(1, { blocks: 2, blockBytes: 4096 });
  try {
    await plain.warm();
    const sizes = [];
    for (let i = 0; i < 2; i++) sizes.push((await plain.readBuffers.next()).length);
    expect(sizes).toEqual([4096, 4096]);
  } finally {
    await plain.close();
  }
});

test('nodeSha256 hashes incrementally', () => {
  const h = nodeSha256();
  h.update('ab');
  h.update(encoder.encode('c'));
  expect(h.digest()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('idle() ends the workers; the next stream starts fresh ones and parses exactly as before', async () => {
  const pool = new WorkerParsePool(2, { localBelow: 0 });
  const fpKey = randomFingerprintKey();
  const chunks = [0, 1, 2].map((c) => encoder.encode(`${line(`s${c}`, 'A', c)}\n${line(`s${c}`, `B${c}`, c)}\n`));
  const parseStream = (stream: string) => Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), { stream, tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey })));
  try {
    await pool.warm();
    // Copied out and handed back: the results are views of the pool's blocks, reused by the next stream.
    const before = (await parseStream('day-1')).map((r) => plain(r, pool));
    const withWorkers = threads();
    await pool.idle();
    // Both worker threads are gone (Linux: one entry per thread of this process).
    expect(threads()).toBe(withWorkers - 2);
    await pool.warm();
    const after = (await parseStream('day-2')).map((r) => plain(r, pool));
    // Same dictionaries in the same order, and the workers' dictionaries start empty again.
    expect(after.map((r) => r.dictId)).toEqual([1, 2, 1]);
    expect(after).toEqual(before);
  } finally {
    await pool.close();
  }
});

test('unannounced, a stream\'s first chunk stays on this thread; the second starts the workers and goes to them before they are ready', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-02#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunks = [0, 1, 2, 3, 4, 5].map((c) => encoder.encode(`${line(`s${c}`, `A${c % 3}`, c)}\n${line(`s${c}`, `B${c}`, c)}\n`));
  // Blocks for all of them: nothing is released before all are parsed.
  const pool = new WorkerParsePool(2, { localBelow: 0, blocks: 6 });
  const before = threads();
  try {
    // Asked in one go: no worker can have loaded its modules yet, and none of chunks 1-5 waits for that here.
    const all = await Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(all.map((r) => r.dictId)).toEqual([0, 1, 2, 1, 2, 1]);
    expect(threads()).toBeGreaterThanOrEqual(before + 2);
    // Each dictionary saw its chunks in order, as the merge will read them.
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const expected = chunks.map((chunk, i) => parseChunk(chunk, ctx, here[all[i]!.dictId]!));
    expect(all.map((r) => ({ ...r }))).toEqual(expected.map((r) => ({ ...r })));
  } finally {
    await pool.close();
  }
});

test('chunks under localBelow (default 64 KiB) are parsed on this thread, also while the workers run', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-03#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  // One line (~130 bytes), then enough lines for 64 KiB, then one line again.
  const one = (c: number) => encoder.encode(`${line(`s${c}`, `A${c}`, c % 60)}\n`);
  const many = (c: number) => encoder.encode(Array.from({ length: Math.ceil(LOCAL_CHUNK_BYTES / 100) }, (_, k) => line(`s${c}-${k}`, `B${k % 7}`, k % 60)).join('\n') + '\n');
  const chunks = [one(0), many(1), one(2), many(3), one(4)];
  expect(chunks[1]!.byteLength).toBeGreaterThanOrEqual(LOCAL_CHUNK_BYTES);
  const pool = new WorkerParsePool(2);
  try {
    await pool.warm();
    const results = await Promise.all(chunks.map((chunk) => pool.parse(chunk.slice(), ctx)));
    expect(results.map((r) => r.dictId)).toEqual([0, 1, 0, 2, 0]);
    const here = [new LocalDictionary(0), new LocalDictionary(1), new LocalDictionary(2)];
    const expected = chunks.map((chunk, i) => parseChunk(chunk, ctx, here[results[i]!.dictId]!));
    expect(results.map((r) => ({ ...r }))).toEqual(expected.map((r) => ({ ...r })));
    // A smaller threshold sends the one-line chunks too.
    const eager = new WorkerParsePool(2, { localBelow: 64 });
    try {
      await eager.warm();
      const sent = await Promise.all([one(5), one(6)].map((chunk) => eager.parse(chunk, { ...ctx, stream: 'demo-2026-01-03#2' })));
      expect(sent.map((r) => r.dictId)).toEqual([1, 2]);
    } finally {
      await eager.close();
    }
  } finally {
    await pool.close();
  }
});

test('ingest is asked to keep two chunks per worker in flight, and the default ring holds them, the chunk read ahead and a spare', async () => {
  const ctx: ChunkContext = { stream: 'demo-2026-01-06#1', tenant: 'demo', surface: 'home', day: '2026-01-01', fpKey: randomFingerprintKey() };
  const chunk = (c: number) => encoder.encode(`${line(`s${c}`, `A${c}`, c % 60)}\n`);
  expect(new WorkerParsePool(1).depth).toBe(2);
  const pool = new WorkerParsePool(2, { localBelow: 0, blockBytes: 4096 });
  expect(pool.depth).toBe(4);
  try {
    await pool.warm();
    // `depth` chunks read into the ring and held (posted, not merged), then the next chunk's read ahead of their merge.
    const held: ChunkResult[] = [];
    const reads = new Set<ArrayBufferLike>();
    for (let c = 0; c < pool.depth; c++) {
      const into = await pool.readBuffers.next();
      reads.add(into.buffer);
      const bytes = chunk(c);
      into.set(bytes);
      held.push(await pool.parse(into.subarray(0, bytes.length), ctx));
    }
    const ahead = await pool.readBuffers.next();
    reads.add(ahead.buffer);
    expect(reads.size).toBe(pool.depth + 1);
    // A spare block: one more chunk copied in does not wait; then every block of the ring is out and the next one waits.
    held.push(await pool.parse(chunk(10), ctx));
    let parsed = false;
    const waiting = pool.parse(chunk(11), ctx).then((r) => ((parsed = true), r));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(parsed).toBe(false);
    pool.release(held.shift()!);
    held.push(await waiting);
    for (const r of held) pool.release(r);
  } finally {
    await pool.close();
  }
});
