import { parseManifestKey, parseVersionRecord, ContractValidationError, type HistoryEntryV1, type ManifestV1, type VersionRecordV1 } from '@recsys/contracts';
import { RecsysError } from '../errors.js';
import { checkScope, historySeqOfKey, keys, type Scope } from '../keys.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import { Registry } from '../registry/registry.js';
import { checkBlob, versionOfUri, type BlobCheck, type BlobProblem } from './blob-check.js';
import { readTombstone } from './gc-fence.js';
import { sameMap } from './status.js';

const decoder = new TextDecoder();

/** What kind of problem `verify` found. @since 0.1.0 */
export type VerifyProblemKind =
  | BlobProblem
  | 'missing_manifest'
  | 'unreadable_manifest'
  | 'unreadable_record'
  | 'unreadable_history'
  | 'missing_record'
  | 'record_mismatch'
  | 'history_gap'
  | 'history_chain'
  | 'history_mismatch'
  | 'manifest_lags_history';

/** One problem. @since 0.1.0 */
export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly tenant: string;
  readonly surface: string;
  /** Where the bad reference is: `manifest current.cooc`, `record popularity/0ef6…`, `history 7 next.cooc`. */
  readonly where: string;
  readonly uri?: string;
  readonly message: string;
}

/** What was checked in one tenant/surface. @since 0.1.0 */
export interface ScopeVerification {
  readonly tenant: string;
  readonly surface: string;
  readonly manifest: boolean;
  readonly records: number;
  readonly history_entries: number;
  /** Distinct blobs checked. */
  readonly blobs: number;
  /** History references to blobs that gc collected (by design; not problems). */
  readonly collected: number;
}

/** Result of {@link verifyRegistry}. @since 0.1.0 */
export interface VerifyReport {
  readonly ok: boolean;
  readonly scopes: ScopeVerification[];
  readonly problems: VerifyProblem[];
}

/** What {@link verifyRegistry} reads. @since 0.1.0 */
export interface VerifyEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage };
  /** SHA-256 for the streamed blob checks; core's portable implementation when absent. */
  readonly sha256?: Sha256Factory | undefined;
}

/** Every tenant/surface with a manifest, a history entry or a version record. */
async function discoverScopes(registry: ObjectStorage): Promise<Scope[]> {
  const found = new Map<string, Scope>();
  for (const prefix of ['current/', 'history/', 'records/']) {
    for await (const obj of registry.list(prefix)) {
      const m = /^[^/]+\/([^/]+)\/([^/]+)\//.exec(obj.key);
      if (m) found.set(`${m[1]}/${m[2]}`, { tenant: m[1]!, surface: m[2]! });
    }
  }
  return [...found.values()].sort((a, b) => (a.tenant === b.tenant ? (a.surface < b.surface ? -1 : 1) : a.tenant < b.tenant ? -1 : 1));
}

function describe(error: unknown): string {
  return ContractValidationError.isInstance(error) || RecsysError.isInstance(error) ? error.message : `not JSON: ${(error as Error).message}`;
}

async function verifyScope(env: VerifyEnv, registry: Registry, scope: Scope, requested: boolean, problems: VerifyProblem[]): Promise<ScopeVerification> {
  const problem = (kind: VerifyProblemKind, where: string, message: string, uri?: string) =>
    problems.push({ kind, tenant: scope.tenant, surface: scope.surface, where, ...(uri !== undefined ? { uri } : {}), message });

  // Each blob is checked once (streamed: only its verdict is kept, never its bytes); a bad one is
  // reported once, with every place that references it.
  const checks = new Map<string, { check: BlobCheck; wheres: string[] }>();
  const blob = async (uri: string, type: string, segment: string, where: string): Promise<BlobCheck> => {
    const id = `${uri}\n${type}\n${segment}`;
    let entry = checks.get(id);
    if (!entry) {
      const check = await checkBlob(env.areas.objects, uri, { scope, type, segment, version: versionOfUri(uri) }, { sha256: env.sha256 });
      entry = { check, wheres: [] };
      checks.set(id, entry);
    }
    entry.wheres.push(where);
    return entry.check;
  };
  let collected = 0;

  // Manifest.
  let manifest: ManifestV1 | undefined;
  let manifestReadable = true;
  try {
    manifest = (await registry.readManifest(scope))?.manifest;
  } catch (error) {
    manifestReadable = false;
    problem('unreadable_manifest', 'manifest', describe(error), registry.manifestUri(scope));
  }
  if (manifest) {
    for (const [key, uri] of Object.entries(manifest.current)) {
      const parts = parseManifestKey(key)!;
      const check = await blob(uri, parts.type, parts.segment, `manifest current.${key}`);
      if (!check.ok) continue;
      const record = await registry.readRecord(scope, parts.type, check.version).catch(() => undefined);
      if (!record) problem('missing_record', `manifest current.${key}`, `no readable version record for ${parts.type} ${check.version} (publish writes it before moving the pointer)`, uri);
    }
  }

  // Version records.
  let records = 0;
  for await (const obj of registry.storage.list(keys.recordPrefix(scope))) {
    records++;
    const where = `record ${obj.key.slice(keys.recordPrefix(scope).length).replace(/\.json$/, '')}`;
    let record: VersionRecordV1;
    try {
      record = parseVersionRecord(JSON.parse(decoder.decode((await registry.storage.get(obj.key)) ?? new Uint8Array())));
    } catch (error) {
      problem('unreadable_record', where, `version record ${registry.storage.uri(obj.key)} is unreadable: ${describe(error)}`);
      continue;
    }
    if (record.tenant !== scope.tenant || record.surface !== scope.surface || obj.key !== keys.record(scope, record.artifact_type, record.version)) {
      problem('record_mismatch', where, `version record ${registry.storage.uri(obj.key)} describes ${record.tenant}/${record.surface} ${record.artifact_type} ${record.version}, not what its key says`);
      continue;
    }
    const check = await blob(record.uri, record.artifact_type, record.segment, where);
    if (check.ok && (check.sha256 !== record.sha256 || check.size !== record.size_bytes)) {
      problem('record_mismatch', where, `blob ${record.uri} has sha256 ${check.sha256} and ${check.size} bytes; its record says ${record.sha256} and ${record.size_bytes}`, record.uri);
    }
  }

  // History: contiguous, chained, every referenced blob sound (or collected by gc).
  const seqKeys: { seq: number; key: string }[] = [];
  for await (const obj of registry.storage.list(keys.historyPrefix(scope))) {
    const seq = historySeqOfKey(obj.key);
    if (seq !== undefined) seqKeys.push({ seq, key: obj.key });
  }
  seqKeys.sort((a, b) => a.seq - b.seq);
  let expected = 1;
  let prev: HistoryEntryV1 | undefined;
  let head: HistoryEntryV1 | undefined;
  for (const { seq } of seqKeys) {
    if (seq !== expected) problem('history_gap', `history ${expected}`, `history entries ${expected}..${seq - 1} are missing (the log must be contiguous)`);
    expected = seq + 1;
    let entry: HistoryEntryV1 | undefined;
    try {
      entry = await registry.readHistory(scope, seq);
    } catch (error) {
      problem('unreadable_history', `history ${seq}`, describe(error));
      prev = undefined;
      continue;
    }
    if (!entry) continue;
    head = entry;
    if (entry.seq !== seq || entry.tenant !== scope.tenant || entry.surface !== scope.surface) {
      problem('history_mismatch', `history ${seq}`, `history entry stored as ${scope.tenant}/${scope.surface} seq ${seq} says ${entry.tenant}/${entry.surface} seq ${entry.seq}`);
    }
    if (prev && prev.seq === seq - 1 && !sameMap(prev.next, entry.previous)) {
      problem('history_chain', `history ${seq}`, `history entry ${seq}'s previous does not equal entry ${seq - 1}'s next: the chain is broken`);
    }
    prev = entry;
    for (const side of ['previous', 'next'] as const) {
      for (const [key, uri] of Object.entries(entry[side])) {
        const parts = parseManifestKey(key)!;
        await blob(uri, parts.type, parts.segment, `history ${seq} ${side}.${key}`);
      }
    }
  }

  // A blob gc collected is fine where only old history references it; anywhere else it is a problem.
  for (const entry of checks.values()) {
    const { check } = entry;
    if (check.ok) continue;
    if (check.problem === 'missing_blob' && entry.wheres.every((w) => w.startsWith('history '))) {
      const parts = check.key?.split('/');
      const tomb = parts && parts.length === 4 ? await readTombstone(registry.storage, scope, parts[2]!, versionOfUri(check.uri)) : undefined;
      if (tomb) {
        collected++;
        continue;
      }
    }
    const more = entry.wheres.length > 3 ? ` and ${entry.wheres.length - 3} more` : '';
    problem(check.problem, entry.wheres.slice(0, 3).join(', ') + more, check.message, check.uri);
  }

  // The manifest is the materialisation of the newest entry.
  if (head && manifestReadable) {
    if (!manifest) {
      problem('manifest_lags_history', 'manifest', `no manifest, but history has ${head.seq} entr${head.seq === 1 ? 'y' : 'ies'}: a publish crashed between claiming entry ${head.seq} and writing the manifest; the next publish or rollback rolls it forward`);
    } else if (!sameMap(manifest.current, head.next)) {
      let at: number | undefined;
      for (let seq = head.seq - 1; seq >= Math.max(1, head.seq - 50) && at === undefined; seq--) {
        const e = await registry.readHistory(scope, seq).catch(() => undefined);
        if (e && sameMap(e.next, manifest.current)) at = seq;
      }
      problem(
        'manifest_lags_history',
        'manifest',
        `manifest lags history: it shows ${at !== undefined ? `entry ${at}` : 'no recent entry'}, the newest entry is ${head.seq} (a publish crashed between claiming the entry and writing the manifest); the next publish or rollback rolls it forward`,
      );
    }
  } else if (!head && !manifest && manifestReadable && requested) {
    problem('missing_manifest', 'manifest', `nothing is published for ${scope.tenant}/${scope.surface}`, registry.manifestUri(scope));
  }

  return { tenant: scope.tenant, surface: scope.surface, manifest: manifest !== undefined, records, history_entries: seqKeys.length, blobs: checks.size, collected };
}

/**
 * Checks the registry end to end (DESIGN §5.6): every manifest URI, version
 * record and history entry (`previous` and `next`) resolves to a blob that
 * parses with the artifact contract, belongs where it is referenced, and
 * hashes to its version; records match their blob's bytes; history is
 * contiguous and chained; and the manifest equals the newest entry's `next`
 * (reported as `manifest_lags_history` when not). Reports every problem.
 * @since 0.1.0
 */
export async function verifyRegistry(env: VerifyEnv, options: { scope?: Scope | undefined } = {}): Promise<VerifyReport> {
  const registry = new Registry(env.areas.registry);
  const scopes = options.scope ? [checkScope(options.scope)] : await discoverScopes(env.areas.registry);
  const problems: VerifyProblem[] = [];
  const out: ScopeVerification[] = [];
  for (const scope of scopes) out.push(await verifyScope(env, registry, scope, options.scope !== undefined, problems));
  return { ok: problems.length === 0, scopes: out, problems };
}
