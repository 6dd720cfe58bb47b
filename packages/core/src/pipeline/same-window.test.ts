// Two runs of the same window at once (a duplicated cron run, a Kubernetes
// retry while the first pod lives): both compute the same version with
// different built_at. Issue 11 items 2 and 11: both must succeed, with one
// version whose bytes, sha256 and records agree, and nothing served deleted.
import { describe, expect, test } from 'vitest';
import { dayWindow } from '../days.js';
import { keys } from '../keys.js';
import { Registry } from '../registry/registry.js';
import { publishArtifacts } from '../publish/publish.js';
import { cooc, popularity, scope, sha256, testEnv, type TestEnv } from '../testing/fixtures.js';
import type { MemoryStorage } from '../testing/memory-storage.js';
import { verifyRegistry } from '../ops/verify.js';
import { stageArtifacts, stagedBuilt, loadStaged, windowFolderOf } from './staging.js';
import type { PipelineEnv } from '../pipeline-env.js';

const DAY = '2026-01-01';
const target = { scope, segment: 'default', window: dayWindow(DAY) };
const hashOf = (bytes: Uint8Array) => {
  const h = sha256();
  h.update(bytes);
  return h.digest();
};

/** One `run` of the window as the pipeline does it: stage, then publish the staged bytes. */
async function runOnce(env: PipelineEnv, at: number, testEnvForBuild: TestEnv) {
  testEnvForBuild.testClock.ms = at;
  const built = [popularity(testEnvForBuild, { A: 3, B: 2, C: 1 }), cooc(testEnvForBuild, ['A', 'B', 'C'])];
  const staged = await stageArtifacts(env, target, built, []);
  return publishArtifacts(env, target, staged.map((a) => stagedBuilt(env, a)), []);
}

/** Every storage of the env, to count and park one actor's operations. */
function storagesOf(env: TestEnv): MemoryStorage[] {
  return [env.objects, env.registryStorage, env.areas.artifacts as MemoryStorage];
}

async function race(k: number): Promise<{ reached: boolean; env: TestEnv }> {
  const env = testEnv();
  const t0 = env.testClock.ms;
  let count = 0;
  let counting = true;
  let reachedK!: () => void;
  let resumeK!: () => void;
  const atK = new Promise<void>((r) => (reachedK = r));
  const resumed = new Promise<void>((r) => (resumeK = r));
  for (const storage of storagesOf(env)) {
    const base = storage.beforeOp;
    storage.beforeOp = async (op, key) => {
      if (counting && count++ === k) {
        counting = false;
        reachedK();
        await resumed;
      }
      await base(op, key);
    };
  }
  // Run A starts first and is parked before its k-th storage operation; run B (built 7 s later) runs whole.
  const a = runOnce(env, t0, env);
  const parked = await Promise.race([atK.then(() => true), a.then(() => false)]);
  counting = false;
  const envB = testEnv();
  const b = await runOnce(env, t0 + 7000, envB);
  resumeK();
  const resultA = await a;
  // Both succeed and report the same versions.
  expect(resultA.artifacts.map((x) => x.version)).toEqual(b.artifacts.map((x) => x.version));
  return { reached: parked, env };
}

async function checkAgreement(env: TestEnv, where: string): Promise<void> {
  const registry = new Registry(env.areas.registry);
  const manifest = (await registry.readManifest(scope))!.manifest;
  for (const [key, uri] of Object.entries(manifest.current)) {
    const blobKey = env.objects.keyOfUri(uri)!;
    const blob = env.objects.objects.get(blobKey)?.data;
    expect(blob, `${where}: ${key} is served but its blob is gone`).toBeDefined();
    const type = key.split('@')[0]!;
    const version = blobKey.slice(blobKey.lastIndexOf('/') + 1, -'.json'.length);
    const record = await registry.readRecord(scope, type, version);
    expect(record?.sha256, `${where}: record of ${key} vs its blob`).toBe(hashOf(blob!));
    expect(record?.size_bytes, where).toBe(blob!.byteLength);
    // The staged blob and its metadata agree too (job-mode publish re-reads them).
    const loaded = await loadStaged(env, target, type as 'popularity' | 'cooc');
    expect(loaded?.meta.sha256, `${where}: staged ${key}`).toBe(hashOf(blob!));
    const staged = (env.areas.artifacts as MemoryStorage).objects.get(keys.staged(scope, 'default', type, windowFolderOf(target.window), version))!.data;
    expect(hashOf(staged), where).toBe(hashOf(blob!));
  }
  expect((await verifyRegistry(env)).problems, where).toEqual([]);
}

describe('two runs of the same window at once', () => {
  test('whichever storage operation the first run is parked at while the second runs whole, both succeed with one agreed version', async () => {
    let points = 0;
    for (let k = 0; k < 200; k++) {
      const { reached, env } = await race(k);
      await checkAgreement(env, `run A parked before its storage operation #${k}`);
      if (!reached) break;
      points++;
    }
    expect(points).toBeGreaterThan(20);
  });

  test('the second run adopts the first run\'s built_at: staged and published bytes are identical', async () => {
    const env = testEnv();
    const t0 = env.testClock.ms;
    const a = await runOnce(env, t0, env);
    const b = await runOnce(env, t0 + 60_000, testEnv());
    expect(b.artifacts.map((x) => x.newBlob)).toEqual([false, false]);
    expect(b.artifacts.map((x) => x.version)).toEqual(a.artifacts.map((x) => x.version));
    await checkAgreement(env, 'sequential');
  });
});

describe('the blob hash known from the build', () => {
  test('staging and publishing hand it to the storage writer, which may check the stored bytes against it', async () => {
    const env = testEnv();
    const seen: Array<{ key: string; sha256: string | undefined }> = [];
    for (const storage of [env.objects, env.areas.artifacts as MemoryStorage]) {
      const writer = storage.writer.bind(storage);
      storage.writer = (key, options) => {
        seen.push({ key, sha256: options?.sha256 });
        return writer(key, options);
      };
    }
    const built = [popularity(env, { A: 3, B: 2, C: 1 }), cooc(env, ['A', 'B', 'C'])];
    await runOnce(env, env.testClock.ms, env);
    // Staged blobs, then the published ones (copied through: the memory storage cannot link).
    expect(seen.map((w) => w.key.split('/').slice(-3, -1).join('/').replace(/^default\//, ''))).toEqual(['popularity/2026-01-01_2026-01-02', 'cooc/2026-01-01_2026-01-02', 'home/popularity', 'home/cooc']);
    expect(built[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.map((w) => w.sha256)).toEqual([built[0]!.sha256, built[1]!.sha256, built[0]!.sha256, built[1]!.sha256]);
  });
});

describe('staging a day of several types', () => {
  const typeOf = (key: string) => (key.includes('/popularity/') ? 'popularity' : key.includes('/cooc/') ? 'cooc' : 'other');

  test('the types are staged at the same time, each with its marker last', async () => {
    const env = testEnv();
    const storage = env.areas.artifacts as MemoryStorage;
    const ops: string[] = [];
    storage.beforeOp = async (op, key) => {
      ops.push(`${typeOf(key)} ${op} ${key.slice(key.lastIndexOf('/') + 1)}`);
      // Each operation takes a turn of the event loop, like a file system call.
      await new Promise((resolve) => setImmediate(resolve));
    };
    const built = [popularity(env, { A: 3, B: 2, C: 1 }), cooc(env, ['A', 'B', 'C'])];
    const staged = await stageArtifacts(env, target, built, []);
    expect(staged.map((s) => s.type)).toEqual(['popularity', 'cooc']);
    const of = (type: string) => ops.flatMap((o, i) => (o.startsWith(`${type} `) ? [i] : []));
    // cooc's first operation comes before popularity's last one.
    expect(of('cooc')[0]!).toBeLessThan(of('popularity').at(-1)!);
    for (const type of ['popularity', 'cooc']) expect(ops[of(type).at(-1)!]).toBe(`${type} put current.version`);
  });

  test('a failure is the first failing type in type order, once every type has settled', async () => {
    const env = testEnv();
    const storage = env.areas.artifacts as MemoryStorage;
    let inFlight = 0;
    storage.beforeOp = async (op, key) => {
      inFlight++;
      try {
        // cooc fails at once; popularity fails later (its marker), and is still the error.
        if (typeOf(key) === 'cooc' && op === 'writer.commit.exclusive') throw new Error('EIO: cooc blob');
        for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
        if (typeOf(key) === 'popularity' && key.endsWith('current.version')) throw new Error('EIO: popularity marker');
      } finally {
        inFlight--;
      }
    };
    const built = [popularity(env, { A: 3, B: 2, C: 1 }), cooc(env, ['A', 'B', 'C'])];
    const error = await stageArtifacts(env, target, built, []).catch((e: unknown) => e);
    expect((error as Error).message).toBe('EIO: popularity marker');
    expect(inFlight).toBe(0);
  });
});
