import { parseVersionRecord, type VersionRecordV1 } from '@recsys/contracts';
import { RecsysError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { ObjectStorage, RunIdentity, Clock, Logger } from '../ports.js';
import { sleep } from './env.js';

/*
 * Coordination between gc and publishers (docs/explanation/publish-protocol.md,
 * "Garbage collection"). Both sides write before they read:
 *
 *   publisher: write pin (the URIs it will point at) → read the gc marker
 *              (wait while it lists one of them) → write blobs and records →
 *              claim the history entry → materialise → drop the pin
 *   gc:        write marker (its candidates) → read pins → read manifest and
 *              history → delete only candidates nobody references → drop marker
 *
 * With a strongly consistent store, at least one side sees the other's
 * write: either gc sees the pin and keeps the blob, or the publisher sees the
 * marker and waits until gc is done (or finds it already done) before it
 * writes — so whatever it writes or finds stays until its pointer holds it.
 * gc reads the pins before the pointer because a publisher drops its pin
 * right after its commit: a pin gc no longer finds belongs to a commit that
 * is already in the history gc reads next. (Read the other way round, the
 * commit and the un-pin can both fall between gc's two reads.)
 */

/**
 * A pin older than this no longer protects anything (its publisher is gone).
 * A publish must finish within it; it is long because an expired pin of a live
 * publisher is the one way to lose a blob, and a stale one only delays gc.
 * @since 0.1.0
 */
export const PIN_TTL_MS = 24 * 60 * 60_000;

/** A gc marker older than this is abandoned (a live gc refreshes it every third of it). @since 0.1.0 */
export const MARKER_TTL_MS = 10 * 60_000;

const decoder = new TextDecoder();

/** A publisher's declaration that it is about to point at these blobs. @since 0.1.0 */
export interface PinV1 {
  readonly v: 1;
  readonly run_id: string;
  readonly host: string;
  readonly pid?: number;
  readonly at: string;
  readonly uris: readonly string[];
}

/** gc's declaration that it may delete these blobs. @since 0.1.0 */
export interface GcMarkerV1 {
  readonly v: 1;
  readonly run_id: string;
  readonly host: string;
  readonly pid?: number;
  readonly at: string;
  readonly token: string;
  readonly candidates: readonly string[];
}

/** Audit trail of a collected version: why a history entry's blob is gone. @since 0.1.0 */
export interface TombstoneV1 {
  readonly v: 1;
  readonly tenant: string;
  readonly surface: string;
  readonly artifact_type: string;
  readonly version: string;
  readonly uri?: string;
  readonly deleted_at: string;
  readonly run_id: string;
  readonly actor: { readonly host: string; readonly user: string };
  /** The deleted version record, kept for the audit trail. */
  readonly record?: VersionRecordV1;
}

function parseJsonObject<T>(bytes: Uint8Array | undefined): T | undefined {
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(decoder.decode(bytes)) as unknown;
    return typeof value === 'object' && value !== null ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(clock: Clock, at: string | undefined): number {
  const t = at === undefined ? Number.NaN : Date.parse(at);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : clock.now().getTime() - t;
}

let pinCounter = 0;

/** A pin id unique within the store: the run id (made path-safe) plus a per-process counter. */
function pinId(identity: RunIdentity): string {
  pinCounter += 1;
  const base = identity.runId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'run';
  return `${base}-${identity.pid ?? 0}-${pinCounter}`;
}

/** One blob a commit is about to point at. @since 0.1.0 */
export interface FenceTarget {
  readonly uri: string;
  /**
   * Runs once the fence holds: re-creates the blob (and its record) if an
   * earlier gc took it (exclusive creates, so a no-op when they exist). Not
   * needed when the blob is written after the fence, as `publishArtifacts` does.
   */
  readonly ensure?: () => Promise<void>;
}

/**
 * An `ensure` for a blob whose stored bytes are in memory (rollback): puts
 * them back byte-identical, and the record with them.
 * @since 0.1.0
 */
export function ensureFromBytes(areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage }, blobKey: string, bytes: Uint8Array, record?: VersionRecordV1): () => Promise<void> {
  return async () => {
    await areas.objects.putIfAbsent(blobKey, bytes);
    if (record) {
      await areas.registry.putIfAbsent(keys.record({ tenant: record.tenant, surface: record.surface }, record.artifact_type, record.version), JSON.stringify(record, null, 2));
    }
  };
}

/** Options of {@link fenceTargets}. @since 0.1.0 */
export interface FenceOptions {
  readonly markerTtlMs?: number;
  /** Poll interval while a gc marker lists one of our blobs. */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Storage and identity a fence needs. @since 0.1.0 */
export interface FenceEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage };
  readonly clock: Clock;
  readonly identity: RunIdentity;
  /** Where a failed un-pin is reported (it never fails the caller). */
  readonly logger?: Logger;
}

/**
 * Makes sure gc cannot delete the blobs a commit is about to reference: pins
 * them, waits while a running gc has any of them among its candidates, then
 * runs each target's `ensure`. From then until the returned release function
 * is called, gc keeps them. Call it before writing the blobs (or, when they
 * exist already, before relying on them), and release after the commit.
 * The release never throws: the outcome of the commit (success, or the error
 * that stopped it) is what the caller reports; a pin that could not be
 * deleted is logged and only delays gc until it expires.
 * @since 0.1.0
 */
export async function fenceTargets(env: FenceEnv, scope: Scope, targets: readonly FenceTarget[], options: FenceOptions = {}): Promise<() => Promise<void>> {
  const { registry } = env.areas;
  const markerTtl = options.markerTtlMs ?? MARKER_TTL_MS;
  const wait = options.sleep ?? sleep;
  const pinKey = keys.pin(scope, pinId(env.identity));
  const uris = new Set(targets.map((t) => t.uri));
  const pin: PinV1 = {
    v: 1,
    run_id: env.identity.runId,
    host: env.identity.host,
    ...(env.identity.pid !== undefined ? { pid: env.identity.pid } : {}),
    at: env.clock.now().toISOString(),
    uris: [...uris].sort(),
  };
  await registry.put(pinKey, JSON.stringify(pin, null, 2));
  const release = async (): Promise<void> => {
    try {
      await registry.delete(pinKey);
    } catch (error) {
      env.logger?.warn({ ...scope, pin: registry.uri(pinKey), err: (error as Error).message }, `could not delete the gc pin; it expires after ${PIN_TTL_MS / 3_600_000} hours and only delays gc until then`);
    }
  };
  try {
    for (;;) {
      const marker = parseJsonObject<GcMarkerV1>(await registry.get(keys.gcMarker(scope)));
      if (!marker || ageMs(env.clock, marker.at) > markerTtl) break;
      if (!Array.isArray(marker.candidates) || !marker.candidates.some((c) => uris.has(c))) break;
      await wait(options.pollMs ?? 50);
    }
    for (const target of targets) await target.ensure?.();
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}

/** Live pins of a scope (younger than `ttlMs`) and the keys of expired ones. @since 0.1.0 */
export async function readPins(registry: ObjectStorage, clock: Clock, scope: Scope, ttlMs = PIN_TTL_MS): Promise<{ uris: Set<string>; expired: string[] }> {
  const uris = new Set<string>();
  const expired: string[] = [];
  for await (const obj of registry.list(keys.pinPrefix(scope))) {
    const pin = parseJsonObject<PinV1>(await registry.get(obj.key));
    // Pins are written atomically, so an unreadable one was not written by us: it protects nothing.
    if (pin && ageMs(clock, pin.at) > ttlMs) {
      expired.push(obj.key);
      continue;
    }
    for (const uri of pin?.uris ?? []) uris.add(uri);
  }
  return { uris, expired };
}

/** A held gc marker. @since 0.1.0 */
export interface HeldMarker {
  readonly marker: GcMarkerV1;
  /** Re-stamps the marker when a third of its TTL has passed; throws if another gc took it over. */
  keepAlive(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Takes the per-scope gc marker listing `candidates`. One gc per scope at a
 * time: a live marker of another run is a `conflict` error; an abandoned one
 * (older than the TTL) is replaced.
 * @since 0.1.0
 */
export async function acquireMarker(env: FenceEnv, scope: Scope, candidates: readonly string[], ttlMs = MARKER_TTL_MS): Promise<HeldMarker> {
  const registry = env.areas.registry;
  const key = keys.gcMarker(scope);
  const token = `${env.identity.runId}/${env.identity.pid ?? 0}/${env.clock.now().getTime()}/${Math.random().toString(36).slice(2)}`;
  const stamp = (): GcMarkerV1 => ({
    v: 1,
    run_id: env.identity.runId,
    host: env.identity.host,
    ...(env.identity.pid !== undefined ? { pid: env.identity.pid } : {}),
    at: env.clock.now().toISOString(),
    token,
    candidates,
  });
  let marker = stamp();
  let created = await registry.putIfAbsent(key, JSON.stringify(marker));
  if (created === 'conflict') {
    const existing = await registry.getVersioned(key);
    const other = parseJsonObject<GcMarkerV1>(existing?.data);
    if (existing && other && ageMs(env.clock, other.at) <= ttlMs) {
      throw new RecsysError('conflict', `another gc is running on ${scope.tenant}/${scope.surface} (run ${other.run_id} on ${other.host}, marker ${registry.uri(key)} since ${other.at}); try again later`, { ...scope, marker: registry.uri(key) });
    }
    created = await registry.putIfGeneration(key, JSON.stringify(marker), existing?.generation ?? null);
    if (created === 'conflict') throw new RecsysError('conflict', `another gc took the marker of ${scope.tenant}/${scope.surface} at the same time; try again`, { ...scope });
  }
  let stampedAt = env.clock.now().getTime();
  return {
    get marker() {
      return marker;
    },
    keepAlive: async () => {
      if (env.clock.now().getTime() - stampedAt < ttlMs / 3) return;
      const current = await registry.getVersioned(key);
      if (!current || parseJsonObject<GcMarkerV1>(current.data)?.token !== token) {
        throw new RecsysError('conflict', `gc lost its marker on ${scope.tenant}/${scope.surface} (it was taken over as abandoned); stopping`, { ...scope });
      }
      const next = stamp();
      if ((await registry.putIfGeneration(key, JSON.stringify(next), current.generation)) === 'conflict') {
        throw new RecsysError('conflict', `gc lost its marker on ${scope.tenant}/${scope.surface}; stopping`, { ...scope });
      }
      marker = next;
      stampedAt = env.clock.now().getTime();
    },
    release: async () => {
      const current = await registry.get(key);
      if (parseJsonObject<GcMarkerV1>(current)?.token === token) await registry.delete(key);
    },
  };
}

/** Writes the tombstone of a collected version. @since 0.1.0 */
export async function writeTombstone(registry: ObjectStorage, tombstone: TombstoneV1): Promise<void> {
  const scope = { tenant: tombstone.tenant, surface: tombstone.surface };
  await registry.put(keys.tombstone(scope, tombstone.artifact_type, tombstone.version), JSON.stringify(tombstone, null, 2));
}

/** The tombstone of a collected version, if gc deleted it. @since 0.1.0 */
export async function readTombstone(registry: ObjectStorage, scope: Scope, type: string, version: string): Promise<TombstoneV1 | undefined> {
  let key: string;
  try {
    key = keys.tombstone(scope, type, version);
  } catch {
    return undefined;
  }
  const t = parseJsonObject<TombstoneV1>(await registry.get(key));
  if (!t?.record) return t;
  try {
    return { ...t, record: parseVersionRecord(t.record) };
  } catch {
    // The record copy is informational; a damaged one is dropped rather than trusted.
    const { record: _dropped, ...rest } = t;
    return rest;
  }
}
