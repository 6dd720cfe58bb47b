import { safeParseCanonicalExposure } from '@recsys/contracts';
import { IntegrityError, ValidationGateError } from '../errors.js';
import type { Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { canonicalLine, checkRawEvent, type CanonicalEvent } from '../ingest/raw-event.js';
import { FingerprintSet } from '../ingest/fingerprint-set.js';
import { shardOfSession, type ShardSpec } from '../shard.js';
import { NO_USER, instantOf, type EventTable } from '../compute/event-table.js';
import { CanonicalLineParser, LineBlocks, detached, forEachLine } from './canonical-lines.js';

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
 * - `fast`: lines are taken apart by position when they are certainly
 *   canonical (canonical-lines.ts), else the hand-written raw-event check
 *   plus "re-serialises to the very same line" (the `compute` step, and a
 *   sharded `validate`, whose partition was assembled from SHA-256-checked
 *   buckets of our own ingest); a bad line is an integrity error (exit 1)
 *   unless `failure` says otherwise.
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
  /** How a bad line fails: a validation gate (exit 3, the default of `contract`) or an integrity error (exit 1, the default of `fast`). */
  readonly failure?: 'gate' | 'integrity';
  /** Receives each event in partition order. */
  readonly onEvent?: ((event: CanonicalEvent) => void) | undefined;
  /** Receives each event in partition order, without building event objects (faster than `onEvent`). */
  readonly table?: EventTable | undefined;
}

/** Where a line came from, for messages. */
export type LineFailure = (line: number, gate: string, detail: string) => never;

/**
 * Checks canonical lines one by one (scope, day, shard, canonical form or
 * the contract) and hands each event on: the per-line work of
 * {@link readCanonicalPartition} and of a shard's assembly from buckets.
 * @since 0.4.0
 */
export class CanonicalLineChecker {
  /** Events accepted so far. */
  events = 0;
  private readonly parser: CanonicalLineParser;
  private readonly seen: FingerprintSet | undefined;
  /** Sessions already checked against the shard, when there is no table to remember them. */
  private readonly checked = new Set<string>();
  private lastSession = '';
  private lastSessionId = -1;
  private lastUser = '';
  private lastUserId = -1;

  constructor(private readonly options: ReadPartitionOptions & { readonly fail: LineFailure }) {
    this.parser = new CanonicalLineParser(options.scope, options.day);
    // Ingest removes exact duplicates; the contract check verifies it did.
    this.seen = options.check === 'contract' ? new FingerprintSet() : undefined;
  }

  /** Checks one line (without its newline) and hands its event on; blank lines are skipped. */
  line(text: string, lineNo: number): void {
    const { check, table, onEvent, scope } = this.options;
    if (check === 'fast' && this.parser.parse(text)) {
      if (table) this.addFields(table, lineNo);
      if (onEvent) {
        const event = this.parser.event(scope);
        if (!table) this.checkShard(event.session_id, lineNo);
        onEvent(event);
      } else if (!table) this.checkShard(this.parser.fields.session, lineNo);
      this.events++;
      return;
    }
    const trimmed = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (trimmed.trim() === '') return;
    const event = this.fullPath(trimmed, lineNo);
    if (table) {
      const s = this.sessionId(table, event.session_id, lineNo);
      const { secondsMs, nanos } = table.hasInstants ? instantOf(event.ts) : { secondsMs: 0, nanos: 0 };
      const u = event.user_id === undefined || !table.hasUsers ? NO_USER : table.users.intern(event.user_id);
      table.addRow(s, table.items.intern(event.item_id), u, secondsMs, nanos);
    } else this.checkShard(event.session_id, lineNo);
    onEvent?.(event);
    this.events++;
  }

  /** A bad line of the given kind (from the line splitter). */
  bad(lineNo: number, problem: 'too_long' | 'invalid_utf8'): never {
    return this.options.fail(lineNo, 'canonical_contract', problem === 'too_long' ? 'line is too long' : 'line is not valid UTF-8');
  }

  private fullPath(text: string, lineNo: number): CanonicalEvent {
    const { check, scope, day, fail } = this.options;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      fail(lineNo, 'canonical_contract', `not JSON: ${(error as Error).message}`);
    }
    let event: CanonicalEvent;
    if (check === 'contract') {
      const result = safeParseCanonicalExposure(parsed);
      if (!result.success) return fail(lineNo, 'canonical_contract', result.error.message);
      const { v: _v, user_id, request_id, rank, ...required } = result.data;
      event = { ...required, ...(user_id !== undefined ? { user_id } : {}), ...(request_id !== undefined ? { request_id } : {}), ...(rank !== undefined ? { rank } : {}) };
      if (!this.seen!.addText(text)) fail(lineNo, 'canonical_duplicate', 'exact duplicate of an earlier event');
    } else {
      const result = checkRawEvent(parsed);
      if (!result.ok) return fail(lineNo, 'canonical_contract', `${result.reason}: ${result.detail}`);
      if (canonicalLine(result.event) !== text) fail(lineNo, 'canonical_contract', 'not in canonical form');
      event = result.event;
    }
    if (event.tenant !== scope.tenant || event.surface !== scope.surface) {
      fail(lineNo, 'canonical_scope', `event of ${event.tenant}/${event.surface} in the partition of ${scope.tenant}/${scope.surface}`);
    }
    if (!event.ts.startsWith(day)) fail(lineNo, 'canonical_window', `ts ${event.ts} is outside the window of ${day}`);
    return event;
  }

  /** The fast path into the table: ids interned once each, as copies that do not pin the decoded block. */
  private addFields(table: EventTable, lineNo: number): void {
    const f = this.parser.fields;
    const s = this.sessionId(table, f.session, lineNo);
    const i = table.items.lookup(f.item) ?? table.items.intern(detached(f.item));
    let u = NO_USER;
    if (f.user !== undefined && table.hasUsers) {
      if (f.user === this.lastUser && this.lastUserId >= 0) u = this.lastUserId;
      else {
        u = table.users.lookup(f.user) ?? table.users.intern(detached(f.user));
        this.lastUser = f.user;
        this.lastUserId = u;
      }
    }
    const { secondsMs, nanos } = table.hasInstants ? instantOf(f.ts) : ZERO_INSTANT;
    table.addRow(s, i, u, secondsMs, nanos);
  }

  /** The session's table id; a session new to the table is checked against the shard once. */
  private sessionId(table: EventTable, session: string, lineNo: number): number {
    if (session === this.lastSession && this.lastSessionId >= 0) return this.lastSessionId;
    let s = table.sessions.lookup(session);
    if (s === undefined) {
      this.checkShardOnce(session, lineNo);
      s = table.sessions.intern(detached(session));
    }
    this.lastSession = session;
    this.lastSessionId = s;
    return s;
  }

  private checkShard(session: string, lineNo: number): void {
    if (!this.options.shard || this.checked.has(session)) return;
    this.checkShardOnce(session, lineNo);
    this.checked.add(detached(session));
  }

  private checkShardOnce(session: string, lineNo: number): void {
    const shard = this.options.shard;
    if (shard && shardOfSession(session, shard.count) !== shard.index) {
      this.options.fail(lineNo, 'canonical_shard', `session ${JSON.stringify(session)} belongs to shard ${shardOfSession(session, shard.count)} of ${shard.count}, not ${shard.index}`);
    }
  }
}

const ZERO_INSTANT = { secondsMs: 0, nanos: 0 } as const;

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
  const { day } = options;
  const asGate = (options.failure ?? (options.check === 'contract' ? 'gate' : 'integrity')) === 'gate';
  const fail: LineFailure = (line, gate, detail) => {
    const message = `canonical partition ${uri} line ${line}: ${detail}`;
    if (asGate) throw new ValidationGateError(gate, `day ${day}: ${message}`, { day, uri, line });
    throw new IntegrityError(`${message}; re-run ingest for ${day}`, { day, uri, line });
  };
  const checker = new CanonicalLineChecker({ ...options, fail });
  const hash = env.sha256();
  let bytes = 0;
  const blocks = new LineBlocks();
  const onLine = (text: string, lineNo: number) => checker.line(text, lineNo);
  const take = (block: ReturnType<LineBlocks['push']>) => {
    if (!block) return;
    if ('problem' in block) checker.bad(block.lineNo, block.problem);
    else blocks.lineNo += forEachLine(block.text, blocks.lineNo + 1, onLine);
  };
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    take(blocks.push(chunk));
  }
  take(blocks.end());
  return { key, uri, sha256: hash.digest(), bytes, events: checker.events };
}
