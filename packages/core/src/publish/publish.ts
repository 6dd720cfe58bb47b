import { manifestKey, type InputPartition, type VersionRecordV1 } from '@recsys/contracts';
import { IntegrityError, ValidationGateError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../storage-areas.js';
import { hashStoredObject } from '../stored-hash.js';
import type { ArtifactTarget, BuiltArtifact } from '../compute/artifacts.js';
import { checkArtifactGate } from '../validate/gates.js';
import { Registry, type CommitResult } from '../registry/registry.js';
import { fenceTargets } from '../ops/gc-fence.js';

/** A published artifact. @since 0.1.0 */
export interface PublishedArtifact {
  readonly type: string;
  readonly key: string;
  readonly version: string;
  readonly uri: string;
  readonly size: number;
  /** False when the blob was already published (rerun): the stored one is kept. */
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
 * Blobs up to this size are fully re-parsed with the contract on read-back
 * (JSON + zod + version recompute). Larger ones are checked by streaming
 * their bytes through SHA-256 and comparing with what was written, because a
 * full parse of a multi-hundred-MB cooc blob costs more than computing it;
 * their content was produced by the same serializer the small path proves.
 */
export const FULL_READBACK_MAX_BYTES = 32 * 1024 * 1024;

const decoder = new TextDecoder();

/** Streams the blob into its versioned key, exclusively; returns the bytes' hash. */
async function writeBlob(env: PipelineEnv, key: string, built: BuiltArtifact): Promise<{ written: boolean; sha256: string; size: number }> {
  const writer = await env.areas.objects.writer(key);
  // A staged blob's hash is known: the read-back below checks the stored bytes against it, so copying needn't hash.
  const hash = built.sha256 === undefined ? env.sha256() : undefined;
  let sha256: string;
  try {
    for await (const chunk of built.blob()) {
      hash?.update(chunk);
      await writer.write(chunk);
    }
    sha256 = hash ? hash.digest() : built.sha256!;
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const { written, size } = await writer.commit({ exclusive: true });
  return { written, sha256, size };
}


/**
 * Step 2 of the protocol: the stored blob is a valid blob of this version.
 * Returns the stored bytes' hash, size and built_at — those of the blob that
 * is actually stored, which is what the version record must describe.
 *
 * Never deletes the blob: once a key exists, a concurrent publisher of the
 * same version may already have found it (exclusive create: "exists") and
 * be pointing at it. Two runs of the same window produce the same content
 * under one version; if their bytes differ at all (their `built_at`), the
 * stored blob is the winner and everyone adopts it: it passes the gate, so
 * its sha256 and built_at go into the record. A stored blob that fails the
 * gate is an integrity error (exit 1) and the pointer does not move.
 */
async function readBack(env: PipelineEnv, target: ArtifactTarget, built: BuiltArtifact, key: string, wrote: { written: boolean; sha256: string }, registry: Registry) {
  const { objects } = env.areas;
  const uri = objects.uri(key);
  const stored = await hashStoredObject(env.sha256, objects, key);
  if (!stored) throw new IntegrityError(`blob ${uri} is missing right after it was written`, { uri });
  const ours = wrote.written && stored.sha256 === wrote.sha256;
  if (wrote.written && !ours) {
    env.logger.warn({ uri, stored_sha256: stored.sha256, written_sha256: wrote.sha256 }, 'the blob reads back other bytes than were written (a concurrent publisher of the same version?); checking and adopting the stored one');
  }
  const record = ours ? undefined : await registry.readRecord(target.scope, built.type, built.version);
  const trustedByRecord = record !== undefined && record.sha256 === stored.sha256;
  if (stored.size <= FULL_READBACK_MAX_BYTES || (!ours && !trustedByRecord)) {
    const data = await objects.get(key);
    if (!data) throw new IntegrityError(`blob ${uri} vanished during read-back`, { uri });
    try {
      const artifact = await checkArtifactGate(decoder.decode(data), { type: built.type, version: built.version, target }, env.limits);
      return { ...stored, builtAt: artifact.build.built_at };
    } catch (error) {
      if (!ours && error instanceof ValidationGateError) {
        throw new IntegrityError(`published blob ${uri} exists with content that is not version ${built.version}: ${error.message}`, { uri }, { cause: error });
      }
      throw error;
    }
  }
  return { ...stored, builtAt: ours ? built.builtAt : (record?.built_at ?? built.builtAt) };
}

/**
 * Publishes computed artifacts with the pointer last (DESIGN §5.5):
 * 0. pin the blobs against a concurrent gc (`fenceTargets`), 1. put each
 * immutable blob (exclusive create; a rerun keeps the stored blob), 2. read
 * it back and validate it, 3. write its version record, 4.–5. move the
 * pointer for all of them in one history entry + manifest compare-and-swap.
 * A crash at any point leaves the manifest pointing at complete, valid blobs.
 * @since 0.1.0
 */
export async function publishArtifacts(
  env: PipelineEnv,
  target: ArtifactTarget,
  built: readonly BuiltArtifact[],
  inputs: readonly InputPartition[],
  hook?: PublishStepHook,
): Promise<PublishResult> {
  const { areas, identity, clock } = env;
  const registry = new Registry(areas.registry, env.logger);
  const published: PublishedArtifact[] = [];
  // Before anything is written, pin the blobs we will point at, so a concurrent gc can never
  // delete one between our write and our pointer move (a rerun re-publishes old versions).
  const blobKeys = built.map((artifact) => keys.blob(target.scope as Scope, artifact.type, artifact.version));
  const release = await fenceTargets(env, target.scope, blobKeys.map((key) => ({ uri: areas.objects.uri(key) })));
  try {
    for (const [i, artifact] of built.entries()) {
      const key = blobKeys[i]!;
      const uri = areas.objects.uri(key);
      const wrote = await writeBlob(env, key, artifact);
      await hook?.('blob', artifact.type);
      const stored = await readBack(env, target, artifact, key, wrote, registry);
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
        sha256: stored.sha256,
        size_bytes: stored.size,
        built_at: stored.builtAt,
        published_at: clock.now().toISOString(),
        inputs: [...inputs],
        tool: { name: identity.tool.name, version: identity.tool.version },
      };
      const kept = await registry.putRecord(record);
      if (kept.sha256 !== stored.sha256 || kept.size_bytes !== stored.size) {
        // Records are immutable and the blob is what is served: a record describing other bytes means
        // the blob was replaced after that record was written. Refuse rather than publish the disagreement.
        throw new IntegrityError(
          `version record ${registry.storage.uri(keys.record(target.scope as Scope, artifact.type, artifact.version))} says sha256 ${kept.sha256} (${kept.size_bytes} bytes) but blob ${uri} holds sha256 ${stored.sha256} (${stored.size} bytes); see docs/operations/runbooks/pipeline-failed.md`,
          { uri },
        );
      }
      await hook?.('record', artifact.type);
      published.push({ type: artifact.type, key: manifestKey(artifact.type, target.segment), version: artifact.version, uri, size: artifact.size, newBlob: wrote.written });
    }
    await hook?.('pointer');
    const update = Object.fromEntries(published.map((p) => [p.key, p.uri]));
    const commit = await registry.commit(target.scope, () => update, { reason: 'publish', identity, at: clock.now().toISOString() });
    return { artifacts: published, commit };
  } finally {
    // Never throws (a failed un-pin is logged): the commit's outcome, success or failure, is what we report.
    await release();
  }
}
