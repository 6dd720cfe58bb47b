import { safeParseCanonicalExposure } from '@recsys/contracts';
import { IntegrityError, ValidationGateError } from '../errors.js';
import type { Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { splitLines } from '../ingest/line-splitter.js';
import { canonicalLine, checkRawEvent, type CanonicalEvent } from '../ingest/raw-event.js';
import { FingerprintSet } from '../ingest/fingerprint-set.js';
import { shardOfSession, type ShardSpec } from '../shard.js';

/** What was read from a canonical partition. @since 0.1.0 */
export interface PartitionSummary {
  readonly key: string;
  readonly uri: string;
  /** SHA-256 of the partition's bytes (what version records cite). */
  readonly sha256: string;
  readonly bytes: number;
  readonly events: number;
}

/**
 * How strictly each line is checked:
 * - `contract`: parsed with the contracts' `CanonicalExposureSchema` and
 *   checked for exact duplicates (the `validate` step, DESIGN §5.3); a bad
 *   line fails a validation gate (exit 3).
 * - `fast`: the hand-written raw-event check plus "re-serialises to the very
 *   same line" (the `compute` step, on the hot path); a bad line is an
 *   integrity error (exit 1), since `validate` already passed on good data.
 * @since 0.1.0
 */
export type PartitionCheck = 'contract' | 'fast';

/** Options of {@link readCanonicalPartition}. @since 0.1.0 */
export interface ReadPartitionOptions {
  readonly scope: Scope;
  readonly day: string;
  /** Every event must belong to this shard (sharded partitions). */
  readonly shard?: ShardSpec | undefined;
  readonly check: PartitionCheck;
  /** Receives each event in partition order. */
  readonly onEvent?: (event: CanonicalEvent) => void;
}

/**
 * Streams a canonical partition back (never whole in memory): splits lines,
 * parses and checks each event — valid, of this tenant/surface, inside its
 * day, in its shard — and hashes the bytes on the way. `undefined` when the
 * partition does not exist.
 * @since 0.1.0
 */
export async function readCanonicalPartition(env: PipelineEnv, key: string, options: ReadPartitionOptions): Promise<PartitionSummary | undefined> {
  const storage = env.areas.canonical;
  const stream = await storage.read(key);
  if (!stream) return undefined;
  const uri = storage.uri(key);
  const { scope, day, shard, check, onEvent } = options;
  const hash = env.sha256();
  let bytes = 0;
  async function* hashed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream!) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  const fail = (line: number, gate: string, detail: string): never => {
    const message = `canonical partition ${uri} line ${line}: ${detail}`;
    if (check === 'contract') throw new ValidationGateError(gate, `day ${day}: ${message}`, { day, uri, line });
    throw new IntegrityError(`${message}; re-run ingest for ${day}`, { day, uri, line });
  };
  // Ingest removes exact duplicates; the contract check verifies it did.
  const seen = check === 'contract' ? new FingerprintSet() : undefined;
  // Sessions already checked against the shard (hashing every event's session id again is wasted work).
  const checked = new Set<string>();
  const inShard = (session: string): boolean => {
    if (checked.has(session)) return true;
    if (shardOfSession(session, shard!.count) !== shard!.index) return false;
    checked.add(session);
    return true;
  };
  let events = 0;
  for await (const line of splitLines(hashed())) {
    if (line.kind !== 'line') fail(line.lineNo, 'canonical_contract', line.kind === 'too_long' ? 'line is too long' : 'line is not valid UTF-8');
    const text = (line as { text: string }).text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      fail(line.lineNo, 'canonical_contract', `not JSON: ${(error as Error).message}`);
    }
    let event: CanonicalEvent;
    if (check === 'contract') {
      const result = safeParseCanonicalExposure(parsed);
      if (!result.success) return fail(line.lineNo, 'canonical_contract', result.error.message);
      const { v: _v, user_id, request_id, rank, ...required } = result.data;
      event = { ...required, ...(user_id !== undefined ? { user_id } : {}), ...(request_id !== undefined ? { request_id } : {}), ...(rank !== undefined ? { rank } : {}) };
      if (!seen!.addText(text)) fail(line.lineNo, 'canonical_duplicate', 'exact duplicate of an earlier event');
    } else {
      const result = checkRawEvent(parsed);
      if (!result.ok) return fail(line.lineNo, 'canonical_contract', `${result.reason}: ${result.detail}`);
      if (canonicalLine(result.event) !== text) fail(line.lineNo, 'canonical_contract', 'not in canonical form');
      event = result.event;
    }
    if (event.tenant !== scope.tenant || event.surface !== scope.surface) {
      fail(line.lineNo, 'canonical_scope', `event of ${event.tenant}/${event.surface} in the partition of ${scope.tenant}/${scope.surface}`);
    }
    if (!event.ts.startsWith(day)) fail(line.lineNo, 'canonical_window', `ts ${event.ts} is outside the window of ${day}`);
    if (shard && !inShard(event.session_id)) {
      fail(line.lineNo, 'canonical_shard', `session ${JSON.stringify(event.session_id)} belongs to shard ${shardOfSession(event.session_id, shard.count)} of ${shard.count}, not ${shard.index}`);
    }
    events++;
    onEvent?.(event);
  }
  return { key, uri, sha256: hash.digest(), bytes, events };
}
