import {
  ContractValidationError,
  parseCheckpoint,
  parseHistoryEntry,
  parseManifest,
  parseVersionRecord,
  type CheckpointV1,
  type HistoryEntryV1,
  type ManifestV1,
  type VersionRecordV1,
} from '@recsys/contracts';
import { IntegrityError, RecsysError } from '../errors.js';
import { historySeqOfKey, keys, type Scope } from '../keys.js';
import type { Logger, ObjectStorage, RunIdentity } from '../ports.js';

const decoder = new TextDecoder();

/** Pointer map of a manifest: manifest key → blob URI. @since 0.1.0 */
export type CurrentMap = Record<string, string>;

/** A change to apply to the pointer: new URIs, or `null` to remove a key. @since 0.1.0 */
export type PointerUpdate = Record<string, string | null>;

/** What a pointer change is recorded as. @since 0.1.0 */
export interface CommitMeta {
  readonly reason: HistoryEntryV1['reason'];
  /** Free text; a function is called after `change`, so it can describe what the change decided. */
  readonly message?: string | (() => string | undefined);
  readonly identity: RunIdentity;
  readonly at: string;
}

/** Result of a committed pointer change. @since 0.1.0 */
export interface CommitResult {
  readonly entry: HistoryEntryV1;
  readonly manifest: ManifestV1;
  readonly manifestUri: string;
  /** How many times the commit lost a race and retried. */
  readonly retries: number;
  /**
   * True when the change moved nothing and `skipUnchanged` was set: no history
   * entry was appended and `entry` is the newest existing one.
   */
  readonly noop?: boolean;
}

function parseJson<T>(bytes: Uint8Array, what: string, uri: string, parse: (v: unknown) => T): T {
  try {
    return parse(JSON.parse(decoder.decode(bytes)));
  } catch (error) {
    const detail = ContractValidationError.isInstance(error) ? error.message : (error as Error).message;
    throw new IntegrityError(`${what} at ${uri} is unreadable: ${detail}`, { uri }, { cause: error });
  }
}

function sameCurrent(a: CurrentMap, b: CurrentMap): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Applies an update; keys come out sorted so manifests are stable byte-for-byte. */
export function applyUpdate(base: CurrentMap, update: PointerUpdate): CurrentMap {
  const merged: CurrentMap = { ...base };
  for (const [key, uri] of Object.entries(update)) {
    if (uri === null) delete merged[key];
    else merged[key] = uri;
  }
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]!]));
}

/** Options of {@link Registry.commit}. @since 0.1.0 */
export interface CommitOptions {
  /** Give up after this many lost races (default 1000). */
  readonly maxRetries?: number;
  /** Called between a lost race and the retry (tests inject delays here). */
  readonly onRetry?: (attempt: number) => Promise<void> | void;
  /** Called once the history entry is claimed, before the manifest is written (crash tests kill there). */
  readonly onClaimed?: (entry: HistoryEntryV1) => Promise<void> | void;
  /**
   * Append no history entry when the change moves nothing (an identical
   * rerun), so history only lists pointer changes and `status`'s "last
   * change" stays the real one. Needs an existing history entry to return.
   */
  readonly skipUnchanged?: boolean;
}

/**
 * The artifact registry (DESIGN §3.5–3.6, §5.5) over one object storage:
 * immutable version records, the manifest, and its append-only history.
 *
 * Pointer changes are serialised by the history log: a change first claims
 * the next sequence number by exclusively creating `history/<seq>.json`
 * (whose `previous` is the latest entry's `next`), then materialises its
 * `next` into the manifest with compare-and-swap, stepping aside if a newer
 * entry exists. So no update is ever lost, the history always chains, and a
 * crash between the two steps leaves the manifest at the previous complete
 * state; the next commit rolls it forward. See docs/explanation/publish-protocol.md.
 * @since 0.1.0
 */
export class Registry {
  /** `logger` hears about recoveries (a manifest that had to be rebuilt from history). */
  constructor(
    readonly storage: ObjectStorage,
    private readonly logger?: Logger,
  ) {}

  /**
   * The manifest for a pointer change: like {@link readManifest}, but a
   * manifest that exists and cannot be read (corrupt, a URI of an unknown
   * scheme, a foreign format) is reported as `unreadable` instead of thrown
   * when history can stand in for it: the log is the source of truth, and
   * the change rewrites the manifest from it. Without any history entry
   * there is nothing to recover from, and the error stands.
   */
  private async manifestForWrite(scope: Scope, hasHistory: boolean): Promise<{ manifest?: ManifestV1; generation: string } | undefined> {
    const key = keys.manifest(scope);
    const got = await this.storage.getVersioned(key);
    if (!got) return undefined;
    try {
      return { manifest: parseJson(got.data, 'manifest', this.storage.uri(key), parseManifest), generation: got.generation };
    } catch (error) {
      if (!hasHistory) throw error;
      this.logger?.warn(
        { tenant: scope.tenant, surface: scope.surface, manifest: this.storage.uri(key), problem: (error as Error).message },
        'the manifest is unreadable; rebuilding it from the newest history entry',
      );
      return { generation: got.generation };
    }
  }

  /** URI of a scope's manifest. */
  manifestUri(scope: Scope): string {
    return this.storage.uri(keys.manifest(scope));
  }

  /** The manifest with its CAS generation, or `undefined` before the first publish. */
  async readManifest(scope: Scope): Promise<{ manifest: ManifestV1; generation: string } | undefined> {
    const key = keys.manifest(scope);
    const got = await this.storage.getVersioned(key);
    if (!got) return undefined;
    return { manifest: parseJson(got.data, 'manifest', this.storage.uri(key), parseManifest), generation: got.generation };
  }

  /** Sequence numbers of all history entries, ascending. */
  async historySeqs(scope: Scope): Promise<number[]> {
    const seqs: number[] = [];
    for await (const obj of this.storage.list(keys.historyPrefix(scope))) {
      const seq = historySeqOfKey(obj.key);
      if (seq !== undefined) seqs.push(seq);
    }
    return seqs.sort((a, b) => a - b);
  }

  async readHistory(scope: Scope, seq: number): Promise<HistoryEntryV1 | undefined> {
    const key = keys.history(scope, seq);
    const data = await this.storage.get(key);
    return data ? parseJson(data, 'history entry', this.storage.uri(key), parseHistoryEntry) : undefined;
  }

  /** The newest history entry, or `undefined` when there is none. */
  async latestHistory(scope: Scope): Promise<HistoryEntryV1 | undefined> {
    const seqs = await this.historySeqs(scope);
    const last = seqs.at(-1);
    return last === undefined ? undefined : this.readHistory(scope, last);
  }

  /** History entries newest first (at most `limit`). */
  async history(scope: Scope, limit = Infinity): Promise<HistoryEntryV1[]> {
    const seqs = (await this.historySeqs(scope)).reverse().slice(0, limit);
    const out: HistoryEntryV1[] = [];
    for (const seq of seqs) {
      const entry = await this.readHistory(scope, seq);
      if (entry) out.push(entry);
    }
    return out;
  }

  /**
   * Moves the pointer: `change` receives the current pointer map and returns
   * the keys to set (or remove). Retries on lost races; see the class docs.
   */
  async commit(scope: Scope, change: (current: CurrentMap) => PointerUpdate | Promise<PointerUpdate>, meta: CommitMeta, options: CommitOptions = {}): Promise<CommitResult> {
    const maxRetries = options.maxRetries ?? 1000;
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await options.onRetry?.(attempt);
      const head = await this.latestHistory(scope);
      const stored = await this.manifestForWrite(scope, head !== undefined);
      // The log is the source of truth; the manifest may lag it after a crash.
      const previous: CurrentMap = head ? head.next : (stored?.manifest?.current ?? {});
      const next = applyUpdate(previous, await change(previous));
      if (options.skipUnchanged && head && sameCurrent(previous, next)) {
        // Still finish a crashed predecessor's change, as any commit would.
        const rolled = await this.rollForward(scope, meta.at);
        const manifest = rolled.manifest ?? { v: 1 as const, tenant: scope.tenant, surface: scope.surface, current: head.next, updated_at: head.at };
        return { entry: head, manifest, manifestUri: this.manifestUri(scope), retries: attempt, noop: true };
      }
      const message = typeof meta.message === 'function' ? meta.message() : meta.message;
      const entry: HistoryEntryV1 = {
        v: 1,
        seq: (head?.seq ?? 0) + 1,
        at: meta.at,
        tenant: scope.tenant,
        surface: scope.surface,
        reason: meta.reason,
        ...(message !== undefined ? { message } : {}),
        previous,
        next,
        run_id: meta.identity.runId,
        actor: {
          host: meta.identity.host,
          user: meta.identity.user,
          ...(meta.identity.pid !== undefined ? { pid: meta.identity.pid } : {}),
          tool: `${meta.identity.tool.name} ${meta.identity.tool.version}`,
        },
      };
      const claimed = await this.storage.putIfAbsent(keys.history(scope, entry.seq), JSON.stringify(entry, null, 2));
      if (claimed === 'conflict') continue;
      await options.onClaimed?.(entry);
      const manifest = await this.materialize(scope, entry, meta.at);
      return { entry, manifest, manifestUri: this.manifestUri(scope), retries: attempt };
    }
    throw new RecsysError('conflict', `could not move the pointer of ${scope.tenant}/${scope.surface} after ${maxRetries} lost races`, { ...scope });
  }

  /**
   * Writes `entry.next` into the manifest unless a newer entry has claimed the
   * pointer (its own materialisation, or the next commit, carries our change).
   */
  private async materialize(scope: Scope, entry: HistoryEntryV1, at: string): Promise<ManifestV1> {
    const key = keys.manifest(scope);
    const wanted: ManifestV1 = { v: 1, tenant: scope.tenant, surface: scope.surface, current: entry.next, updated_at: at };
    for (;;) {
      const stored = await this.manifestForWrite(scope, true);
      if (stored?.manifest && sameCurrent(stored.manifest.current, entry.next)) return stored.manifest;
      const latest = (await this.historySeqs(scope)).at(-1) ?? 0;
      if (latest > entry.seq) return stored?.manifest ?? wanted;
      const result = await this.storage.putIfGeneration(key, JSON.stringify(wanted, null, 2), stored?.generation ?? null);
      if (result === 'written') return wanted;
    }
  }

  /** Brings the manifest up to the newest history entry (after a crash between claim and write). */
  async rollForward(scope: Scope, at: string): Promise<{ changed: boolean; manifest?: ManifestV1 }> {
    const head = await this.latestHistory(scope);
    if (!head) return { changed: false };
    const stored = await this.manifestForWrite(scope, true);
    if (stored?.manifest && sameCurrent(stored.manifest.current, head.next)) return { changed: false, manifest: stored.manifest };
    return { changed: true, manifest: await this.materialize(scope, head, at) };
  }

  /** Writes a version record unless one exists (records are immutable). Returns the stored record. */
  async putRecord(record: VersionRecordV1): Promise<VersionRecordV1> {
    const scope = { tenant: record.tenant, surface: record.surface };
    const key = keys.record(scope, record.artifact_type, record.version);
    const result = await this.storage.putIfAbsent(key, JSON.stringify(record, null, 2));
    if (result === 'written') return record;
    const existing = await this.readRecord(scope, record.artifact_type, record.version);
    if (!existing) throw new IntegrityError(`version record ${this.storage.uri(key)} vanished`, { key });
    return existing;
  }

  async readRecord(scope: Scope, type: string, version: string): Promise<VersionRecordV1 | undefined> {
    const key = keys.record(scope, type, version);
    const data = await this.storage.get(key);
    return data ? parseJson(data, 'version record', this.storage.uri(key), parseVersionRecord) : undefined;
  }

  /** Every record of a scope. */
  async *records(scope: Scope): AsyncGenerator<VersionRecordV1> {
    for await (const obj of this.storage.list(keys.recordPrefix(scope))) {
      const data = await this.storage.get(obj.key);
      if (data) yield parseJson(data, 'version record', this.storage.uri(obj.key), parseVersionRecord);
    }
  }

  /** Every (tenant, surface) with a manifest. */
  async scopes(): Promise<Scope[]> {
    const out: Scope[] = [];
    for await (const obj of this.storage.list(keys.manifestRoot())) {
      const m = /^current\/([^/]+)\/([^/]+)\/manifest\.json$/.exec(obj.key);
      if (m) out.push({ tenant: m[1]!, surface: m[2]! });
    }
    return out;
  }
}

/**
 * Checkpoints (DESIGN §5.1): the last day fully published per tenant/surface.
 * @since 0.1.0
 */
export class CheckpointStore {
  constructor(readonly storage: ObjectStorage) {}

  async read(scope: Scope): Promise<CheckpointV1 | undefined> {
    const key = keys.checkpoint(scope);
    const data = await this.storage.get(key);
    return data ? parseJson(data, 'checkpoint', this.storage.uri(key), parseCheckpoint) : undefined;
  }

  /**
   * Moves the checkpoint forward to `checkpoint.last_completed_day`, never
   * backwards: a compare-and-swap loop that keeps the stored checkpoint when
   * it is already at or past that day. So two incremental runs finishing out
   * of order (a slow run of day 3 after a run of day 5) leave day 5. Returns
   * the checkpoint now stored.
   */
  async advance(checkpoint: CheckpointV1): Promise<CheckpointV1> {
    const wanted = parseCheckpoint(checkpoint);
    const key = keys.checkpoint(checkpoint);
    const uri = this.storage.uri(key);
    for (;;) {
      const stored = await this.storage.getVersioned(key);
      const current = stored ? parseJson(stored.data, 'checkpoint', uri, parseCheckpoint) : undefined;
      // Days are YYYY-MM-DD, so string order is day order.
      if (current && current.last_completed_day >= wanted.last_completed_day) return current;
      if ((await this.storage.putIfGeneration(key, JSON.stringify(wanted, null, 2), stored?.generation ?? null)) === 'written') return wanted;
    }
  }
}
