import { z } from 'zod';
import { InputPartitionSchema, isArtifactType, type ArtifactType, type InputPartition } from '@recsys/contracts';
import { IntegrityError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { hashStoredObject } from '../stored-hash.js';
import type { ArtifactTarget, BuiltArtifact } from '../compute/artifacts.js';
import type { IngestCounts, IngestReport } from '../ingest/ingest-day.js';
import { REJECT_REASONS } from '../ingest/raw-event.js';
import { rawFingerprint } from '../ingest/raw-source.js';
import type { ShardSpec } from '../shard.js';
import { VolumeGateRecordSchema } from '../validate/volume-anomaly.js';

/*
 * The job-mode staging area (DESIGN §4, `artifacts/`), shared by the steps
 * so a scheduler can run them as separate jobs:
 *
 *   <tenant>/<surface>/_ingest/<day>.json                         ingest report (counts for validate)
 *   <tenant>/<surface>/_ingest/<day>.shard-<i>-of-<n>.json         … of one shard
 *   <tenant>/<surface>/<segment>/<type>/<start>_<end>/<version>.json       the blob, exactly as it will be published
 *   <tenant>/<surface>/<segment>/<type>/<start>_<end>/<version>.meta.json  what it was built from (inputs, hash)
 *   <tenant>/<surface>/<segment>/<type>/<start>_<end>/<version>.claim.json the built_at of this version (first run wins)
 *   <tenant>/<surface>/<segment>/<type>/<start>_<end>/current.version      the staged version, written last
 *
 * Every object is written atomically and the marker last, so `publish`
 * never sees a half-staged artifact: it sees the previous marker until the
 * new blob and metadata are complete.
 *
 * Two runs of the same window (a duplicated cron run, a retried pod while
 * the first one lives) compute the same content, so the same version, but
 * stamp it with different `built_at`s. Before writing, each run claims the
 * version's `built_at` by exclusive create of `<version>.claim.json`; the
 * loser re-stamps its artifact with the winner's `built_at`. So every run
 * writes byte-identical staged (and then published) blobs: whichever write
 * lands last, even where an "exclusive" create is not exclusive (Ceph
 * ignores If-None-Match on multipart completion), the bytes, the sha256
 * and the records agree.
 */

const decoder = new TextDecoder();
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.int().min(0);

/** The window folder of a staged artifact: `<start day>_<end day>`. @since 0.1.0 */
export function windowFolderOf(window: { readonly start: string; readonly end: string }): string {
  return `${window.start.slice(0, 10)}_${window.end.slice(0, 10)}`;
}

/** Ingest counts as stored in reports and partials. @since 0.1.0 */
export const CountsSchema = z.strictObject({
  read: count,
  accepted: count,
  duplicates: count,
  out_of_window: count,
  other_scope: count,
  other_shard: count.optional(),
  rejected: count,
  rejected_by_reason: z.partialRecord(z.enum(REJECT_REASONS), count),
});

const ShardSchema = z.strictObject({ index: count, count: z.int().min(1) });

/**
 * An ingest report as stored in the staging area: what `ingest` saw, for
 * `validate` (bad-line ratio, non-empty) and for sharded merges.
 * @since 0.1.0
 */
export const StoredIngestReportSchema = z.strictObject({
  v: z.literal(1),
  tenant: z.string(),
  surface: z.string(),
  day: z.string(),
  shard: ShardSchema.optional(),
  sources: z.array(z.string()),
  counts: CountsSchema,
  canonical: z.strictObject({ key: z.string(), uri: z.string(), sha256: hex64, bytes: count }),
  quarantine: z.string().optional(),
  /** Fingerprint of the day's raw input objects when ingested (late-data detection). @since 0.3.0 */
  raw_fingerprint: z.string().optional(),
  /** The volume-anomaly gate's verdict on the day, once validated (the history of later days). @since 0.3.0 */
  volume_gate: VolumeGateRecordSchema.optional(),
  /** A shard assembled from ingest parts: the sha256 of each part's report, in part order (a changed part re-assembles it). @since 0.4.0 */
  parts: z.array(hex64).optional(),
});

/** A stored ingest report. @since 0.1.0 */
export type StoredIngestReport = Omit<z.infer<typeof StoredIngestReportSchema>, 'counts'> & { readonly counts: IngestCounts };

/**
 * Metadata staged next to an artifact's blob: enough for `publish` to
 * verify the blob and write its version record without recomputing.
 * @since 0.1.0
 */
export const StagedMetaSchema = z.strictObject({
  v: z.literal(1),
  artifact_type: z.string().refine(isArtifactType, 'unknown artifact type'),
  tenant: z.string(),
  surface: z.string(),
  segment: z.string(),
  window: z.strictObject({ start: z.string(), end: z.string() }),
  version: hex64,
  built_at: z.string(),
  /** Rows/items of the payload. */
  rows: count,
  /** SHA-256 and size of the staged blob's bytes. */
  sha256: hex64,
  size_bytes: count,
  /** The canonical partitions it was computed from (one per shard for merged artifacts). */
  inputs: z.array(InputPartitionSchema),
  /** Set when the artifact was merged from this many shard partials. */
  shards: z.int().min(1).optional(),
});

/** Staged metadata of one artifact. @since 0.1.0 */
export type StagedMeta = z.infer<typeof StagedMetaSchema>;

/** Where one artifact was staged. @since 0.1.0 */
export interface StagedArtifact {
  readonly type: ArtifactType;
  readonly version: string;
  readonly key: string;
  readonly uri: string;
  readonly rows: number;
  readonly sizeBytes: number;
  readonly sha256: string;
  readonly builtAt: string;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

export async function readJson<T>(storage: ObjectStorage, key: string, schema: z.ZodType<T>, what: string): Promise<T | undefined> {
  const data = await storage.get(key);
  if (!data) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new IntegrityError(`${what} ${storage.uri(key)} is not JSON: ${(error as Error).message}`, { uri: storage.uri(key) }, { cause: error });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new IntegrityError(`${what} ${storage.uri(key)} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { uri: storage.uri(key) });
  }
  return result.data;
}

/**
 * Stores the report of an ingested day (of one shard, with `shard`).
 * Deterministic bytes: re-ingesting the same input rewrites the same report.
 * @since 0.1.0
 */
export async function writeIngestReport(env: PipelineEnv, scope: Scope, report: IngestReport, shard?: ShardSpec, parts?: readonly string[]): Promise<string> {
  let stored: StoredIngestReport = {
    v: 1,
    tenant: scope.tenant,
    surface: scope.surface,
    day: report.day,
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
    sources: report.sources,
    counts: report.counts,
    canonical: report.canonical,
    ...(report.quarantine ? { quarantine: report.quarantine } : {}),
  };
  const key = keys.ingestReport(scope, report.day, shard);
  if (parts) stored = { ...stored, parts: [...parts] };
  // Late-data detection compares this with the raw input as it is later (pipeline/late-data.ts).
  const fingerprint = env.rawSource ? undefined : await rawFingerprint(env.areas.raw, env.sha256, scope, report.day);
  if (fingerprint) stored = { ...stored, raw_fingerprint: fingerprint };
  // Re-ingesting the same partition keeps its volume-anomaly verdict (an operator's acceptance
  // included), so a rerun rewrites the same report; another partition is judged afresh.
  const previous = await readIngestReport(env, scope, report.day, shard).catch(() => undefined);
  const verdict = previous?.volume_gate && previous.canonical.sha256 === report.canonical.sha256 ? { volume_gate: previous.volume_gate } : {};
  await env.areas.artifacts.put(key, json({ ...stored, ...verdict }));
  return key;
}

/** The stored report of an ingested day, or `undefined` when the day was not ingested. @since 0.1.0 */
export async function readIngestReport(env: PipelineEnv, scope: Scope, day: string, shard?: ShardSpec): Promise<StoredIngestReport | undefined> {
  const storage = env.areas.artifacts;
  const key = keys.ingestReport(scope, day, shard);
  // JSON has no `undefined`, so the parsed optional count is absent rather than undefined.
  const report = (await readJson(storage, key, StoredIngestReportSchema, 'ingest report')) as StoredIngestReport | undefined;
  if (report && (report.tenant !== scope.tenant || report.surface !== scope.surface || report.day !== day || report.shard?.index !== shard?.index || report.shard?.count !== shard?.count)) {
    throw new IntegrityError(`ingest report ${storage.uri(key)} describes another day or shard than its key`, { uri: storage.uri(key) });
  }
  return report;
}

const ClaimSchema = z.strictObject({ v: z.literal(1), version: hex64, built_at: z.string().min(1) });

/**
 * The `built_at` of a staged version: the one already claimed, or `proposed`
 * when this run claims first (exclusive create, so one run wins).
 */
async function claimBuiltAt(storage: ObjectStorage, key: string, version: string, proposed: string): Promise<string> {
  const claim = json({ v: 1, version, built_at: proposed });
  for (let attempt = 0; attempt < 3; attempt++) {
    if ((await storage.putIfAbsent(key, claim)) === 'written') return proposed;
    const existing = await readJson(storage, key, ClaimSchema, 'staging claim').catch(() => undefined);
    if (existing && existing.version === version) return existing.built_at;
    // A damaged claim (not written by this code: claims are created whole): replace it.
    if (existing === undefined && (await storage.get(key)) !== undefined) await storage.put(key, claim);
  }
  throw new IntegrityError(`staging claim ${storage.uri(key)} keeps changing; is another process rewriting the staging area?`, { uri: storage.uri(key) });
}

/** Streams a blob into `key`; with `exclusive`, keeps an existing object. Returns the bytes' hash and size. */
async function writeStaged(env: PipelineEnv, storage: ObjectStorage, key: string, artifact: BuiltArtifact, exclusive: boolean): Promise<{ sha256: string; size: number; written: boolean }> {
  // Known when the blob is the kept hashed bytes plus its build (finishArtifact hashed them once for both);
  // a storage that checks the stored file checks it against that hash rather than hashing the bytes again.
  const writer = await storage.writer(key, { sha256: artifact.sha256 });
  const hash = artifact.sha256 === undefined ? env.sha256() : undefined;
  try {
    for await (const chunk of artifact.blob()) {
      hash?.update(chunk);
      await writer.write(chunk);
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const { size, written } = await writer.commit({ exclusive });
  return { sha256: hash ? hash.digest() : artifact.sha256!, size, written };
}

/**
 * Stages computed artifacts for publishing: per artifact the `built_at`
 * claim, the blob (streamed, hashed as written), its metadata, then the
 * `current.version` marker. Re-staging a version that is already staged
 * intact keeps it (like a published blob: the first built_at stays, so
 * reruns change no file); a concurrent run of the same window adopts the
 * first run's `built_at` and so writes the same bytes (see the top of this file).
 * @since 0.1.0
 */
export async function stageArtifacts(
  env: PipelineEnv,
  target: ArtifactTarget,
  built: readonly BuiltArtifact[],
  inputs: readonly InputPartition[],
  options: { shards?: number } = {},
): Promise<StagedArtifact[]> {
  const storage = env.areas.artifacts;
  const window = windowFolderOf(target.window);
  // Each artifact's files are its own (its folder, claim, blob, metadata, marker last), so the types are staged at
  // the same time: on a filesystem each write is a chain of fsyncs that leaves the cores idle, and the chains of
  // two types overlap. Every one is settled before this returns; the first failure in type order is the error.
  const settled = await Promise.allSettled(built.map((computed) => stageOne(env, storage, target, window, computed, inputs, options)));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<StagedArtifact>).value);
}

/** {@link stageArtifacts} of one artifact. */
async function stageOne(env: PipelineEnv, storage: ObjectStorage, target: ArtifactTarget, window: string, computed: BuiltArtifact, inputs: readonly InputPartition[], options: { shards?: number }): Promise<StagedArtifact> {
  const key = keys.staged(target.scope, target.segment, computed.type, window, computed.version);
  const metaKey = keys.stagedMeta(target.scope, target.segment, computed.type, window, computed.version);
  const claimKey = keys.stagedClaim(target.scope, target.segment, computed.type, window, computed.version);
  const marker = keys.stagedMarker(target.scope, target.segment, computed.type, window);
  // Same version already staged intact (a rerun): keep it, like a published blob, so reruns change no file.
  const previous = await readJson(storage, metaKey, StagedMetaSchema, 'staged metadata').catch(() => undefined);
  const intact = previous !== undefined && previous.sha256 === (await hashStoredObject(env.sha256, storage, key))?.sha256;
  // Staged before claims existed: its built_at is the first one and becomes the claim.
  const builtAt = await claimBuiltAt(storage, claimKey, computed.version, intact ? previous.built_at : computed.builtAt);
  if (intact && previous.built_at === builtAt) {
    await storage.put(marker, computed.version + '\n');
    return { type: computed.type, version: computed.version, key, uri: storage.uri(key), rows: previous.rows, sizeBytes: previous.size_bytes, sha256: previous.sha256, builtAt: previous.built_at };
  }
  let artifact = computed;
  if (builtAt !== computed.builtAt) {
    if (!computed.withBuiltAt) throw new IntegrityError(`staged ${computed.type} ${computed.version} was claimed with built_at ${builtAt} by another run and this artifact cannot be re-stamped`, { uri: storage.uri(claimKey) });
    artifact = computed.withBuiltAt(builtAt);
  }
  // Exclusive: a blob a concurrent run staged is kept (it has our bytes, same claim); one that is
  // not ours (left by a run before claims, or damaged) is replaced.
  let wrote = await writeStaged(env, storage, key, artifact, true);
  if (!wrote.written && (await hashStoredObject(env.sha256, storage, key))?.sha256 !== wrote.sha256) {
    wrote = await writeStaged(env, storage, key, artifact, false);
  }
  const meta: StagedMeta = {
    v: 1,
    artifact_type: artifact.type,
    tenant: target.scope.tenant,
    surface: target.scope.surface,
    segment: target.segment,
    window: { start: target.window.start, end: target.window.end },
    version: artifact.version,
    built_at: artifact.builtAt,
    rows: artifact.rows,
    sha256: wrote.sha256,
    size_bytes: wrote.size,
    inputs: [...inputs],
    ...(options.shards !== undefined ? { shards: options.shards } : {}),
  };
  await storage.put(metaKey, json(meta));
  await storage.put(marker, artifact.version + '\n');
  return { type: artifact.type, version: artifact.version, key, uri: storage.uri(key), rows: artifact.rows, sizeBytes: wrote.size, sha256: meta.sha256, builtAt: artifact.builtAt };
}

/** The version staged for a type and window, or `undefined` when nothing is staged. @since 0.1.0 */
export async function stagedVersion(env: PipelineEnv, target: ArtifactTarget, type: ArtifactType): Promise<string | undefined> {
  const storage = env.areas.artifacts;
  const key = keys.stagedMarker(target.scope, target.segment, type, windowFolderOf(target.window));
  const data = await storage.get(key);
  if (!data) return undefined;
  const version = decoder.decode(data).trim();
  if (!hex64.safeParse(version).success) throw new IntegrityError(`staging marker ${storage.uri(key)} does not hold a version`, { uri: storage.uri(key) });
  return version;
}

/** A staged artifact loaded for publishing. @since 0.1.0 */
export interface LoadedStagedArtifact {
  readonly built: BuiltArtifact;
  readonly meta: StagedMeta;
}


/**
 * A staged artifact as something to publish: its blob streams from the
 * staging area (never held whole in memory), and publishing checks the
 * bytes it copies against the staged SHA-256.
 * @since 0.1.0
 */
export function stagedBuilt(env: PipelineEnv, staged: StagedArtifact): BuiltArtifact {
  const storage = env.areas.artifacts;
  return {
    type: staged.type,
    version: staged.version,
    builtAt: staged.builtAt,
    rows: staged.rows,
    sha256: staged.sha256,
    bytes: staged.sizeBytes,
    stored: { storage, key: staged.key },
    async *blob() {
      const stream = await storage.read(staged.key);
      if (!stream) throw new IntegrityError(`staged blob ${staged.uri} disappeared before publishing`, { uri: staged.uri });
      yield* stream;
    },
  };
}

/**
 * Loads the staged artifact of a type and window (the version its marker
 * names), checking that the blob's bytes are those recorded when it was
 * staged. `undefined` when nothing is staged.
 * @since 0.1.0
 */
export async function loadStaged(env: PipelineEnv, target: ArtifactTarget, type: ArtifactType): Promise<LoadedStagedArtifact | undefined> {
  const version = await stagedVersion(env, target, type);
  if (version === undefined) return undefined;
  const storage = env.areas.artifacts;
  const window = windowFolderOf(target.window);
  const metaKey = keys.stagedMeta(target.scope, target.segment, type, window, version);
  const meta = await readJson(storage, metaKey, StagedMetaSchema, 'staged metadata');
  const blobKey = keys.staged(target.scope, target.segment, type, window, version);
  if (!meta) throw new IntegrityError(`staged ${type} ${version} has no metadata ${storage.uri(metaKey)}; re-run compute`, { uri: storage.uri(metaKey) });
  const expected = { artifact_type: type, tenant: target.scope.tenant, surface: target.scope.surface, segment: target.segment, start: target.window.start, end: target.window.end, version };
  const actual = { artifact_type: meta.artifact_type, tenant: meta.tenant, surface: meta.surface, segment: meta.segment, start: meta.window.start, end: meta.window.end, version: meta.version };
  const wrong = (Object.keys(expected) as (keyof typeof expected)[]).filter((k) => expected[k] !== actual[k]);
  if (wrong.length > 0) throw new IntegrityError(`staged metadata ${storage.uri(metaKey)} does not match its location (${wrong.join(', ')})`, { uri: storage.uri(metaKey) });
  const stored = await hashStoredObject(env.sha256, storage, blobKey);
  if (!stored) throw new IntegrityError(`staged blob ${storage.uri(blobKey)} is missing; re-run compute`, { uri: storage.uri(blobKey) });
  if (stored.sha256 !== meta.sha256 || stored.size !== meta.size_bytes) {
    throw new IntegrityError(`staged blob ${storage.uri(blobKey)} changed since it was staged (sha256 ${stored.sha256}, staged ${meta.sha256}); re-run compute`, { uri: storage.uri(blobKey) });
  }
  const built = stagedBuilt(env, { type, version, key: blobKey, uri: storage.uri(blobKey), rows: meta.rows, sizeBytes: meta.size_bytes, sha256: meta.sha256, builtAt: meta.built_at });
  return { built, meta };
}
