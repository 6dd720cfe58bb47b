import { manifestKey, type InputPartition, type VersionRecordV1 } from '@recsys/contracts';
import { IntegrityError, ValidationGateError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { ArtifactTarget, BuiltArtifact } from '../compute/artifacts.js';
import { checkArtifactGateStreamed } from '../validate/artifact-stream.js';
import { checkArtifactBytes } from '../validate/gates.js';
import { Registry, type CommitResult } from '../registry/registry.js';
import { fenceTargets } from '../ops/gc-fence.js';
import { versionOfUri } from '../ops/blob-check.js';
import { decidePointerMoves, lastDayOf, type LivePointer, type PointerAction, type PointerWindow } from './pointer-guard.js';

/** A published artifact. @since 0.1.0 */
export interface PublishedArtifact {
  readonly type: string;
  readonly key: string;
  readonly version: string;
  readonly uri: string;
  /** Rows/items in the payload. */
  readonly rows: number;
  /** False when the blob was already published (rerun): the stored one is kept. */
  readonly newBlob: boolean;
  /** Bytes of the stored blob. */
  readonly bytes: number;
  /** What happened to the key's pointer (see {@link PointerAction}). */
  readonly pointer: PointerAction;
  /** The window that was live before this publish, when there was one. */
  readonly live?: PointerWindow | undefined;
}

/** Options of {@link publishArtifacts}. @since 0.1.0 */
export interface PublishOptions {
  /**
   * Move a key even when the new window ends before the live one
   * (`--move-pointer-back`); the history entry says so.
   */
  readonly movePointerBack?: boolean | undefined;
  /** A line for the history entry's message (e.g. an accepted volume anomaly). @since 0.3.0 */
  readonly note?: string | undefined;
}

/** Result of {@link publishArtifacts}. @since 0.1.0 */
export interface PublishResult {
  readonly artifacts: PublishedArtifact[];
  readonly commit: CommitResult;
}

/**
 * Test hook: called between protocol steps so crash tests can kill the
 * process there. In order: `begin` (before the pin), then per artifact
 * `blob`, `readback`, `record`; then `pointer` (before the history claim),
 * `claimed` (history entry claimed, manifest not yet written), `committed`
 * (manifest written, pin not yet dropped) and `end` (publish complete).
 */
export type PublishStepHook = (step: 'begin' | 'blob' | 'readback' | 'record' | 'pointer' | 'claimed' | 'committed' | 'end', type?: string) => Promise<void> | void;

/**
 * Puts the blob at its versioned key, exclusively; returns the bytes' hash.
 * A staged blob (hash known) is copied by the storage itself when it can
 * (e.g. a hard link): its bytes were hashed when staged, and the
 * read-back below checks the stored bytes against that hash anyway.
 * Otherwise the bytes stream through this process.
 */
async function writeBlob(env: PipelineEnv, key: string, built: BuiltArtifact): Promise<{ written: boolean; sha256: string; size: number }> {
  const objects = env.areas.objects;
  if (built.stored && built.sha256 !== undefined && objects.copyFrom) {
    const copied = await objects.copyFrom(built.stored.storage, built.stored.key, key);
    if (copied) return { written: copied.written, sha256: built.sha256, size: copied.size };
  }
  const writer = await env.areas.objects.writer(key, { sha256: built.sha256 });
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
 * Runs the full artifact gate (contract, header, window, content hash =
 * version, size limits) on the stored bytes, streamed in bounded memory,
 * whatever the blob's size. Returns the stored bytes' hash, size and
 * built_at — those of the blob that is actually stored, which is what the
 * version record must describe.
 *
 * Never deletes the blob: once a key exists, a concurrent publisher of the
 * same version may already have found it (exclusive create: "exists") and be
 * pointing at it. Two runs of the same window write identical bytes (staging
 * agrees on one built_at); should the stored bytes still differ from ours,
 * the stored blob is the winner and is adopted if it passes the gate. A
 * stored blob that fails the gate is an integrity error (exit 1) when we did
 * not create it, a gate failure (exit 3) when we did; the pointer does not move.
 */
async function readBack(env: PipelineEnv, target: ArtifactTarget, built: BuiltArtifact, key: string, wrote: { written: boolean; sha256: string | undefined }) {
  const { objects } = env.areas;
  const uri = objects.uri(key);
  let scan;
  try {
    scan = await checkArtifactGateStreamed(() => objects.read(key), { type: built.type, version: built.version, target }, env.limits, { sha256: env.sha256 });
  } catch (error) {
    if (!wrote.written && error instanceof ValidationGateError) {
      throw new IntegrityError(`published blob ${uri} exists with content that is not version ${built.version}: ${error.message}`, { uri }, { cause: error });
    }
    throw error;
  }
  if (wrote.written && wrote.sha256 !== undefined && scan.sha256 !== wrote.sha256) {
    env.logger.warn({ uri, stored_sha256: scan.sha256, written_sha256: wrote.sha256 }, 'the blob reads back other bytes than were written (a concurrent publisher of the same version?); it passed the gate and is adopted');
  }
  // Only reached when the size was not known up front. The blob stays (publish never deletes one); nothing points at it.
  checkArtifactBytes(built, scan.size, env.limits);
  return { sha256: scan.sha256, size: scan.size, builtAt: scan.header.build.built_at };
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
  options: PublishOptions = {},
): Promise<PublishResult> {
  const { areas, identity, clock } = env;
  const registry = new Registry(areas.registry, env.logger);
  const published: Omit<PublishedArtifact, 'pointer' | 'live'>[] = [];
  // A blob the service would refuse blocks the whole day before anything is written (exit 3).
  for (const artifact of built) if (artifact.bytes !== undefined) checkArtifactBytes(artifact, artifact.bytes, env.limits);
  // Before anything is written, pin the blobs we will point at, so a concurrent gc can never
  // delete one between our write and our pointer move (a rerun re-publishes old versions).
  const blobKeys = built.map((artifact) => keys.blob(target.scope as Scope, artifact.type, artifact.version));
  await hook?.('begin');
  const release = await fenceTargets(env, target.scope, blobKeys.map((key) => ({ uri: areas.objects.uri(key) })));
  let result: PublishResult;
  try {
    for (const [i, artifact] of built.entries()) {
      const key = blobKeys[i]!;
      const uri = areas.objects.uri(key);
      const wrote = await writeBlob(env, key, artifact);
      await hook?.('blob', artifact.type);
      const stored = await readBack(env, target, artifact, key, wrote);
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
      published.push({ type: artifact.type, key: manifestKey(artifact.type, target.segment), version: artifact.version, uri, rows: artifact.rows, newBlob: wrote.written, bytes: stored.size });
    }
    await hook?.('pointer');
    // Decided inside the compare-and-swap, against the pointer map that wins any race.
    const typeOfKey = new Map(published.map((p) => [p.key, p.type]));
    const windows = new Map<string, PointerWindow | undefined>();
    const liveWindow = async (key: string, uri: string) => {
      if (!windows.has(uri)) windows.set(uri, (await registry.readRecord(target.scope, typeOfKey.get(key)!, versionOfUri(uri)).catch(() => undefined))?.window);
      return windows.get(uri);
    };
    let plan = decidePointerMoves([], {});
    const candidates = published.map((p) => ({ key: p.key, uri: p.uri, window: target.window }));
    const commit = await registry.commit(
      target.scope,
      async (current) => {
        const live: Record<string, LivePointer> = {};
        for (const p of published) {
          const uri = current[p.key];
          if (uri !== undefined) live[p.key] = { uri, window: uri === p.uri ? target.window : await liveWindow(p.key, uri) };
        }
        plan = decidePointerMoves(candidates, live, { moveBack: options.movePointerBack === true });
        return plan.update;
      },
      { reason: 'publish', message: () => joinMessages(options.note, movedBackMessage(plan)), identity, at: clock.now().toISOString() },
      { skipUnchanged: true, ...(hook ? { onClaimed: () => hook('claimed') } : {}) },
    );
    await hook?.('committed');
    const decided = new Map(plan.decisions.map((d) => [d.key, d]));
    result = { artifacts: published.map((p) => ({ ...p, pointer: decided.get(p.key)!.action, live: decided.get(p.key)!.live })), commit };
  } finally {
    // Never throws (a failed un-pin is logged): the commit's outcome, success or failure, is what we report.
    await release();
  }
  await hook?.('end');
  return result;
}

/** History message parts joined with "; ", or `undefined` when there is none. */
function joinMessages(...parts: (string | undefined)[]): string | undefined {
  const present = parts.filter((p): p is string => p !== undefined);
  return present.length > 0 ? present.join('; ') : undefined;
}

/** The history message of a deliberate move back (the audit trail of `--move-pointer-back`). */
function movedBackMessage(plan: { decisions: readonly { key: string; action: PointerAction; live?: PointerWindow | undefined }[] }): string | undefined {
  const back = plan.decisions.filter((d) => d.action === 'moved_back');
  if (back.length === 0) return undefined;
  return `--move-pointer-back: ${back.map((d) => `${d.key} moved back from ${d.live ? lastDayOf(d.live) : 'an unknown window'}`).join(', ')}`;
}

/** One artifact of a published day, as `run`/`publish` report it (`--json`). @since 0.1.0 */
export interface DayArtifactReport {
  readonly type: string;
  readonly key: string;
  readonly version: string;
  readonly uri: string;
  /** Payload rows (items, neighbour rows or users). */
  readonly rows: number;
  /** Bytes of the stored blob (the version record's `size_bytes`). */
  readonly bytes: number;
  /** False when the blob already existed (a rerun). */
  readonly new_blob: boolean;
  /** What happened to the key's pointer. */
  readonly pointer: PointerAction;
  /** The last day of the window live before this publish, when there was one. */
  readonly live_day?: string;
}

/** Maps published artifacts to their report rows. @since 0.1.0 */
export function dayArtifactReports(artifacts: readonly PublishedArtifact[]): DayArtifactReport[] {
  return artifacts.map((a) => ({
    type: a.type,
    key: a.key,
    version: a.version,
    uri: a.uri,
    rows: a.rows,
    bytes: a.bytes,
    new_blob: a.newBlob,
    pointer: a.pointer,
    ...(a.live ? { live_day: lastDayOf(a.live) } : {}),
  }));
}
