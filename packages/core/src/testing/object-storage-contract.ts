import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecsysError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import type { ObjectStorage, ObjectWriter } from '../ports.js';
import { portableSha256 } from '../sha256-portable.js';

/*
 * The behaviour every `ObjectStorage` adapter must have (the port's
 * contract, ports.ts), as a reusable vitest suite:
 * `objectStorageContract('fs', async () => ({ storage, cleanup }))`.
 * It depends only on vitest and core (no Node APIs), so core runs it on
 * `MemoryStorage` and every adapter's tests run it on theirs.
 */

/** What a contract run opens: the storage under test and how to clean it up. @since 0.1.0 */
export interface ContractSubject {
  readonly storage: ObjectStorage;
  readonly cleanup: () => Promise<void>;
}

/** Options of {@link objectStorageContract}. @since 0.1.0 */
export interface ContractOptions {
  /** Size of the "large object" writer test; should exceed the adapter's buffering (e.g. S3 part size). */
  readonly largeBytes?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : decoder.decode(bytes));

async function collect(stream: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array | undefined> {
  if (!stream) return undefined;
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    parts.push(chunk);
    size += chunk.byteLength;
  }
  return concatBytes(parts, size);
}

/** Deterministic pseudo-random bytes (no two 8 KiB blocks alike, so misplaced parts are caught). @since 0.1.0 */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size + 4);
  const view = new DataView(out.buffer);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0, true);
  }
  return out.subarray(0, size);
}

function sha(data: Uint8Array): string {
  const hash = portableSha256();
  hash.update(data);
  return hash.digest();
}

/**
 * A commit result without its optional hash, after checking that hash: the
 * SHA-256 of `written` when the writer reports one, absent otherwise.
 */
function checkedCommit(w: ObjectWriter, result: { size: number; written: boolean; sha256?: string }, written: Uint8Array | string): { size: number; written: boolean } {
  const { sha256, ...rest } = result;
  if (w.reportsSha256) expect(sha256).toBe(sha(typeof written === 'string' ? encoder.encode(written) : written));
  else expect(sha256).toBeUndefined();
  return rest;
}

function expectUsageError(error: unknown) {
  expect(RecsysError.isInstance(error)).toBe(true);
  expect((error as RecsysError).kind).toBe('usage');
}

/**
 * Registers the `ObjectStorage` contract as a vitest suite named
 * `ObjectStorage contract: <name>`; `open` is called once, before the tests.
 * @since 0.1.0
 */
export function objectStorageContract(name: string, open: () => Promise<ContractSubject>, options: ContractOptions = {}): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    let s: ObjectStorage;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ storage: s, cleanup } = await open());
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it('reports missing objects as undefined from get, getVersioned, read and stat', async () => {
      expect(await s.get('missing/a.json')).toBeUndefined();
      expect(await s.getVersioned('missing/a.json')).toBeUndefined();
      expect(await s.read('missing/a.json')).toBeUndefined();
      expect(await s.stat('missing/a.json')).toBeUndefined();
    });

    it('put stores bytes (strings as UTF-8) that get, read and stat return; put replaces', async () => {
      await s.put('put/a.json', '{"a":"é"}');
      expect(text(await s.get('put/a.json'))).toBe('{"a":"é"}');
      expect(await s.stat('put/a.json')).toEqual({ key: 'put/a.json', size: encoder.encode('{"a":"é"}').byteLength });
      expect(text(await collect(await s.read('put/a.json')))).toBe('{"a":"é"}');
      await s.put('put/a.json', new Uint8Array([1, 2, 3]));
      expect([...(await s.get('put/a.json'))!]).toEqual([1, 2, 3]);
      await s.put('put/empty.json', '');
      expect(await s.stat('put/empty.json')).toEqual({ key: 'put/empty.json', size: 0 });
      expect((await collect(await s.read('put/empty.json')))?.length).toBe(0);
    });

    it('copyFrom (where the adapter has it): the source bytes under the new key, exclusively; undefined for a missing source', async () => {
      if (!s.copyFrom) return;
      const data = patternBytes(100_003, 7);
      await s.put('copy/src.json', data);
      expect(await s.copyFrom(s, 'copy/src.json', 'copy/dst.json')).toEqual({ written: true, size: data.length });
      expect(sha((await s.get('copy/dst.json'))!)).toBe(sha(data));
      // Exclusive: an existing key keeps its bytes.
      await s.put('copy/other.json', 'other');
      expect(await s.copyFrom(s, 'copy/other.json', 'copy/dst.json')).toEqual({ written: false, size: data.length });
      expect(sha((await s.get('copy/dst.json'))!)).toBe(sha(data));
      // Replacing the source afterwards leaves the copy as it was.
      await s.put('copy/src.json', 'replaced');
      expect(sha((await s.get('copy/dst.json'))!)).toBe(sha(data));
      expect(await s.copyFrom(s, 'copy/missing.json', 'copy/dst2.json')).toBeUndefined();
      expect(await s.stat('copy/dst2.json')).toBeUndefined();
    });

    it('putIfAbsent creates once and never overwrites', async () => {
      expect(await s.putIfAbsent('abs/x.json', 'first')).toBe('written');
      expect(await s.putIfAbsent('abs/x.json', 'second')).toBe('conflict');
      expect(text(await s.get('abs/x.json'))).toBe('first');
    });

    it('putIfAbsent: exactly one of 8 racing creators wins', async () => {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfAbsent('abs/race.json', `writer-${i}`)));
      expect(results.filter((r) => r === 'written')).toHaveLength(1);
      const winner = results.indexOf('written');
      expect(text(await s.get('abs/race.json'))).toBe(`writer-${winner}`);
    });

    it('putIfGeneration is a compare-and-swap on the generation from getVersioned', async () => {
      expect(await s.putIfGeneration('cas/m.json', 'v1', null)).toBe('written');
      expect(await s.putIfGeneration('cas/m.json', 'v1-again', null)).toBe('conflict');
      const g1 = (await s.getVersioned('cas/m.json'))!;
      expect(text(g1.data)).toBe('v1');
      expect((await s.getVersioned('cas/m.json'))!.generation).toBe(g1.generation);
      expect(await s.putIfGeneration('cas/m.json', 'v2', g1.generation)).toBe('written');
      const g2 = (await s.getVersioned('cas/m.json'))!;
      expect(text(g2.data)).toBe('v2');
      expect(g2.generation).not.toBe(g1.generation);
      expect(await s.putIfGeneration('cas/m.json', 'stale', g1.generation)).toBe('conflict');
      expect(text(await s.get('cas/m.json'))).toBe('v2');
      await s.delete('cas/m.json');
      expect(await s.putIfGeneration('cas/m.json', 'after-delete', g2.generation)).toBe('conflict');
      expect(await s.get('cas/m.json')).toBeUndefined();
    });

    it('putIfGeneration: exactly one of 8 racing swaps from the same generation wins', async () => {
      await s.put('cas/race.json', 'base');
      const { generation } = (await s.getVersioned('cas/race.json'))!;
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => s.putIfGeneration('cas/race.json', `swap-${i}`, generation)));
      expect(results.filter((r) => r === 'written')).toHaveLength(1);
      expect(text(await s.get('cas/race.json'))).toBe(`swap-${results.indexOf('written')}`);
    });

    it('writer: invisible until commit, then atomically replaces; abort keeps the previous object', async () => {
      const w = await s.writer('w/obj.jsonl');
      await w.write('line 1\n');
      await w.write(encoder.encode('line 2\n'));
      expect(await s.stat('w/obj.jsonl')).toBeUndefined();
      expect(checkedCommit(w, await w.commit(), 'line 1\nline 2\n')).toEqual({ size: 14, written: true });
      expect(text(await s.get('w/obj.jsonl'))).toBe('line 1\nline 2\n');

      const replace = await s.writer('w/obj.jsonl');
      await replace.write('replaced\n');
      expect(text(await s.get('w/obj.jsonl'))).toBe('line 1\nline 2\n');
      await replace.commit();
      expect(text(await s.get('w/obj.jsonl'))).toBe('replaced\n');

      const aborted = await s.writer('w/obj.jsonl');
      await aborted.write('never visible\n');
      await aborted.abort();
      expect(text(await s.get('w/obj.jsonl'))).toBe('replaced\n');

      const fresh = await s.writer('w/never.jsonl');
      await fresh.write('x');
      await fresh.abort();
      expect(await s.stat('w/never.jsonl')).toBeUndefined();

      const empty = await s.writer('w/empty.jsonl');
      expect(checkedCommit(empty, await empty.commit(), '')).toEqual({ size: 0, written: true });
      expect(await s.stat('w/empty.jsonl')).toEqual({ key: 'w/empty.jsonl', size: 0 });
    });

    it('writer: commit({exclusive}) creates only when the key is absent', async () => {
      const first = await s.writer('w/excl.json');
      await first.write('first');
      expect(checkedCommit(first, await first.commit({ exclusive: true }), 'first')).toEqual({ size: 5, written: true });
      const second = await s.writer('w/excl.json');
      await second.write('second!');
      expect(checkedCommit(second, await second.commit({ exclusive: true }), 'second!')).toEqual({ size: 7, written: false });
      expect(text(await s.get('w/excl.json'))).toBe('first');
    });

    it('writer: a large object streams in and reads back identical', async () => {
      const size = options.largeBytes ?? 3 * 1024 * 1024 + 17;
      const data = patternBytes(size, 7);
      const w = await s.writer('w/large.bin');
      for (let i = 0; i < size; i += 1 << 20) await w.write(data.subarray(i, i + (1 << 20)));
      expect(await s.stat('w/large.bin')).toBeUndefined();
      expect(checkedCommit(w, await w.commit(), data)).toEqual({ size, written: true });
      const back = await collect(await s.read('w/large.bin'));
      expect(back?.length).toBe(size);
      expect(sha(back!)).toBe(sha(data));

      const excl = await s.writer('w/large.bin');
      for (let i = 0; i < size; i += 1 << 20) await excl.write(patternBytes(Math.min(1 << 20, size - i), 9));
      expect((await excl.commit({ exclusive: true })).written).toBe(false);
      expect(sha((await s.get('w/large.bin'))!)).toBe(sha(data));
    });

    it('read and readFrom: every chunk is the consumer\'s (kept chunks still hold the object after the read)', async () => {
      const size = options.largeBytes ?? 3 * 1024 * 1024 + 17;
      const data = patternBytes(size, 13);
      await s.put('r/kept.bin', data);
      const kept: Uint8Array[] = [];
      for await (const chunk of (await s.read('r/kept.bin'))!) kept.push(chunk);
      expect(sha(concatBytes(kept))).toBe(sha(data));
      if (s.readFrom) {
        const from: Uint8Array[] = [];
        for await (const chunk of (await s.readFrom('r/kept.bin', 5))!) from.push(chunk);
        expect(sha(concatBytes(from))).toBe(sha(data.subarray(5)));
      }
    });

    it('writer({ verifiedByReader }): the same object, size and reported hash as without it', async () => {
      const size = options.largeBytes ?? 3 * 1024 * 1024 + 17;
      const data = patternBytes(size, 11);
      const w = await s.writer('w/verified.bin', { verifiedByReader: true });
      for (let i = 0; i < size; i += 1 << 20) await w.write(data.subarray(i, i + (1 << 20)));
      expect(await s.stat('w/verified.bin')).toBeUndefined();
      expect(checkedCommit(w, await w.commit({ exclusive: true }), data)).toEqual({ size, written: true });
      expect(sha((await s.get('w/verified.bin'))!)).toBe(sha(data));
    });

    it('writer({ verifiedByReader, reportSha256: false }): the same object and size, no SHA-256 reported', async () => {
      const size = options.largeBytes ?? 3 * 1024 * 1024 + 17;
      const data = patternBytes(size, 13);
      const w = await s.writer('w/unhashed.bin', { verifiedByReader: true, reportSha256: false });
      expect(w.reportsSha256 ?? false).toBe(false);
      for (let i = 0; i < size; i += 1 << 20) await w.write(data.subarray(i, i + (1 << 20)));
      expect(await s.stat('w/unhashed.bin')).toBeUndefined();
      expect(await w.commit({ exclusive: true })).toEqual({ size, written: true });
      expect(sha((await s.get('w/unhashed.bin'))!)).toBe(sha(data));
    });

    it('list: every key under a prefix, relative to the storage, in lexicographic order', async () => {
      const keys = ['ls/b/2.json', 'ls/a/1.json', 'ls/a/10.json', 'ls/a/2.json', 'ls/ab.json', 'ls/B.json', 'lsx/other.json'];
      for (const k of keys) await s.put(k, k);
      const all = [];
      for await (const o of s.list('ls/')) all.push(o);
      expect(all.map((o) => o.key)).toEqual(['ls/B.json', 'ls/a/1.json', 'ls/a/10.json', 'ls/a/2.json', 'ls/ab.json', 'ls/b/2.json']);
      expect(all.find((o) => o.key === 'ls/ab.json')?.size).toBe('ls/ab.json'.length);
      const partial = [];
      for await (const o of s.list('ls/a')) partial.push(o.key);
      expect(partial).toEqual(['ls/a/1.json', 'ls/a/10.json', 'ls/a/2.json', 'ls/ab.json']);
      const none = [];
      for await (const o of s.list('nothing-here/')) none.push(o.key);
      expect(none).toEqual([]);
    });

    it('delete removes the object; deleting a missing one is fine', async () => {
      await s.put('del/x.json', 'x');
      await s.delete('del/x.json');
      expect(await s.stat('del/x.json')).toBeUndefined();
      await s.delete('del/x.json');
    });

    it('uri and keyOfUri round-trip; foreign URIs map to undefined', async () => {
      const uri = s.uri('objectstore/t/s/popularity/abc.json');
      expect(s.keyOfUri(uri)).toBe('objectstore/t/s/popularity/abc.json');
      expect(s.keyOfUri('https://example.com/x.json')).toBeUndefined();
      // A URI that climbs out of the storage's root names no key of it.
      expect(s.keyOfUri(s.uri('a.json').replace(/a\.json$/, '../outside.json'))).toBeUndefined();
    });

    it('rejects unsafe keys with a usage error before any I/O', async () => {
      for (const key of ['../escape.json', 'a//b.json', '', 'a/./b.json', 'a/../b.json', 'sp ace.json', 'a/', '/abs.json', 'back\\slash.json']) {
        await expect(s.put(key, 'x'), key).rejects.toSatisfy((e) => (expectUsageError(e), true));
        await expect(s.get(key), key).rejects.toSatisfy((e) => (expectUsageError(e), true));
        expect(() => s.uri(key), key).toThrow();
      }
    });
  });
}
