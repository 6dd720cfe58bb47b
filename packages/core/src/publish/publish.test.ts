import { describe, expect, test } from 'vitest';
import type { BuiltArtifact } from '../compute/artifacts.js';
import { dayWindow } from '../days.js';
import { RecsysError } from '../errors.js';
import { keys } from '../keys.js';
import { Registry } from '../registry/registry.js';
import { blobBytes, popularity, scope, sha256, testEnv, type TestEnv } from '../testing/fixtures.js';
import { verifyRegistry } from '../ops/verify.js';
import { publishArtifacts, type PublishStepHook } from './publish.js';

const target = { scope, segment: 'default', window: dayWindow('2026-01-01') };
const hashOf = (bytes: Uint8Array) => {
  const h = sha256();
  h.update(bytes);
  return h.digest();
};

/** The same artifact as `built`, but whose blob yields `bytes` while it declares `declared` as its staged sha256. */
function streamingOther(built: BuiltArtifact, bytes: Uint8Array, declared: string): BuiltArtifact {
  return { ...built, sha256: declared, blob: () => [bytes] };
}

function parked(step: Parameters<PublishStepHook>[0]): { hook: PublishStepHook; reached: Promise<void>; resume: () => void } {
  let reached!: () => void;
  let resume!: () => void;
  const reachedP = new Promise<void>((r) => (reached = r));
  const resumed = new Promise<void>((r) => (resume = r));
  return {
    hook: async (s) => {
      if (s !== step) return;
      reached();
      await resumed;
    },
    reached: reachedP,
    resume,
  };
}

async function servedAndRecorded(env: TestEnv, version: string) {
  const manifest = (await new Registry(env.areas.registry).readManifest(scope))!.manifest;
  const key = keys.blob(scope, 'popularity', version);
  const blob = env.objects.objects.get(key)?.data;
  const record = await new Registry(env.areas.registry).readRecord(scope, 'popularity', version);
  return { manifest, blob, record, uri: env.objects.uri(key) };
}

describe('two publishers of the same version with different bytes (issue 11 items 2 and 11)', () => {
  test('the first writer reads back the other run\'s bytes: it adopts them and never deletes the blob the other already serves', async () => {
    const env = testEnv();
    const first = popularity(env, { A: 2, B: 1 });
    env.testClock.advance(1000);
    const second = popularity(env, { A: 2, B: 1 });
    expect(second.version).toBe(first.version);
    const firstBytes = blobBytes(first);
    const secondBytes = blobBytes(second);
    expect(hashOf(firstBytes)).not.toBe(hashOf(secondBytes)); // built_at differs
    // Run 1 staged `first` but its staged blob was replaced by run 2's bytes before it streamed it:
    // it creates the published blob with run 2's bytes while expecting its own hash.
    const p1 = parked('blob');
    const publishing1 = publishArtifacts(env, target, [streamingOther(first, secondBytes, hashOf(firstBytes))], [], p1.hook);
    await p1.reached;
    // Run 2 finds the blob, checks it, records it and moves the pointer to it.
    await publishArtifacts(env, target, [second], []);
    p1.resume();
    await publishing1; // succeeds too
    const { manifest, blob, record, uri } = await servedAndRecorded(env, first.version);
    expect(manifest.current.popularity).toBe(uri);
    expect(blob).toBeDefined();
    expect(hashOf(blob!)).toBe(hashOf(secondBytes));
    expect(record!.sha256).toBe(hashOf(secondBytes));
    expect((await verifyRegistry(env)).problems).toEqual([]);
  });

  test('a run that finds the other run\'s blob adopts its sha256 and built_at in the record', async () => {
    const env = testEnv();
    const first = popularity(env, { A: 1 });
    env.testClock.advance(5000);
    const second = popularity(env, { A: 1 });
    await publishArtifacts(env, target, [first], []);
    const result = await publishArtifacts(env, target, [second], []);
    expect(result.artifacts[0]!.newBlob).toBe(false);
    const { record } = await servedAndRecorded(env, first.version);
    expect(record!.sha256).toBe(hashOf(blobBytes(first)));
    expect(record!.built_at).toBe(first.builtAt);
  });
});

describe('a failed un-pin does not mask the outcome (issue 11 item 6)', () => {
  function failPinDeletes(env: TestEnv): void {
    const base = env.registryStorage.beforeOp;
    env.registryStorage.beforeOp = async (op, key) => {
      if (op === 'delete' && key.startsWith(keys.pinPrefix(scope))) throw new Error('EIO: injected failure deleting the pin');
      await base(op, key);
    };
  }

  test('after a successful commit, publish succeeds and the pointer moved', async () => {
    const env = testEnv();
    failPinDeletes(env);
    const built = popularity(env, { A: 1 });
    const result = await publishArtifacts(env, target, [built], []);
    expect(result.commit.entry.seq).toBe(1);
    expect((await servedAndRecorded(env, built.version)).manifest.current.popularity).toBe(result.artifacts[0]!.uri);
  });

  test('a gate failure stays a gate failure (exit 3)', async () => {
    const env = testEnv();
    failPinDeletes(env);
    const built = popularity(env, { A: 1 });
    const broken: BuiltArtifact = { ...built, blob: () => [new TextEncoder().encode('{"v":1}')] };
    const error = await publishArtifacts(env, target, [broken], []).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.kind).toBe('validation');
    expect(RecsysError.isInstance(error) && error.exitCode).toBe(3);
  });
});

describe('every blob goes through the artifact gate, whatever its size (issue 11 item 5)', () => {
  test('a 34 MiB blob over max_items_per_artifact is blocked (exit 3) and the pointer does not move', async () => {
    const base = testEnv();
    const env: TestEnv = { ...base, limits: { ...base.limits, max_items_per_artifact: 10 } };
    // 34 items with 1 MiB ids: above the old 32 MiB read-back threshold, which skipped the gate.
    const items: Record<string, number> = {};
    for (let i = 0; i < 34; i++) items[`item-${String(i).padStart(2, '0')}-${'x'.repeat(1 << 20)}`] = i + 1;
    const big = popularity(env, items);
    expect(blobBytes(big).byteLength).toBeGreaterThan(32 * 1024 * 1024);
    const error = await publishArtifacts(env, target, [big], []).catch((e: unknown) => e);
    expect(RecsysError.isInstance(error) && error.exitCode, String(error)).toBe(3);
    expect((error as Error).message).toMatch(/artifact_size.*34 rows > limits\.max_items_per_artifact 10/);
    expect(await new Registry(env.areas.registry).readManifest(scope)).toBeUndefined();
    // Builds and streams a 34 MiB blob: generous, since CI runs every package's suite at once on 2 cores.
  }, 300_000);
});
