import { manifestKey, type InputPartition, type VersionRecordV1 } from '@recsys/contracts';
import { IntegrityError, ValidationGateError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../storage-areas.js';
import type { ArtifactTarget, BuiltArtifact } from '../compute/artifacts.js';
import { checkArtifactGate } from '../validate/gates.js';
import { Registry, type CommitResult } from '../registry/registry.js';

const decoder = new TextDecoder();

function sha256Of(env: PipelineEnv, data: Uint8Array): string {
  const hash = env.sha256();
  hash.update(data);
  return hash.digest();
}

/** A published artifact. @since 0.1.0 */
export interface PublishedArtifact {
  readonly type: string;
  readonly key: string;
  readonly version: string;
  readonly uri: string;
  readonly size: number;
  /** False when an identical blob was already published (rerun). */
  readonly newBlob: boolean;
}

/** Result of {@link publishArtifacts}. @since 0.1.0 */
export interface PublishResult {
  readonly artifacts: PublishedArtifact[];
  readonly commit: CommitResult;
}

/** Test hook: called between protocol steps so crash tests can kill the process there. */
export type PublishStepHook = (step: 'blob' | 'readback' | 'record' | 'pointer', type?: string) => Promise<void> | void;

/**
 * Puts a blob at its versioned key. Blobs are immutable: when the key exists
 * the stored blob must hash to the same version (same content; `built_at`
 * may differ), and the stored one is kept, so reruns change nothing.
 */
async function putBlob(env: PipelineEnv, scope: Scope, built: BuiltArtifact): Promise<{ key: string; newBlob: boolean }> {
  const key = keys.blob(scope, built.type, built.version);
  const result = await env.areas.objects.putIfAbsent(key, built.bytes);
  return { key, newBlob: result === 'written' };
}

/**
 * Publishes computed artifacts with the pointer last (DESIGN §5.5):
 * 1. put each immutable blob, 2. read it back and validate it (contract,
 * header, hash, sizes), 3. write its version record, 4.–5. move the pointer
 * for all of them in one history entry + manifest compare-and-swap. A crash
 * at any point leaves the manifest pointing at complete, valid blobs.
 * @since 0.1.0
 */
export async function publishArtifacts(
  env: PipelineEnv,
  target: ArtifactTarget,
  built: readonly BuiltArtifact[],
  inputs: readonly InputPartition[],
  hook?: PublishStepHook,
): Promise<PublishResult> {
  const { areas, limits, identity, clock } = env;
  const registry = new Registry(areas.registry);
  const published: PublishedArtifact[] = [];
  for (const artifact of built) {
    const { key, newBlob } = await putBlob(env, target.scope, artifact);
    await hook?.('blob', artifact.type);
    const stored = await areas.objects.get(key);
    const uri = areas.objects.uri(key);
    if (!stored) throw new IntegrityError(`blob ${uri} is missing right after it was written`, { uri });
    const text = decoder.decode(stored);
    let parsed;
    try {
      parsed = await checkArtifactGate(text, { type: artifact.type, version: artifact.version, target }, limits);
    } catch (error) {
      if (!newBlob && error instanceof ValidationGateError) {
        throw new IntegrityError(`published blob ${uri} exists with different content than version ${artifact.version}: ${error.message}`, { uri }, { cause: error });
      }
      throw error;
    }
    await hook?.('readback', artifact.type);
    const record: VersionRecordV1 = {
      v: 1,
      tenant: target.scope.tenant,
      surface: target.scope.surface,
      artifact_type: artifact.type,
      segment: target.segment,
      version: artifact.version,
      uri,
      window: { start: target.window.start, end: target.window.end },
      sha256: sha256Of(env, stored),
      size_bytes: stored.byteLength,
      built_at: parsed.build.built_at,
      published_at: clock.now().toISOString(),
      inputs: [...inputs],
      tool: { name: identity.tool.name, version: identity.tool.version },
    };
    await registry.putRecord(record);
    await hook?.('record', artifact.type);
    published.push({ type: artifact.type, key: manifestKey(artifact.type, target.segment), version: artifact.version, uri, size: artifact.size, newBlob });
  }
  await hook?.('pointer');
  const update = Object.fromEntries(published.map((p) => [p.key, p.uri]));
  const commit = await registry.commit(target.scope, () => update, { reason: 'publish', identity, at: clock.now().toISOString() });
  return { artifacts: published, commit };
}
