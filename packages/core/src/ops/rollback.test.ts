import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { RecsysError } from '../errors.js';
import { Registry } from '../registry/registry.js';
import { rollback } from './rollback.js';
import { cooc, popularity, publish, scope, sha256, testEnv, type TestEnv } from '../testing/fixtures.js';
import { finishArtifact } from '../compute/artifacts.js';
import { verifyRegistry } from './verify.js';
import { publishArtifacts } from '../publish/publish.js';
import { dayWindow } from '../days.js';

const encoder = new TextEncoder();

/** Publishes a good day, then a bad one; returns the versions of both. */
async function goodThenBad(env: TestEnv) {
  const goodPop = popularity(env, { A: 2, B: 1 });
  const goodCooc = cooc(env, ['A', 'B']);
  await publish(env, [goodPop, goodCooc]);
  const badPop = popularity(env, { Z: 9 });
  const badCooc = cooc(env, ['Y', 'Z']);
  await publish(env, [badPop, badCooc]);
  return { goodPop: goodPop.version, goodCooc: goodCooc.version, badPop: badPop.version, badCooc: badCooc.version };
}

async function current(env: TestEnv): Promise<Record<string, string>> {
  const m = await new Registry(env.areas.registry).readManifest(scope);
  return Object.fromEntries(Object.entries(m!.manifest.current).map(([k, uri]) => [k, uri.slice(uri.lastIndexOf('/') + 1, -5)]));
}

async function usageError(promise: Promise<unknown>): Promise<RecsysError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(RecsysError.isInstance(error), `expected a RecsysError, got ${String(error)}`).toBe(true);
  expect((error as RecsysError).kind).toBe('usage');
  expect((error as RecsysError).exitCode).toBe(2);
  return error as RecsysError;
}

describe('rollback --steps', () => {
  test('one type goes back one pointer change; the other keeps the bad version; audited with the reason', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const result = await rollback(env, { ...scope, type: 'popularity', steps: 1, reason: 'bad raw file' });
    expect(result.moves.map((m) => [m.key, m.from.version, m.to.version])).toEqual([['popularity', v.badPop, v.goodPop]]);
    expect(await current(env)).toEqual({ popularity: v.goodPop, cooc: v.badCooc });
    const entry = result.entry!;
    expect(entry).toMatchObject({ seq: 3, reason: 'rollback', message: 'bad raw file' });
    expect(entry.previous.popularity).toContain(v.badPop);
    expect(entry.next.popularity).toContain(v.goodPop);
    expect((await verifyRegistry(env)).problems).toEqual([]);
  });

  test('--all moves every key back; steps count pointer changes per key, rollbacks included', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    await rollback(env, { ...scope, all: true, steps: 1 });
    expect(await current(env)).toEqual({ popularity: v.goodPop, cooc: v.goodCooc });
    // One more step back per key is the rollback itself being undone.
    await rollback(env, { ...scope, all: true, steps: 1 });
    expect(await current(env)).toEqual({ popularity: v.badPop, cooc: v.badCooc });
    expect(await new Registry(env.areas.registry).historySeqs(scope)).toEqual([1, 2, 3, 4]);
  });

  test('a key published in one change only has no earlier version, and too many steps are refused', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 1 })]);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 1 }))).message).toMatch(/first published in history seq 1; there is no earlier version/);
    await publish(env, [popularity(env, { B: 1 })]);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 3 }))).message).toMatch(/only 2 pointer changes of it, fewer than --steps 3/);
  });

  test('--dry-run resolves and verifies but writes nothing', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const before = [...env.registryStorage.objects.keys()].sort();
    const result = await rollback(env, { ...scope, all: true, steps: 1, dryRun: true });
    expect(result.dry_run).toBe(true);
    expect(result.moves.map((m) => m.to.version).sort()).toEqual([v.goodCooc, v.goodPop].sort());
    expect(result.entry).toBeUndefined();
    expect([...env.registryStorage.objects.keys()].sort()).toEqual(before);
    expect(await current(env)).toEqual({ popularity: v.badPop, cooc: v.badCooc });
  });
});

describe('rollback --to', () => {
  test('by full version and by a unique prefix; the record gives window and publish time', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const r = await rollback(env, { ...scope, type: 'cooc', to: v.goodCooc });
    expect(r.moves[0]).toMatchObject({ key: 'cooc', source: 'version record', window: dayWindow('2026-01-01') });
    expect(await current(env)).toEqual({ popularity: v.badPop, cooc: v.goodCooc });
    await rollback(env, { ...scope, type: 'cooc', to: v.badCooc.slice(0, 10).toUpperCase() });
    expect(await current(env)).toEqual({ popularity: v.badPop, cooc: v.badCooc });
  });

  test('the current version is a no-op without a history entry', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const r = await rollback(env, { ...scope, type: 'popularity', to: v.badPop });
    expect(r.moves).toEqual([]);
    expect(r.unchanged).toEqual(['popularity']);
    expect(await new Registry(env.areas.registry).historySeqs(scope)).toEqual([1, 2]);
  });

  test('refuses, naming why: unknown version, another type, another tenant/surface, another segment', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', to: 'ab'.repeat(32) }))).message).toMatch(/unknown version abab.* for demo\/home popularity/);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', to: v.goodCooc }))).message).toMatch(new RegExp(`does not belong to demo/home popularity: ${v.goodCooc} is a cooc version of demo/home`));
    // A version published for another tenant.
    const otherTarget = { scope: { tenant: 'acme', surface: 'home' }, segment: 'default', window: dayWindow('2026-01-01') };
    const acme = finishArtifact('popularity', otherTarget, { members: { items: [{ item_id: 'Q', count: 1 }] }, rows: 1 }, '2026-01-01T00:00:00Z', sha256);
    await publishArtifacts(env, otherTarget, [acme], []);
    const e = await usageError(rollback(env, { ...scope, type: 'popularity', to: acme.version }));
    expect(e.message).toMatch(/is a popularity version of acme\/home/);
    // A segment's version is not the default segment's.
    const seg = popularity(env, { S: 1 }, { segment: 'vip' });
    await publish(env, [seg], { segment: 'vip' });
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', to: seg.version }))).message).toMatch(/is a popularity@vip version/);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', to: 'nothex' }))).message).toMatch(/is not a version/);
  });

  test('refuses a missing, corrupt or mis-hashed blob, naming which; gc-collected blobs say so', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const blobKey = keys.blob(scope, 'popularity', v.goodPop);
    const original = env.objects.objects.get(blobKey)!.data;

    env.objects.objects.delete(blobKey);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 1 }))).message).toMatch(/\(missing blob\).*does not exist/);

    await env.objects.put(blobKey, '{"v":1,"artifact_type":');
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 1 }))).message).toMatch(/\(corrupt blob\).*does not parse/);

    // Valid artifact bytes of another version stored under this version's key.
    await env.objects.put(blobKey, env.objects.objects.get(keys.blob(scope, 'popularity', v.badPop))!.data);
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 1 }))).message).toMatch(/\(hash mismatch\).*hashes to/);

    // Another tenant's artifact under this key.
    const text = new TextDecoder().decode(original).replace(/"tenant":( ?)"demo"/, '"tenant":$1"acme"');
    await env.objects.put(blobKey, encoder.encode(text));
    expect((await usageError(rollback(env, { ...scope, type: 'popularity', steps: 1 }))).message).toMatch(/belongs to another tenant\/surface\/type\/segment.*tenant acme, expected demo/);

    await env.objects.put(blobKey, original);
    await rollback(env, { ...scope, type: 'popularity', steps: 1 });
    expect((await current(env)).popularity).toBe(v.goodPop);
  });
});

describe('rollback and the log', () => {
  test('rolls forward a manifest that lags its history (crash between claim and write)', async () => {
    const env = testEnv();
    const v = await goodThenBad(env);
    const registry = new Registry(env.areas.registry);
    // Entry 3 claimed by a publisher that died before writing the manifest.
    const head = (await registry.latestHistory(scope))!;
    const extra = env.objects.uri(keys.blob(scope, 'popularity', v.goodPop));
    const crashed = { ...head, seq: 3, previous: head.next, next: { ...head.next, 'popularity@vip': extra } };
    await env.registryStorage.putIfAbsent(keys.history(scope, 3), JSON.stringify(crashed));
    const r = await rollback(env, { ...scope, type: 'cooc', steps: 1 });
    expect(r.entry!.seq).toBe(4);
    const m = (await registry.readManifest(scope))!.manifest.current;
    expect(m['popularity@vip']).toBe(extra);
    expect(m.cooc).toContain(v.goodCooc);
  });

  test('refuses to undo a pointer change that lands while it runs', async () => {
    const env = testEnv();
    await goodThenBad(env);
    const registry = new Registry(env.areas.registry);
    // Park the rollback right after it pins its target, publish meanwhile, then let it go on.
    const parked = env.registryStorage.pauseAt('put', (k) => k.startsWith('gc/demo/home/pins/'));
    const running = rollback(env, { ...scope, type: 'popularity', steps: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await parked.reached;
    const third = popularity(env, { N: 5 });
    const publishing = publish(env, [third]);
    await publishing;
    parked.resume();
    const error = await running;
    expect(RecsysError.isInstance(error) && error.kind).toBe('conflict');
    expect((error as Error).message).toMatch(/moved while rolling back/);
    expect((await current(env)).popularity).toBe(third.version);
    expect(await registry.historySeqs(scope)).toEqual([1, 2, 3]);
    // The rollback's pin is gone.
    expect([...env.registryStorage.objects.keys()].filter((k) => k.includes('/pins/'))).toEqual([]);
  });
});
