import { DEFAULT_SEGMENT, isArtifactType, manifestKey, parseManifestKey, type HistoryEntryV1, type VersionRecordV1 } from '@recsys/contracts';
import { IntegrityError, RecsysError, UsageError } from '../errors.js';
import { checkScope, keys, checkPathSegment, type Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';
import { Registry, type CurrentMap } from '../registry/registry.js';
import { checkBlob, versionOfUri } from './blob-check.js';
import type { OpsEnv } from './env.js';
import { fenceTargets, readTombstone, type FenceTarget } from './gc-fence.js';

/** Options of {@link rollback} (the `rollback` command). @since 0.1.0 */
export interface RollbackOptions {
  readonly tenant: string;
  readonly surface: string;
  /** Segment of `type` (default `default`); with `all`, restricts to that segment's keys. */
  readonly segment?: string | undefined;
  /** Roll back this artifact type … */
  readonly type?: string | undefined;
  /** … or every key of the manifest. */
  readonly all?: boolean | undefined;
  /** Target version (full SHA-256 or a unique prefix of ≥ 6 hex digits) … */
  readonly to?: string | undefined;
  /** … or this many pointer changes back, per key. */
  readonly steps?: number | undefined;
  /** Why: stored as the history entry's `message`. */
  readonly reason?: string | undefined;
  /** Resolve and verify, but write nothing. */
  readonly dryRun?: boolean | undefined;
}

/** One key moving back. @since 0.1.0 */
export interface RollbackMove {
  readonly key: string;
  readonly type: string;
  readonly segment: string;
  readonly from: { readonly uri: string; readonly version: string };
  readonly to: { readonly uri: string; readonly version: string };
  /** Where the target came from (`history seq 7`, `version record`). */
  readonly source: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly published_at?: string;
}

/** Result of {@link rollback}. @since 0.1.0 */
export interface RollbackResult {
  readonly tenant: string;
  readonly surface: string;
  readonly dry_run: boolean;
  readonly moves: RollbackMove[];
  /** Keys already at their target (nothing to do for them). */
  readonly unchanged: string[];
  /** The rollback's history entry (absent for a dry run or when nothing moved). */
  readonly entry?: HistoryEntryV1;
  readonly manifest_uri: string;
}

const VERSION_INPUT = /^[0-9a-f]{6,64}$/;

function checkOptions(options: RollbackOptions): { scope: Scope; segment: string | undefined } {
  const scope = checkScope({ tenant: options.tenant, surface: options.surface });
  const segment = options.segment === undefined ? undefined : checkPathSegment('segment', options.segment);
  if ((options.type === undefined) === (options.all !== true)) throw new UsageError('rollback needs exactly one of --type <type> or --all');
  if ((options.to === undefined) === (options.steps === undefined)) throw new UsageError('rollback needs exactly one of --to <version> or --steps <n>');
  if (options.all && options.to !== undefined) throw new UsageError('--to names one version of one type: use it with --type, or use --all with --steps');
  if (options.type !== undefined && !isArtifactType(options.type)) throw new UsageError(`unknown artifact type ${JSON.stringify(options.type)}`, { type: options.type });
  if (options.steps !== undefined && (!Number.isSafeInteger(options.steps) || options.steps < 1)) throw new UsageError(`--steps must be a positive integer, got ${options.steps}`);
  if (options.to !== undefined && !VERSION_INPUT.test(options.to.toLowerCase())) {
    throw new UsageError(`--to ${JSON.stringify(options.to)} is not a version: give the 64-hex-digit version or a unique prefix of at least 6 digits`, { to: options.to });
  }
  return { scope, segment };
}

/** Versions stored as `<prefix><version>.json` directly under `prefix`. */
async function listVersions(storage: ObjectStorage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const obj of storage.list(prefix)) {
    const rest = obj.key.slice(prefix.length);
    if (!rest.includes('/') && rest.endsWith('.json')) out.push(rest.slice(0, -'.json'.length));
  }
  return out;
}

/** Reads history newest first, lazily. */
async function* newestFirst(registry: Registry, scope: Scope): AsyncGenerator<HistoryEntryV1> {
  const seqs = await registry.historySeqs(scope);
  for (let i = seqs.length - 1; i >= 0; i--) {
    const entry = await registry.readHistory(scope, seqs[i]!);
    if (entry) yield entry;
  }
}

interface Target {
  readonly key: string;
  readonly uri: string;
  readonly source: string;
  readonly record?: VersionRecordV1;
}

/** `--steps n`: for each key, the value it had n pointer changes ago. */
async function targetsBySteps(registry: Registry, scope: Scope, keysToMove: readonly string[], steps: number): Promise<Target[]> {
  const seen = new Map<string, number>(keysToMove.map((k) => [k, 0]));
  const found = new Map<string, Target>();
  const problems: string[] = [];
  for await (const entry of newestFirst(registry, scope)) {
    for (const key of keysToMove) {
      if (found.has(key) || problems.some((p) => p.startsWith(`${key}:`))) continue;
      if (entry.previous[key] === entry.next[key]) continue;
      const n = seen.get(key)! + 1;
      seen.set(key, n);
      if (n < steps) continue;
      const uri = entry.previous[key];
      if (uri === undefined) problems.push(`${key}: it was first published in history seq ${entry.seq}; there is no earlier version`);
      else found.set(key, { key, uri, source: `history seq ${entry.seq} (previous)` });
    }
    if (found.size + problems.length === keysToMove.length) break;
  }
  for (const key of keysToMove) {
    if (!found.has(key) && !problems.some((p) => p.startsWith(`${key}:`))) {
      const n = seen.get(key)!;
      problems.push(`${key}: history has only ${n} pointer change${n === 1 ? '' : 's'} of it, fewer than --steps ${steps}`);
    }
  }
  if (problems.length > 0) throw new UsageError(`cannot roll back ${steps} step${steps === 1 ? '' : 's'}: ${problems.join('; ')}`, { ...scope, steps });
  return keysToMove.map((k) => found.get(k)!);
}

/** `--to v`: the version of this key, from its records or its history; refusals name what `v` really is. */
async function targetByVersion(env: OpsEnv, registry: Registry, scope: Scope, type: string, segment: string, input: string): Promise<Target> {
  const key = manifestKey(type, segment);
  const want = input.toLowerCase();
  const candidates = new Map<string, Target>();
  const otherSegments: string[] = [];
  for (const version of await listVersions(registry.storage, `${keys.recordPrefix(scope)}${type}/`)) {
    if (!version.startsWith(want)) continue;
    const record = await registry.readRecord(scope, type, version);
    if (!record) continue;
    if ((record.segment || DEFAULT_SEGMENT) !== segment) otherSegments.push(`${version} is a ${manifestKey(type, record.segment)} version`);
    else candidates.set(version, { key, uri: record.uri, source: 'version record', record });
  }
  for await (const entry of newestFirst(registry, scope)) {
    for (const uri of [entry.next[key], entry.previous[key]]) {
      if (uri === undefined) continue;
      const version = versionOfUri(uri);
      if (version.startsWith(want) && !candidates.has(version)) candidates.set(version, { key, uri, source: `history seq ${entry.seq}` });
    }
  }
  if (candidates.size === 1) return [...candidates.values()][0]!;
  const where = `${scope.tenant}/${scope.surface} ${key}`;
  if (candidates.size > 1) throw new UsageError(`version prefix ${input} is ambiguous for ${where}: ${[...candidates.keys()].join(', ')}`, { ...scope, key, to: input });
  if (otherSegments.length > 0) throw new UsageError(`version ${input} is not a version of ${where}: ${otherSegments.join('; ')}`, { ...scope, key, to: input, problem: 'other_segment' });
  // Not ours: say whose it is, or that gc collected it.
  const elsewhere: string[] = [];
  for await (const obj of registry.storage.list('records/')) {
    const m = /^records\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\.json$/.exec(obj.key);
    if (m && m[4]!.startsWith(want)) elsewhere.push(`${m[4]} is a ${m[3]} version of ${m[1]}/${m[2]}`);
  }
  if (elsewhere.length > 0) {
    throw new UsageError(`version ${input} does not belong to ${where}: ${elsewhere.slice(0, 5).join('; ')}`, { ...scope, key, to: input, problem: 'other_scope_or_type' });
  }
  for (const version of await listVersions(registry.storage, `gc/${scope.tenant}/${scope.surface}/collected/${type}/`)) {
    if (!version.startsWith(want)) continue;
    const tomb = await readTombstone(registry.storage, scope, type, version);
    throw new UsageError(`cannot roll back ${where} to ${version}: its blob is missing (deleted by gc at ${tomb?.deleted_at ?? 'an unknown time'}, run ${tomb?.run_id ?? '?'})`, {
      ...scope,
      key,
      to: input,
      problem: 'missing_blob',
    });
  }
  const known = (await listVersions(registry.storage, `${keys.recordPrefix(scope)}${type}/`)).slice(-5);
  env.logger.debug({ ...scope, key, known }, 'rollback target not found');
  throw new UsageError(`unknown version ${input} for ${where}: no version record or history entry has it`, { ...scope, key, to: input, problem: 'unknown_version' });
}

/**
 * The `ensure` of a rollback target, run once the fence holds (gc can no
 * longer take the blob): the checked blob must still be there, same size, and
 * its record is put back if gc took only that. The blob was streamed, not
 * held (it may be larger than memory), so a blob that a gc collected between
 * the check and the fence cannot be restored: the rollback stops with a
 * conflict before moving any pointer, and a rerun reports it as collected.
 */
function ensureStillStored(areas: OpsEnv['areas'], scope: Scope, check: { key: string; uri: string; size: number; version: string }, record: VersionRecordV1 | undefined): () => Promise<void> {
  return async () => {
    const info = await areas.objects.stat(check.key);
    if (!info) {
      throw new RecsysError('conflict', `blob ${check.uri} was deleted (by a concurrent gc) after it was checked; nothing was changed — run the rollback again`, { ...scope, uri: check.uri, version: check.version });
    }
    if (info.size !== check.size) throw new IntegrityError(`blob ${check.uri} changed size after it was checked (${check.size} → ${info.size} bytes)`, { ...scope, uri: check.uri });
    if (record) await areas.registry.putIfAbsent(keys.record(scope, record.artifact_type, record.version), JSON.stringify(record, null, 2));
  };
}

/**
 * Moves one artifact key (or all) of a tenant/surface back to an earlier
 * version (DESIGN §5.6). The target comes from history (`steps`) or from the
 * version records and history (`to`); its blob must exist, parse with the
 * contract, belong to this tenant/surface/type/segment and hash to its
 * version, or the rollback is refused with a `UsageError` naming why. The
 * pointer moves through the same log-first commit as a publish (so a manifest
 * that lags its history is rolled forward too), audited as reason `rollback`
 * with `reason` as the entry's message.
 * @since 0.1.0
 */
export async function rollback(env: OpsEnv, options: RollbackOptions): Promise<RollbackResult> {
  const { scope, segment } = checkOptions(options);
  const registry = new Registry(env.areas.registry, env.logger);
  const head = await registry.latestHistory(scope);
  const stored = head ? undefined : await registry.readManifest(scope);
  // The log is the truth; a manifest lagging it is rolled forward by the commit below.
  const current: CurrentMap = head?.next ?? stored?.manifest.current ?? {};
  const where = `${scope.tenant}/${scope.surface}`;

  let keysToMove: string[];
  if (options.type !== undefined) {
    const key = manifestKey(options.type, segment ?? DEFAULT_SEGMENT);
    if (current[key] === undefined) throw new UsageError(`${key} is not published for ${where}; nothing to roll back`, { ...scope, key });
    keysToMove = [key];
  } else {
    keysToMove = Object.keys(current)
      .filter((k) => segment === undefined || parseManifestKey(k)?.segment === segment)
      .sort();
    if (keysToMove.length === 0) throw new UsageError(`nothing is published for ${where}${segment ? ` segment ${segment}` : ''}; nothing to roll back`, { ...scope });
  }

  const targets =
    options.steps !== undefined
      ? await targetsBySteps(registry, scope, keysToMove, options.steps)
      : [await targetByVersion(env, registry, scope, options.type!, segment ?? DEFAULT_SEGMENT, options.to!)];

  const moves: RollbackMove[] = [];
  const unchanged: string[] = [];
  const fences: FenceTarget[] = [];
  for (const target of targets) {
    const from = current[target.key]!;
    if (target.uri === from) {
      unchanged.push(target.key);
      continue;
    }
    const parts = parseManifestKey(target.key);
    if (!parts) throw new UsageError(`manifest key ${target.key} is malformed`, { ...scope, key: target.key });
    const version = versionOfUri(target.uri);
    const check = await checkBlob(env.areas.objects, target.uri, { scope, type: parts.type, segment: parts.segment, version }, { sha256: env.sha256 });
    if (!check.ok) {
      let detail = check.message;
      if (check.problem === 'missing_blob') {
        const tomb = await readTombstone(registry.storage, scope, parts.type, version);
        if (tomb) detail += ` (deleted by gc at ${tomb.deleted_at}, run ${tomb.run_id})`;
      }
      const label = check.problem === 'header_mismatch' ? 'belongs to another tenant/surface/type/segment' : check.problem.replace('_', ' ');
      throw new UsageError(`refusing to roll back ${where} ${target.key} to ${version} (${label}): ${detail}`, { ...scope, key: target.key, version, problem: check.problem, uri: target.uri });
    }
    const record = target.record ?? (await registry.readRecord(scope, parts.type, version));
    // Without its record the target would be served but fail verify (and gc could not account for it).
    if (!record) {
      throw new UsageError(
        `refusing to roll back ${where} ${target.key} to ${version} (missing record): its version record ${registry.storage.uri(keys.record(scope, parts.type, version))} is gone; re-publish that version (run its window again) to restore the record, then roll back`,
        { ...scope, key: target.key, version, problem: 'missing_record', uri: target.uri },
      );
    }
    moves.push({
      key: target.key,
      type: parts.type,
      segment: parts.segment,
      from: { uri: from, version: versionOfUri(from) },
      to: { uri: target.uri, version },
      source: target.source,
      window: record?.window ?? check.header.window,
      ...(record ? { published_at: record.published_at } : {}),
    });
    fences.push({ uri: target.uri, ensure: ensureStillStored(env.areas, scope, check, record) });
  }

  const manifestUri = registry.manifestUri(scope);
  const base = { tenant: scope.tenant, surface: scope.surface, moves, unchanged, manifest_uri: manifestUri };
  if (options.dryRun) return { ...base, dry_run: true };
  if (moves.length === 0) return { ...base, dry_run: false };

  const release = await fenceTargets(env, scope, fences);
  try {
    const update = Object.fromEntries(moves.map((m) => [m.key, m.to.uri]));
    const commit = await registry.commit(
      scope,
      (now) => {
        // Another pointer change won the race since we resolved the target: refuse rather than undo it blindly.
        const moved = moves.filter((m) => now[m.key] !== m.from.uri);
        if (moved.length > 0) {
          throw new RecsysError('conflict', `the pointer of ${moved.map((m) => m.key).join(', ')} moved while rolling back (now ${moved.map((m) => versionOfUri(now[m.key] ?? '(removed)')).join(', ')}); check \`history\` and run the rollback again`, { ...scope });
        }
        return update;
      },
      { reason: 'rollback', ...(options.reason !== undefined ? { message: options.reason } : {}), identity: env.identity, at: env.clock.now().toISOString() },
    );
    env.logger.info({ ...scope, seq: commit.entry.seq, moves: moves.map((m) => ({ key: m.key, from: m.from.version, to: m.to.version })) }, 'rolled back');
    return { ...base, dry_run: false, entry: commit.entry, manifest_uri: commit.manifestUri };
  } finally {
    await release();
  }
}
