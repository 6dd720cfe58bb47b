// The registry protocol of @recsys/core (history log + manifest CAS) on the
// filesystem adapter: chaining, races, and recovery after a crash between
// claiming a history entry and writing the manifest.
import { readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import type { HistoryEntryV1 } from '@recsys/contracts';
import { keys, Registry, type RunIdentity } from '@recsys/core';
import { FsObjectStorage } from './index.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const identity: RunIdentity = { runId: 'run-1', host: 'test-host', user: 'tester', pid: 1, tool: { name: 'recsys-pipelines', version: '0.0.0-test' } };
const scope = { tenant: 'demo', surface: 'home' };
const meta = (at = '2026-01-02T00:00:00.000Z') => ({ reason: 'publish' as const, identity, at });
const uri = (name: string) => `file:///blobs/${name}.json`;

let root: string;
let storage: FsObjectStorage;
let registry: Registry;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'recsys-registry-'));
  dirs.push(root);
  storage = new FsObjectStorage(root, { noSync: true });
  registry = new Registry(storage);
});

/** Checks that history entries 1..n chain: each `previous` is the prior entry's `next`. */
async function expectChain(): Promise<HistoryEntryV1[]> {
  const seqs = await registry.historySeqs(scope);
  expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  const entries: HistoryEntryV1[] = [];
  let previous: Record<string, string> = {};
  for (const seq of seqs) {
    const entry = (await registry.readHistory(scope, seq))!;
    expect(entry.seq).toBe(seq);
    expect(entry.previous).toEqual(previous);
    previous = entry.next;
    entries.push(entry);
  }
  return entries;
}

describe('commit', () => {
  test('each pointer change appends one history entry and the manifest follows the newest', async () => {
    expect(await registry.readManifest(scope)).toBeUndefined();
    const first = await registry.commit(scope, () => ({ popularity: uri('p1'), cooc: uri('c1') }), meta());
    expect(first.entry.seq).toBe(1);
    expect(first.manifest.current).toEqual({ cooc: uri('c1'), popularity: uri('p1') });
    // Keys are stored sorted so the manifest bytes are stable.
    expect(Object.keys(first.manifest.current)).toEqual(['cooc', 'popularity']);
    expect(first.manifestUri).toBe(storage.uri(keys.manifest(scope)));

    const second = await registry.commit(scope, (current) => {
      expect(current).toEqual({ cooc: uri('c1'), popularity: uri('p1') });
      return { popularity: uri('p2'), 'cooc@mobile': uri('c-mobile') };
    }, meta());
    expect(second.entry.seq).toBe(2);
    expect(second.manifest.current).toEqual({ cooc: uri('c1'), 'cooc@mobile': uri('c-mobile'), popularity: uri('p2') });

    const third = await registry.commit(scope, () => ({ 'cooc@mobile': null }), { ...meta(), reason: 'rollback' as const, message: 'drop mobile' });
    expect(third.manifest.current).toEqual({ cooc: uri('c1'), popularity: uri('p2') });
    expect(third.entry.reason).toBe('rollback');
    expect(third.entry.message).toBe('drop mobile');
    expect(third.entry.actor).toEqual({ host: 'test-host', user: 'tester', pid: 1, tool: 'recsys-pipelines 0.0.0-test' });

    const entries = await expectChain();
    expect(entries.map((e) => e.reason)).toEqual(['publish', 'publish', 'rollback']);
    expect((await registry.readManifest(scope))!.manifest.current).toEqual(entries.at(-1)!.next);
    expect((await registry.history(scope, 2)).map((e) => e.seq)).toEqual([3, 2]);
    expect((await registry.latestHistory(scope))!.seq).toBe(3);
    expect(await registry.scopes()).toEqual([scope]);
  });

  test('a commit that changes nothing still records an entry but leaves the manifest bytes alone', async () => {
    await registry.commit(scope, () => ({ popularity: uri('p1') }), meta('2026-01-02T00:00:00.000Z'));
    const before = await readFile(join(root, keys.manifest(scope)));
    const again = await registry.commit(scope, () => ({ popularity: uri('p1') }), meta('2026-01-03T00:00:00.000Z'));
    expect(again.entry.seq).toBe(2);
    expect(again.entry.previous).toEqual(again.entry.next);
    expect(await readFile(join(root, keys.manifest(scope)))).toEqual(before);
  });

  test('racing publishers on separate registry instances never lose an update', async () => {
    const writers = Array.from({ length: 12 }, (_, i) => new Registry(new FsObjectStorage(root, { noSync: true })).commit(scope, () => ({ [`popularity@s${i}`]: uri(`p${i}`) }), meta()));
    const results = await Promise.all(writers);
    expect(results.map((r) => r.entry.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const entries = await expectChain();
    const expected = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`popularity@s${i}`, uri(`p${i}`)]));
    expect(entries.at(-1)!.next).toEqual(expected);
    expect((await registry.readManifest(scope))!.manifest.current).toEqual(expected);
  });

  test('gives up with a conflict error after maxRetries lost races', async () => {
    await registry.commit(scope, () => ({ popularity: uri('p1') }), meta());
    const historyDir = join(root, keys.historyPrefix(scope));
    let attempts = 0;
    const error = await registry
      .commit(
        scope,
        (current) => {
          attempts++;
          // A competing publisher claims the sequence number we are about to claim.
          const seq = readdirSync(historyDir).filter((n) => n.endsWith('.json')).length + 1;
          const competitor = { v: 1, seq, at: '2026-01-02T00:00:00.000Z', tenant: 'demo', surface: 'home', reason: 'publish', previous: current, next: current, run_id: `rival-${seq}`, actor: { host: 'h', user: 'u', tool: 't' } };
          writeFileSync(join(root, keys.history(scope, seq)), JSON.stringify(competitor));
          return { popularity: uri('p2') };
        },
        meta(),
        { maxRetries: 2 },
      )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'conflict' });
    expect(attempts).toBe(3);
    // Our change never made it into the log or the manifest.
    const entries = await expectChain();
    expect(entries.every((e) => e.next.popularity === uri('p1'))).toBe(true);
  });
});

describe('rollForward after a crash between the history claim and the manifest write', () => {
  /** What a publisher killed right after claiming `history/<seq>` leaves behind. */
  async function claimWithoutManifest(next: Record<string, string>): Promise<void> {
    const head = (await registry.latestHistory(scope))!;
    const entry = { ...head, seq: head.seq + 1, previous: head.next, next, run_id: 'crashed-run' };
    expect(await storage.putIfAbsent(keys.history(scope, entry.seq), JSON.stringify(entry, null, 2))).toBe('written');
  }

  test('the manifest stays at the previous complete state until rollForward materialises the log head', async () => {
    await registry.commit(scope, () => ({ popularity: uri('p1') }), meta());
    await claimWithoutManifest({ popularity: uri('p2') });
    expect((await registry.readManifest(scope))!.manifest.current).toEqual({ popularity: uri('p1') });

    const rolled = await registry.rollForward(scope, '2026-01-04T00:00:00.000Z');
    expect(rolled.changed).toBe(true);
    expect(rolled.manifest!.current).toEqual({ popularity: uri('p2') });
    expect((await registry.readManifest(scope))!.manifest.current).toEqual({ popularity: uri('p2') });
    expect(await registry.rollForward(scope, '2026-01-05T00:00:00.000Z')).toMatchObject({ changed: false });
    await expectChain();
  });

  test('the next commit builds on the claimed entry, so the crashed change is not lost', async () => {
    await registry.commit(scope, () => ({ popularity: uri('p1') }), meta());
    await claimWithoutManifest({ popularity: uri('p1'), cooc: uri('c-crashed') });
    const next = await registry.commit(scope, (current) => {
      expect(current).toEqual({ cooc: uri('c-crashed'), popularity: uri('p1') });
      return { popularity: uri('p3') };
    }, meta());
    expect(next.entry.seq).toBe(3);
    expect(next.manifest.current).toEqual({ cooc: uri('c-crashed'), popularity: uri('p3') });
    await expectChain();
  });

  test('rollForward without any history changes nothing', async () => {
    expect(await registry.rollForward(scope, '2026-01-04T00:00:00.000Z')).toEqual({ changed: false });
    expect(await registry.readManifest(scope)).toBeUndefined();
  });
});

describe('version records', () => {
  const record = {
    v: 1 as const,
    tenant: 'demo',
    surface: 'home',
    artifact_type: 'popularity' as const,
    segment: 'default',
    version: 'a'.repeat(64),
    uri: uri('p1'),
    window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
    sha256: 'b'.repeat(64),
    size_bytes: 10,
    built_at: '2026-01-02T00:00:00Z',
    published_at: '2026-01-02T00:00:01.000Z',
    inputs: [],
    tool: { name: 'recsys-pipelines', version: '0.0.0-test' },
  };

  test('are immutable: a second put keeps and returns the first record', async () => {
    expect(await registry.putRecord(record)).toEqual(record);
    const later = { ...record, published_at: '2026-02-01T00:00:00.000Z' };
    expect(await registry.putRecord(later)).toEqual(record);
    expect(await registry.readRecord(scope, 'popularity', record.version)).toEqual(record);
    const all = [];
    for await (const r of registry.records(scope)) all.push(r);
    expect(all).toEqual([record]);
  });

  test('a corrupt record is an integrity error naming its URI', async () => {
    await storage.put(keys.record(scope, 'popularity', record.version), '{"v":1');
    const error = await registry.readRecord(scope, 'popularity', record.version).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'integrity' });
    expect((error as Error).message).toContain(storage.uri(keys.record(scope, 'popularity', record.version)));
  });
});
