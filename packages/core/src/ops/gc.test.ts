import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { RecsysError } from '../errors.js';
import { Registry } from '../registry/registry.js';
import { collectGarbage } from './gc.js';
import { verifyRegistry } from './verify.js';
import { fenceTargets, MARKER_TTL_MS, PIN_TTL_MS } from './gc-fence.js';
import { blobBytes, popularity, publish, scope, testEnv, type TestEnv } from '../testing/fixtures.js';
import type { BuiltArtifact } from '../compute/artifacts.js';

const DAY = 86_400_000;

/** Publishes popularity versions p0..p(n-1), one per day (clock advances a day before each). */
async function daily(env: TestEnv, n: number): Promise<BuiltArtifact[]> {
  const out: BuiltArtifact[] = [];
  for (let i = 0; i < n; i++) {
    env.testClock.advance(DAY);
    const p = popularity(env, { [`item${i}`]: i + 1 });
    await publish(env, [p]);
    out.push(p);
  }
  return out;
}

const blobExists = (env: TestEnv, p: BuiltArtifact) => env.objects.objects.has(keys.blob(scope, p.type, p.version));
const recordExists = (env: TestEnv, p: BuiltArtifact) => env.registryStorage.objects.has(keys.record(scope, p.type, p.version));
const deletedVersions = (r: Awaited<ReturnType<typeof collectGarbage>>) => r.scopes.flatMap((s) => s.deleted.map((d) => d.version));

describe('retention', () => {
  test('keeps the manifest, the last K history entries, the N newest and anything younger than --older-than', async () => {
    const env = testEnv();
    const p = await daily(env, 8); // p7 is current; history 1..8
    env.testClock.advance(DAY);
    // Ages now: p0 9 days … p4 exactly 4 days (old enough) … p7 2 days.
    const report = await collectGarbage(env, { keepVersions: 2, keepHistory: 2, olderThanMs: 4 * DAY });
    // Kept: p7 and p6 (the 2 newest), p5 (entry 7's previous; entries 7 and 8 are the last 2).
    const deleted = deletedVersions(report);
    expect(deleted).toEqual([p[0]!, p[1]!, p[2]!, p[3]!, p[4]!].map((x) => x.version));
    expect(report.scopes[0]!.kept).toEqual({ referenced: 1, newest: 2, young: 0, undated: 0 });
    for (const x of p.slice(0, 5)) {
      expect(blobExists(env, x)).toBe(false);
      expect(recordExists(env, x)).toBe(false);
      expect(env.registryStorage.objects.has(keys.tombstone(scope, 'popularity', x.version))).toBe(true);
    }
    for (const x of p.slice(5)) expect(blobExists(env, x) && recordExists(env, x)).toBe(true);
    expect(report.deleted_versions).toBe(5);
    expect(report.deleted_bytes).toBeGreaterThan(0);
    // What remains verifies clean (history references to collected blobs are explained by tombstones).
    expect((await verifyRegistry(env)).problems).toEqual([]);
  });

  test('--older-than protects recent versions even when nothing references them', async () => {
    const env = testEnv();
    const p = await daily(env, 5);
    const report = await collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 3 * DAY + 1 });
    // Ages: p0 4d, p1 3d, p2 2d, p3 1d, p4 0d (current).
    expect(deletedVersions(report)).toEqual([p[0]!.version]);
    expect(report.scopes[0]!.kept).toMatchObject({ newest: 1, young: 3 });
  });

  test('--dry-run reports the same set and deletes nothing', async () => {
    const env = testEnv();
    await daily(env, 4);
    env.testClock.advance(60 * DAY);
    const before = new Map([...env.objects.objects, ...env.registryStorage.objects]);
    const dry = await collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY, dryRun: true });
    expect(new Map([...env.objects.objects, ...env.registryStorage.objects])).toEqual(before);
    const real = await collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY });
    expect(deletedVersions(real)).toEqual(deletedVersions(dry));
    expect(deletedVersions(real)).toHaveLength(3);
  });

  test('versions are kept per type and segment; a blob without a record is dated by its build time; an unreadable one is kept', async () => {
    const env = testEnv();
    env.testClock.advance(DAY);
    const vip = popularity(env, { V: 1 }, { segment: 'vip' });
    await publish(env, [vip], { segment: 'vip' });
    // A publish that died after its blob: no record, no pointer.
    const orphan = popularity(env, { O: 1 });
    await env.objects.put(keys.blob(scope, 'popularity', orphan.version), blobBytes(orphan));
    const p = await daily(env, 2);
    await env.objects.put(keys.blob(scope, 'popularity', 'f'.repeat(64)), 'garbage');
    env.testClock.advance(60 * DAY);
    const report = await collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY });
    // vip is the newest of popularity@vip; p1 the newest (and current) of popularity; p0 and the orphan go.
    expect(deletedVersions(report).sort()).toEqual([p[0]!.version, orphan.version].sort());
    expect(report.scopes[0]!.kept.undated).toBe(1);
    expect(blobExists(env, vip)).toBe(true);
  });

  test('rejects nonsense options; removes expired pins', async () => {
    const env = testEnv();
    await daily(env, 1);
    await expect(collectGarbage(env, { keepVersions: -1 })).rejects.toThrow(/--keep-versions/);
    await expect(collectGarbage(env, { keepVersions: 1, keepHistory: 1.5 })).rejects.toThrow(/--keep-history/);
    await env.registryStorage.put(keys.pin(scope, 'dead-run'), JSON.stringify({ v: 1, run_id: 'dead', host: 'h', at: env.clock.now().toISOString(), uris: [] }));
    env.testClock.advance(PIN_TTL_MS + 1);
    await collectGarbage(env, { keepVersions: 1 });
    expect(env.registryStorage.objects.has(keys.pin(scope, 'dead-run'))).toBe(false);
  });
});

describe('one gc per scope', () => {
  test('a live marker of another gc is a conflict; an abandoned one is taken over', async () => {
    const env = testEnv();
    await daily(env, 3);
    env.testClock.advance(60 * DAY);
    const marker = JSON.stringify({ v: 1, run_id: 'other-gc', host: 'elsewhere', at: env.clock.now().toISOString(), token: 't', candidates: [] });
    await env.registryStorage.put(keys.gcMarker(scope), marker);
    const error = await collectGarbage(env, { keepVersions: 1, keepHistory: 0 }).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.kind).toBe('conflict');
    expect((error as Error).message).toMatch(/another gc is running on demo\/home \(run other-gc on elsewhere/);
    env.testClock.advance(MARKER_TTL_MS + 1);
    expect(deletedVersions(await collectGarbage(env, { keepVersions: 1, keepHistory: 0 }))).toHaveLength(2);
    expect(env.registryStorage.objects.has(keys.gcMarker(scope))).toBe(false);
  });
});

describe('a failed marker release does not mask what gc did (issue 11 item 6)', () => {
  /** The marker's delete fails (EIO); `also` may fail one more operation. */
  function failMarkerDelete(env: TestEnv, also?: (op: string, key: string) => boolean): void {
    const base = env.registryStorage.beforeOp;
    env.registryStorage.beforeOp = async (op, key) => {
      if (op === 'delete' && key === keys.gcMarker(scope)) throw new Error('EIO: injected failure deleting the gc marker');
      if (also?.(op, key)) throw new RecsysError('runtime', `injected failure: ${op} ${key}`);
      await base(op, key);
    };
  }

  test('gc reports the versions it deleted; the marker left behind is taken over once it expires', async () => {
    const env = testEnv();
    const p = await daily(env, 3);
    env.testClock.advance(60 * DAY);
    failMarkerDelete(env);
    const report = await collectGarbage(env, { keepVersions: 1, keepHistory: 0 });
    expect(deletedVersions(report)).toEqual([p[0]!.version, p[1]!.version]);
    for (const x of p.slice(0, 2)) expect(blobExists(env, x) || recordExists(env, x)).toBe(false);
    expect(env.registryStorage.objects.has(keys.gcMarker(scope))).toBe(true);
    // The leftover only delays the next gc until it expires.
    env.registryStorage.beforeOp = () => {};
    env.testClock.advance(MARKER_TTL_MS + 1);
    const [next] = await daily(env, 1);
    env.testClock.advance(60 * DAY);
    expect(deletedVersions(await collectGarbage(env, { keepVersions: 1, keepHistory: 0 }))).toEqual([p[2]!.version]);
    expect(blobExists(env, next!) && recordExists(env, next!)).toBe(true);
    expect(env.registryStorage.objects.has(keys.gcMarker(scope))).toBe(false);
  });

  test('the error that stopped gc is the one reported, not the failed release', async () => {
    const env = testEnv();
    const p = await daily(env, 3);
    env.testClock.advance(60 * DAY);
    failMarkerDelete(env, (op, key) => op === 'delete' && key === keys.record(scope, 'popularity', p[1]!.version));
    const error = await collectGarbage(env, { keepVersions: 1, keepHistory: 0 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(`injected failure: delete ${keys.record(scope, 'popularity', p[1]!.version)}`);
    // What was served is untouched.
    expect(blobExists(env, p[2]!) && recordExists(env, p[2]!)).toBe(true);
  });
});

describe('gc racing a publisher that re-publishes an old version', () => {
  async function setup() {
    const env = testEnv();
    const old = popularity(env, { A: 1 });
    await publish(env, [old]);
    env.testClock.advance(DAY);
    await publish(env, [popularity(env, { B: 1 })]);
    env.testClock.advance(60 * DAY);
    return { env, old };
  }

  test('gc marked the old version first: the publisher waits for gc, then writes blob and record again before pointing at them', async () => {
    const { env, old } = await setup();
    // gc parks just before deleting anything (its tombstone write), after marker + reference re-read.
    const gcParked = env.registryStorage.pauseAt('put', (k) => k.startsWith('gc/demo/home/collected/'));
    const gc = collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY });
    await gcParked.reached;
    // The publisher re-publishes the old content; it must see the marker and wait.
    const again = popularity(env, { A: 1 });
    expect(again.version).toBe(old.version);
    let markerReads = 0;
    const sawMarker = new Promise<void>((resolve) => {
      const base = env.registryStorage.beforeOp;
      env.registryStorage.beforeOp = async (op, key) => {
        if (op === 'get' && key === keys.gcMarker(scope) && ++markerReads === 2) resolve();
        await base(op, key);
      };
    });
    const publishing = publish(env, [again]);
    await sawMarker; // polling: it is waiting for gc
    gcParked.resume();
    const report = await gc;
    expect(deletedVersions(report)).toEqual([old.version]);
    const result = await publishing;
    // The pointer moved to the old version, and its blob and record are back.
    const manifest = (await new Registry(env.areas.registry).readManifest(scope))!.manifest;
    expect(manifest.current.popularity).toBe(result.artifacts[0]!.uri);
    expect(blobExists(env, old) && recordExists(env, old)).toBe(true);
    expect((await verifyRegistry(env)).problems).toEqual([]);
  });

  test('the publisher pinned first: gc re-reads references after its marker and spares the version', async () => {
    const { env, old } = await setup();
    // gc parks before taking its marker (it already chose its candidates).
    const gcParked = env.registryStorage.pauseAt('putIfAbsent', (k) => k === keys.gcMarker(scope));
    const gc = collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY });
    await gcParked.reached;
    // The publisher pins, finds no marker, and parks before its commit.
    const again = popularity(env, { A: 1 });
    const publisherParked = env.registryStorage.pauseAt('list', (k) => k === keys.historyPrefix(scope));
    const publishing = publish(env, [again]);
    await publisherParked.reached;
    gcParked.resume();
    const report = await gc;
    expect(deletedVersions(report)).toEqual([]);
    expect(report.scopes[0]!.spared.map((s) => s.version)).toEqual([old.version]);
    publisherParked.resume();
    await publishing;
    expect(blobExists(env, old) && recordExists(env, old)).toBe(true);
    expect((await verifyRegistry(env)).problems).toEqual([]);
  });

  test('a fence that finds its blob gone restores it byte for byte', async () => {
    const { env, old } = await setup();
    const key = keys.blob(scope, 'popularity', old.version);
    const bytes = env.objects.objects.get(key)!.data;
    env.objects.objects.delete(key);
    const release = await fenceTargets(env, scope, [{ uri: env.objects.uri(key), ensure: async () => void (await env.objects.putIfAbsent(key, bytes)) }]);
    expect(env.objects.objects.get(key)!.data).toEqual(bytes);
    expect([...env.registryStorage.objects.keys()].some((k) => k.startsWith('gc/demo/home/pins/'))).toBe(true);
    await release();
    expect([...env.registryStorage.objects.keys()].some((k) => k.startsWith('gc/demo/home/pins/'))).toBe(false);
  });
});

describe('gc re-reading references while a publisher commits and drops its pin (issue 11 item 1)', () => {
  /**
   * gc's first pass picked the old version A as a candidate; a publisher that
   * pinned A before gc's marker existed (so it does not wait) re-publishes A.
   * For every storage operation k of gc's fenced reference re-read, gc is
   * parked just before operation k while the publisher commits and drops its
   * pin; then gc goes on. Whatever k, A is either spared or re-created by the
   * publisher — never left deleted under a manifest that serves it.
   */
  async function race(k: number): Promise<{ reached: boolean; env: TestEnv; old: BuiltArtifact }> {
    const env = testEnv();
    const old = popularity(env, { A: 1 });
    await publish(env, [old]);
    env.testClock.advance(DAY);
    await publish(env, [popularity(env, { B: 1 })]);
    env.testClock.advance(60 * DAY);
    // 1. gc chooses its candidates and parks before taking its marker.
    const gcAtMarker = env.registryStorage.pauseAt('putIfAbsent', (key) => key === keys.gcMarker(scope));
    const gc = collectGarbage(env, { keepVersions: 1, keepHistory: 0, olderThanMs: 30 * DAY });
    await gcAtMarker.reached;
    // 2. The publisher pins A, finds no marker, writes, and parks before its commit.
    const again = popularity(env, { A: 1 });
    const publisherParked = env.registryStorage.pauseAt('list', (key) => key === keys.historyPrefix(scope));
    const publishing = publish(env, [again]);
    await publisherParked.reached;
    // 3. gc takes its marker and starts re-reading references; park it before its k-th registry operation.
    let count = 0;
    let reachedK!: () => void;
    const atK = new Promise<void>((resolve) => (reachedK = resolve));
    let resumeK!: () => void;
    const resumedK = new Promise<void>((resolve) => (resumeK = resolve));
    let counting = false;
    const base = env.registryStorage.beforeOp;
    env.registryStorage.beforeOp = async (op, key) => {
      if (counting && count++ === k) {
        counting = false;
        reachedK();
        await resumedK;
      }
      await base(op, key);
    };
    // gc is parked inside its marker write; every registry operation after that write is counted.
    counting = true;
    gcAtMarker.resume();
    // gc either parks at k, or finishes its whole run in fewer operations (then k is past the end).
    const parked = await Promise.race([atK.then(() => true), gc.then(() => false)]);
    counting = false; // from here on only the publisher's operations would be counted
    // 4. The publisher commits and drops its pin while gc is parked.
    publisherParked.resume();
    await publishing;
    resumeK();
    await gc;
    return { reached: parked, env, old };
  }

  test('at every point of the re-read, the version the manifest serves keeps its blob and record', async () => {
    let points = 0;
    for (let k = 0; k < 40; k++) {
      const { reached, env, old } = await race(k);
      if (!reached) break;
      points++;
      const manifest = (await new Registry(env.areas.registry).readManifest(scope))!.manifest;
      expect(manifest.current.popularity, `k=${k}`).toBe(env.objects.uri(keys.blob(scope, 'popularity', old.version)));
      expect(blobExists(env, old) && recordExists(env, old), `gc parked before its operation #${k} deleted the served version`).toBe(true);
      expect((await verifyRegistry(env)).problems, `k=${k}`).toEqual([]);
    }
    // The re-read has several operations (pins, manifest, history list, history entries): each was a park point.
    expect(points).toBeGreaterThanOrEqual(4);
  });
});
