import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { beforeEach, describe, expect, test } from 'vitest';
import { RecsysError } from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from './index.js';
import { tempDirs } from '../test/temp-dirs.js';

const tempDir = tempDirs('recsys-fs-');

/** Every file and folder under `dir` (relative paths, folders end in `/`), with file contents. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full);
      if (entry.isDirectory()) {
        out[rel + '/'] = '';
        await walk(full);
      } else {
        out[rel] = await readFile(full, 'utf8');
      }
    }
  };
  await walk(dir);
  return out;
}

const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : Buffer.from(data).toString('utf8'));

let root: string;
let storage: FsObjectStorage;
beforeEach(async () => {
  root = join(await tempDir(), 'root');
  storage = new FsObjectStorage(root, { noSync: true });
});

describe('put', () => {
  test('writes, replaces, and leaves no temp files behind', async () => {
    await storage.put('a/b/c.json', 'one');
    expect(text(await storage.get('a/b/c.json'))).toBe('one');
    await storage.put('a/b/c.json', new TextEncoder().encode('two'));
    expect(text(await storage.get('a/b/c.json'))).toBe('two');
    expect(await tree(root)).toEqual({ 'a/': '', 'a/b/': '', 'a/b/c.json': 'two' });
  });

  test('a concurrent reader sees the old or the new object, never a mix (atomic replace)', async () => {
    const big = (c: string) => c.repeat(512 * 1024);
    const versions = [big('x'), big('y'), big('z')];
    await storage.put('k.txt', versions[0]!);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const got = text(await storage.get('k.txt'));
        expect(got).toBeDefined();
        expect(versions).toContain(got);
        seen.add(got!.slice(0, 1));
      }
    })();
    for (let i = 0; i < 30; i++) await storage.put('k.txt', versions[i % versions.length]!);
    stop = true;
    await reader;
    expect(seen.size).toBeGreaterThan(0);
  });

  test('get/stat/read of a missing key are undefined; delete of a missing key is fine', async () => {
    expect(await storage.get('nope/x.json')).toBeUndefined();
    expect(await storage.getVersioned('nope/x.json')).toBeUndefined();
    expect(await storage.stat('nope/x.json')).toBeUndefined();
    expect(await storage.read('nope/x.json')).toBeUndefined();
    await storage.delete('nope/x.json');
    await storage.put('x.json', 'x');
    // A key "under" a file is missing, not an error.
    expect(await storage.get('x.json/y.json')).toBeUndefined();
  });

  test('read streams the stored bytes; stat reports the size', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024 + 7, 'ab');
    await storage.put('big.bin', payload);
    const chunks: Buffer[] = [];
    for await (const chunk of (await storage.read('big.bin'))!) chunks.push(Buffer.from(chunk));
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    expect(await storage.stat('big.bin')).toEqual({ key: 'big.bin', size: payload.length });
  });

  test('read chunks are of the size asked for (within bounds), each a buffer of its own', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024 + 7, 'xyz');
    await storage.put('big.bin', payload);
    const sizes = async (stream: AsyncIterable<Uint8Array> | undefined) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream!) chunks.push(chunk);
      // Ingest hands a chunk's whole buffer to a parse worker: no two chunks may share one.
      expect(chunks.every((c) => c.byteOffset === 0 && c.byteLength === c.buffer.byteLength)).toBe(true);
      expect(Buffer.concat(chunks).equals(payload.subarray(payload.length - chunks.reduce((n, c) => n + c.length, 0)))).toBe(true);
      return chunks.map((c) => c.length);
    };
    expect(await sizes(await storage.read('big.bin'))).toEqual([1 << 20, 1 << 20, 1 << 20, 7]);
    expect(await sizes(await storage.read('big.bin', { chunkBytes: 2 << 20 }))).toEqual([2 << 20, (1 << 20) + 7]);
    expect(await sizes(await storage.readFrom('big.bin', 5, { chunkBytes: 4 << 20 }))).toEqual([payload.length - 5]);
    // Below the floor (64 KiB): 64 KiB chunks, not one read per byte.
    expect((await sizes(await storage.read('big.bin', { chunkBytes: 1 })))[0]).toBe(64 << 10);
  });

  test('read into the caller\'s buffers: each chunk a view of the next one from its start, up to chunkBytes or its length', async () => {
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await storage.put('into.bin', payload);
    // Two buffers taken in turn (a caller reuses them once the next is asked for), one shorter than chunkBytes.
    const buffers = [new Uint8Array(100_000), new Uint8Array(70_000)];
    let taken = 0;
    const into = { next: async () => buffers[taken++ % 2]!, owns: (b: Uint8Array) => buffers.some((x) => x.buffer === b.buffer) };
    const seen: { buffer: number; offset: number; length: number }[] = [];
    const copies: Buffer[] = [];
    for await (const chunk of (await storage.readFrom('into.bin', 5, { chunkBytes: 80_000, into }))!) {
      seen.push({ buffer: buffers.findIndex((x) => x.buffer === chunk.buffer), offset: chunk.byteOffset, length: chunk.length });
      copies.push(Buffer.from(chunk));
    }
    expect(seen).toEqual([
      { buffer: 0, offset: 0, length: 80_000 },
      { buffer: 1, offset: 0, length: 70_000 },
      { buffer: 0, offset: 0, length: 80_000 },
      { buffer: 1, offset: 0, length: 69_995 },
    ]);
    expect(Buffer.concat(copies).equals(payload.subarray(5))).toBe(true);
    // One more buffer asked for, whose read found the end.
    expect(taken).toBe(5);
  });
});

describe('putIfAbsent', () => {
  test('creates once; a second create is a conflict and changes nothing', async () => {
    expect(await storage.putIfAbsent('blob.json', 'first')).toBe('written');
    expect(await storage.putIfAbsent('blob.json', 'second')).toBe('conflict');
    expect(text(await storage.get('blob.json'))).toBe('first');
    expect(await tree(root)).toEqual({ 'blob.json': 'first' });
  });

  test('of many racing creators exactly one wins, and the object is the winner’s', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.putIfAbsent('race/x.json', `writer ${i}`)));
    const winners = results.flatMap((r, i) => (r === 'written' ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(text(await storage.get('race/x.json'))).toBe(`writer ${winners[0]}`);
    expect(await tree(root)).toEqual({ 'race/': '', 'race/x.json': `writer ${winners[0]}` });
  });
});

describe('putIfGeneration (compare-and-swap)', () => {
  test('null generation creates only when absent; a stale generation is a conflict', async () => {
    expect(await storage.putIfGeneration('m.json', 'v1', null)).toBe('written');
    expect(await storage.putIfGeneration('m.json', 'v1b', null)).toBe('conflict');
    const g1 = (await storage.getVersioned('m.json'))!.generation;
    expect(await storage.putIfGeneration('m.json', 'v2', g1)).toBe('written');
    expect(await storage.putIfGeneration('m.json', 'v3', g1)).toBe('conflict');
    expect(text(await storage.get('m.json'))).toBe('v2');
    const g2 = (await storage.getVersioned('m.json'))!.generation;
    expect(g2).not.toBe(g1);
    expect(await storage.putIfGeneration('m.json', 'v3', g2)).toBe('written');
    // No lock or temp file is left behind.
    expect(await tree(root)).toEqual({ 'm.json': 'v3' });
  });

  test('concurrent read-modify-write loops lose no update', async () => {
    await storage.put('counter.json', '0');
    const increment = async () => {
      for (;;) {
        const got = (await storage.getVersioned('counter.json'))!;
        const next = String(Number(text(got.data)) + 1);
        if ((await storage.putIfGeneration('counter.json', next, got.generation)) === 'written') return;
      }
    };
    await Promise.all(Array.from({ length: 25 }, increment));
    expect(text(await storage.get('counter.json'))).toBe('25');
  });

  test('a lock left by a dead process on this host is broken at once', async () => {
    await storage.put('m.json', 'v1');
    const slow = new FsObjectStorage(root, { noSync: true, staleLockMs: 3_600_000 });
    // A process that has exited: its pid is no longer alive.
    const child = spawn(process.execPath, ['-e', '0']);
    const deadPid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    // The lock file format written by FsObjectStorage itself (a crashed holder leaves exactly this).
    await writeFile(join(root, '.m.json.lock'), JSON.stringify({ pid: deadPid, host: hostname(), at: Date.now(), token: 'dead' }));
    const g = (await slow.getVersioned('m.json'))!.generation;
    expect(await slow.putIfGeneration('m.json', 'v2', g)).toBe('written');
    expect(await tree(root)).toEqual({ 'm.json': 'v2' });
  });

  test('a lock held by a live process is respected until it is released', async () => {
    await storage.put('m.json', 'v1');
    const slow = new FsObjectStorage(root, { noSync: true, staleLockMs: 3_600_000 });
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(join(root, '.m.json.lock'), JSON.stringify({ pid: holder.pid, host: hostname(), at: Date.now(), token: 'live' }));
      const g = (await slow.getVersioned('m.json'))!.generation;
      let settled = false;
      const pending = slow.putIfGeneration('m.json', 'v2', g).finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      expect(text(await slow.get('m.json'))).toBe('v1');
      await rm(join(root, '.m.json.lock'));
      expect(await pending).toBe('written');
      expect(text(await slow.get('m.json'))).toBe('v2');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a lock older than staleLockMs is broken even when its owner is unknown', async () => {
    await storage.put('m.json', 'v1');
    const quick = new FsObjectStorage(root, { noSync: true, staleLockMs: 1 });
    await writeFile(join(root, '.m.json.lock'), 'not even JSON');
    const old = new Date(Date.now() - 60_000);
    const { utimes } = await import('node:fs/promises');
    await utimes(join(root, '.m.json.lock'), old, old);
    const g = (await quick.getVersioned('m.json'))!.generation;
    expect(await quick.putIfGeneration('m.json', 'v2', g)).toBe('written');
  });
});

describe('writer', () => {
  test('nothing is visible until commit; commit replaces atomically and reports the size', async () => {
    await storage.put('part.jsonl', 'old\n');
    const w = await storage.writer('part.jsonl');
    await w.write('a\n');
    await w.write(new TextEncoder().encode('b\n'));
    expect(text(await storage.get('part.jsonl'))).toBe('old\n');
    expect((await w.commit()).size).toBe(4);
    expect(text(await storage.get('part.jsonl'))).toBe('a\nb\n');
    expect(await tree(root)).toEqual({ 'part.jsonl': 'a\nb\n' });
  });

  test('abort leaves the previous object and no temp file', async () => {
    await storage.put('part.jsonl', 'old\n');
    const w = await storage.writer('part.jsonl');
    await w.write('new\n');
    await w.abort();
    expect(await tree(root)).toEqual({ 'part.jsonl': 'old\n' });
  });

  test('given the SHA-256 the bytes will have, the stored file is checked against it (not hashed as written)', async () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    const right = await storage.writer('blob.json', { sha256: abc });
    await right.write('a');
    await right.write('bc');
    expect(await right.commit({ exclusive: true })).toEqual({ size: 3, written: true, sha256: abc });
    expect(text(await storage.get('blob.json'))).toBe('abc');

    // A caller whose hash is not that of its bytes: nothing replaces the object, no temp file stays.
    await storage.put('other.json', 'old');
    const wrong = await storage.writer('other.json', { sha256: abc });
    await wrong.write('abd');
    const error = await wrong.commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecsysError);
    expect((error as RecsysError).kind).toBe('integrity');
    expect((error as Error).message).toContain(`${abc} was written`);
    expect(await tree(root)).toEqual({ 'blob.json': 'abc', 'other.json': 'old' });
  });

  test('what a writer reports and stores is its chunks, whatever their sizes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 12 }), async (chunks) => {
        const w = await storage.writer('p.bin');
        for (const chunk of chunks) await w.write(chunk);
        const all = Buffer.concat(chunks);
        const { sha256, size } = await w.commit();
        expect(size).toBe(all.length);
        expect(sha256).toBe(createHash('sha256').update(all).digest('hex'));
        expect(Buffer.from((await storage.get('p.bin'))!).equals(all)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe('list', () => {
  test('returns exactly the keys with the prefix, in lexicographic order, never temp or lock files', async () => {
    const segment = fc.constantFrom('a', 'b', 'ab', 'a.b', 'A', 'z-1', '0', '_x', 'b@c');
    const keyArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/') + '.json');
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(keyArb, { maxLength: 25 }), fc.constantFrom('', 'a', 'a/', 'ab', 'b/', 'a/b', 'zzz/'), async (keys, prefix) => {
        const dir = join(await tempDir(), 'r');
        const s = new FsObjectStorage(dir, { noSync: true });
        await mkdir(dir, { recursive: true });
        const stored: string[] = [];
        // Keys end in .json and folder names never do, so no key is both a file and a folder.
        for (const key of keys) {
          await s.put(key, key);
          stored.push(key);
        }
        await writeFile(join(dir, '.a.json.lock'), 'x');
        await writeFile(join(dir, '.tmp.123.tmp'), 'x');
        const listed: string[] = [];
        for await (const info of s.list(prefix)) {
          listed.push(info.key);
          expect(info.size).toBe(Buffer.byteLength(info.key));
        }
        const expected = stored.filter((k) => k.startsWith(prefix)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        expect(listed).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  test('lists keys under dot-named folders and dot-named files (tenants and surfaces may start with "."), never temp or lock files', async () => {
    const dir = join(await tempDir(), 'r');
    const s = new FsObjectStorage(dir, { noSync: true });
    const keys = ['.hidden/.web/manifest.json', '.hidden/home.json', 'current/.t/.s/manifest.json', 'current/demo/home/manifest.json', 'demo/.s.json'];
    for (const key of keys) await s.put(key, key);
    await writeFile(join(dir, '.hidden', '.web', '.manifest.json.lock'), 'x');
    await writeFile(join(dir, '.hidden', '.manifest.json.1.abcdefabcdef.tmp'), 'x');
    const listed: string[] = [];
    for await (const info of s.list('')) listed.push(info.key);
    expect(listed).toEqual([...keys].sort());
    const current: string[] = [];
    for await (const info of s.list('current/')) current.push(info.key);
    expect(current).toEqual(['current/.t/.s/manifest.json', 'current/demo/home/manifest.json']);
  });

  test('a prefix that does not exist lists nothing', async () => {
    const listed = [];
    for await (const info of storage.list('nothing/here/')) listed.push(info);
    expect(listed).toEqual([]);
  });
});

describe('key validation', () => {
  const bad = ['..', '../x', 'a/../../x', '/etc/passwd', 'a//b', '', '.', 'a/./b', 'a\\b', '..\\x', 'a\0b', 'a/b\0', 'a b', 'x/%2e%2e/y'];
  const ops: [string, (s: FsObjectStorage, key: string) => Promise<unknown>][] = [
    ['get', (s, k) => s.get(k)],
    ['getVersioned', (s, k) => s.getVersioned(k)],
    ['read', (s, k) => s.read(k)],
    ['stat', (s, k) => s.stat(k)],
    ['put', (s, k) => s.put(k, 'x')],
    ['putIfAbsent', (s, k) => s.putIfAbsent(k, 'x')],
    ['putIfGeneration', (s, k) => s.putIfGeneration(k, 'x', null)],
    ['writer', (s, k) => s.writer(k)],
    ['delete', (s, k) => s.delete(k)],
    ['uri', async (s, k) => s.uri(k)],
  ];

  test.each(bad)('key %j is refused by every operation and nothing is written anywhere', async (key) => {
    const outer = await tempDir();
    const s = new FsObjectStorage(join(outer, 'root'), { noSync: true });
    await s.put('keep.json', 'keep');
    const before = await tree(outer);
    for (const [name, op] of ops) {
      const error = await op(s, key).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, `${name}(${JSON.stringify(key)})`).toBeDefined();
      expect(RecsysError.isInstance(error) && error.kind, name).toBe('usage');
    }
    expect(await tree(outer)).toEqual(before);
  });
});

describe('uri and keyOfUri', () => {
  test('round-trip inside the root; anything outside maps to undefined', async () => {
    const key = 'objectstore/demo/home/popularity/abc.json';
    const uri = storage.uri(key);
    expect(uri).toBe(pathToFileURL(join(root, key)).href);
    expect(storage.keyOfUri(uri)).toBe(key);
    expect(storage.keyOfUri(pathToFileURL(join(root, '..', 'other.json')).href)).toBeUndefined();
    expect(storage.keyOfUri(pathToFileURL(root).href)).toBeUndefined();
    expect(storage.keyOfUri('s3://bucket/key.json')).toBeUndefined();
    expect(storage.keyOfUri('file://%zz')).toBeUndefined();
  });

  test('the storage location is the absolute root', async () => {
    const s = new FsObjectStorage('relative/dir');
    expect(s.location).toBe(join(process.cwd(), 'relative/dir'));
    // Constructing a storage creates nothing.
    expect(await stat(s.location).catch(() => undefined)).toBeUndefined();
  });
});

test('nodeSha256 hashes incrementally', () => {
  const h = nodeSha256();
  h.update('ab');
  h.update(new TextEncoder().encode('c'));
  expect(h.digest()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

describe('scratch storage', () => {
  test('streams are committed atomically but not hashed (no SHA-256 reported); a durable storage reports it', async () => {
    const scratch = new FsObjectStorage(join(root, 'scratch'), { scratch: true });
    const w = await scratch.writer('spill/a.bin');
    expect(w.reportsSha256).toBe(false);
    await w.write('abc');
    expect(await scratch.get('spill/a.bin')).toBeUndefined();
    expect(await w.commit()).toEqual({ size: 3, written: true });
    expect(text(await scratch.get('spill/a.bin'))).toBe('abc');
    const durable = await storage.writer('b.txt');
    expect(durable.reportsSha256).toBe(true);
    await durable.write('abc');
    expect((await durable.commit()).sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
