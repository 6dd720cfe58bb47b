import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { Registry } from '../registry/registry.js';
import { verifyRegistry } from './verify.js';
import { collectGarbage } from './gc.js';
import { cooc, popularity, publish, scope, testEnv, type TestEnv } from '../testing/fixtures.js';

async function threePublishes(env: TestEnv) {
  const p1 = popularity(env, { A: 1 });
  const c1 = cooc(env, ['A', 'B']);
  await publish(env, [p1, c1]);
  const p2 = popularity(env, { B: 2 });
  await publish(env, [p2]);
  const p3 = popularity(env, { C: 3 });
  await publish(env, [p3]);
  return { p1, c1, p2, p3 };
}

const kinds = async (env: TestEnv) => (await verifyRegistry(env)).problems.map((p) => p.kind);

describe('verifyRegistry', () => {
  test('clean after publishes: counts what it checked', async () => {
    const env = testEnv();
    await threePublishes(env);
    const report = await verifyRegistry(env);
    expect(report).toMatchObject({ ok: true, problems: [] });
    expect(report.scopes).toEqual([{ tenant: 'demo', surface: 'home', manifest: true, records: 4, history_entries: 3, blobs: 4, collected: 0 }]);
  });

  test('a corrupt blob is reported once, with the places that reference it', async () => {
    const env = testEnv();
    const { p1 } = await threePublishes(env);
    await env.objects.put(keys.blob(scope, 'popularity', p1.version), '{}');
    const report = await verifyRegistry(env);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: 'corrupt_blob', where: `record popularity/${p1.version}, history 1 next.popularity, history 2 previous.popularity` });
  });

  test('hash mismatch, record mismatch, missing blob, missing record', async () => {
    const env = testEnv();
    const { p1, p2, p3, c1 } = await threePublishes(env);
    // p2's key holds p1's (valid) bytes: hashes to the wrong version.
    await env.objects.put(keys.blob(scope, 'popularity', p2.version), env.objects.objects.get(keys.blob(scope, 'popularity', p1.version))!.data);
    // c1's blob re-serialised (1-space indent: neither blob_format): same content hash, different bytes than its record says.
    const c1Key = keys.blob(scope, 'cooc', c1.version);
    const c1Text = new TextDecoder().decode(env.objects.objects.get(c1Key)!.data);
    const reserialised = JSON.stringify(JSON.parse(c1Text), null, 1);
    expect(reserialised).not.toBe(c1Text);
    await env.objects.put(c1Key, reserialised);
    // The served popularity has lost its record.
    await env.registryStorage.delete(keys.record(scope, 'popularity', p3.version));
    expect((await kinds(env)).sort()).toEqual(['hash_mismatch', 'missing_record', 'record_mismatch']);
    // A missing blob is the problem to report; its missing record is then beside the point.
    env.objects.objects.delete(keys.blob(scope, 'popularity', p3.version));
    expect((await kinds(env)).sort()).toEqual(['hash_mismatch', 'missing_blob', 'record_mismatch']);
  });

  test('history: a gap, a broken chain, and a manifest that lags are each reported distinctly', async () => {
    const env = testEnv();
    await threePublishes(env);
    const registry = new Registry(env.areas.registry);
    const e2 = (await registry.readHistory(scope, 2))!;
    await env.registryStorage.put(keys.history(scope, 2), JSON.stringify({ ...e2, previous: {} }));
    expect(await kinds(env)).toEqual(['history_chain']);
    await env.registryStorage.put(keys.history(scope, 2), JSON.stringify(e2));

    // Entry 4 claimed, manifest not written.
    const e3 = (await registry.readHistory(scope, 3))!;
    await env.registryStorage.put(keys.history(scope, 4), JSON.stringify({ ...e3, seq: 4, previous: e3.next, next: e1Next(e3.next) }));
    const lag = (await verifyRegistry(env)).problems;
    expect(lag.map((p) => p.kind)).toEqual(['manifest_lags_history']);
    expect(lag[0]!.message).toMatch(/manifest lags history: it shows entry 3, the newest entry is 4/);

    await env.registryStorage.delete(keys.history(scope, 2));
    expect(await kinds(env)).toEqual(['history_gap', 'manifest_lags_history']);
  });

  test('history references to blobs gc collected are counted, not reported; an unknown missing one is', async () => {
    const env = testEnv();
    const { p1 } = await threePublishes(env);
    env.testClock.advance(40 * 86_400_000);
    const gc = await collectGarbage(env, { keepVersions: 1, keepHistory: 1, olderThanMs: 0 });
    expect(gc.scopes[0]!.deleted.map((d) => d.version)).toEqual([p1.version]);
    const report = await verifyRegistry(env);
    expect(report.problems).toEqual([]);
    expect(report.scopes[0]!.collected).toBe(1);
    // Without its tombstone the same absence is a problem.
    await env.registryStorage.delete(keys.tombstone(scope, 'popularity', p1.version));
    expect(await kinds(env)).toEqual(['missing_blob']);
  });

  test('a requested scope with nothing in it is a problem; an unreadable manifest too', async () => {
    const env = testEnv();
    await threePublishes(env);
    expect((await verifyRegistry(env, { scope: { tenant: 'demo', surface: 'search' } })).problems.map((p) => p.kind)).toEqual(['missing_manifest']);
    await env.registryStorage.put(keys.manifest(scope), '{"v":1}');
    expect(await kinds(env)).toEqual(['unreadable_manifest']);
  });
});

/** A pointer map with the cooc key dropped (any change will do). */
function e1Next(next: Record<string, string>): Record<string, string> {
  const { cooc: _dropped, ...rest } = next;
  return rest;
}
