import { safeParseArtifact, serializeForVersion } from '@recsys/contracts';
import { kindOf } from '../compute/kinds.js';
import type { Sha256, Sha256Factory } from '../ports.js';
import { ArtifactSyntaxError, contractError } from './artifact-errors.js';
import type { LexerHandler } from './artifact-lexer.js';
import { canonicalElementEnd, isCanonicalBatch } from './canonical-bytes.js';
import { fastCanonical } from './fast-canonical.js';

/*
 * What the streamed artifact check does with the bytes the lexer reads:
 * hashes them as stored, and checks the payload batch by batch with the very
 * same contract parser as a whole artifact (`safeParseArtifact` on the
 * header plus the batch, JSON paths renumbered to the element's real index)
 * while recomputing the content hash: `serializeForVersion` of the
 * header-plus-batch artifact, minus its constant prefix and suffix, is
 * exactly that batch's slice of the whole artifact's canonical text.
 */

const decoder = new TextDecoder();
const BLANK_BUILD = { built_at: '', version: '' };
/** Stored bytes held unhashed before the payload starts, at most (then the two hashes are kept apart). */
const PENDING_BEFORE_PAYLOAD = 4 << 20;

/** The header without its build, as JSON: equal for two reads that saw the same header. */
export function headerKeyOf(header: Record<string, unknown>): string {
  const { build: _build, ...rest } = header;
  return JSON.stringify(rest);
}

/** The artifact the contract parses for a header and a batch of payload elements. */
export function miniArtifact(header: Record<string, unknown>, payloadKey: string, rows: unknown[], build: unknown): Record<string, unknown> {
  // Spread into a fresh object: the header came from JSON.parse, which may hold an own `__proto__` key.
  return { ...header, [payloadKey]: rows, build };
}

/** What {@link PayloadCheck} found once the read ended. */
export interface PayloadCheckResult {
  /** Longest `items` list of a payload element (cooc, implicit, session_seq; 0 otherwise). */
  readonly maxRow: number;
  /** Rows were validated and hashed against the header as it was when the payload started. */
  readonly rowsChecked: boolean;
  /** The header (minus build) when the payload started, as JSON. */
  readonly headerAtPayload: string | undefined;
  /** The content hash, when the rows were checked. */
  readonly canonical: string | undefined;
  /** SHA-256 of the stored bytes. */
  readonly sha256: string;
}

/**
 * The check of one read: when the header is valid at the payload's start
 * (`validateWith`, else the header read so far), the rows are
 * contract-checked and hashed; the longest row is measured either way.
 */
export class PayloadCheck implements LexerHandler {
  private readonly stored: Sha256;
  private canon: Sha256;
  /*
   * A compact blob is its canonical text up to the payload's end: the two
   * hashes then share those bytes, hashed once. While `sharing`, read bytes
   * wait in `pending` (from stream offset `hashedTo`) and are hashed into
   * `stored` only up to `canonPos`, the offset up to which the stored bytes
   * are known to be the canonical text; the canonical hash is a copy of
   * `stored` there, finished with the canonical suffix. The first batch that
   * is not its own stored bytes right after the previous one (or a hasher
   * without `copy`, or another header text) ends the sharing: the canonical
   * hash continues from a copy at `canonPos`, as if it had been fed all along.
   */
  private sharing: boolean;
  private readonly pending: Uint8Array[] = [];
  private hashedTo = 0;
  private readTo = 0;
  private canonPos = 0;
  private payloadKey: string | undefined;
  /** The longest `items` list seen (an object, for the element scanner to count into). */
  private readonly rowStats = { maxRow: 0 };
  private rowsChecked = false;
  private headerAtPayload: string | undefined;
  private validateHeader: Record<string, unknown> | undefined;
  private prefix = '';
  private suffix = '';
  private batchesHashed = 0;
  /** The lexer's scanner of canonical elements (see `LexerHandler.element`), when batches can be hashed as stored. */
  element: ((bytes: Uint8Array, at: number) => number) | undefined;

  constructor(
    sha256: Sha256Factory,
    private readonly validateWith: Record<string, unknown> | undefined,
    /** Hash canonical batches as stored, without parsing them (off only to test the parsing path against it). */
    private readonly bytePath = true,
  ) {
    this.stored = sha256();
    this.canon = sha256();
    this.sharing = bytePath && this.stored.copy !== undefined;
  }

  read(chunk: Uint8Array): void {
    this.readTo += chunk.length;
    if (this.sharing) {
      this.pending.push(chunk);
      // Before the payload, a header of our blobs is a few hundred bytes: don't hold megabytes of anything else.
      if (this.payloadKey === undefined && this.readTo - this.hashedTo > PENDING_BEFORE_PAYLOAD) this.stopSharing('none');
    } else {
      this.stored.update(chunk);
      this.hashedTo += chunk.length;
    }
  }

  /** Hashes the pending stored bytes up to stream offset `pos` into `stored`. */
  private hashStoredTo(pos: number): void {
    while (this.hashedTo < pos) {
      const chunk = this.pending[0]!;
      const take = Math.min(chunk.length, pos - this.hashedTo);
      if (take === chunk.length) {
        this.stored.update(chunk);
        this.pending.shift();
      } else {
        this.stored.update(chunk.subarray(0, take));
        this.pending[0] = chunk.subarray(take);
      }
      this.hashedTo += take;
    }
  }

  /** The pending stored bytes from `hashedTo` start with `bytes`. */
  private pendingStartsWith(bytes: Uint8Array): boolean {
    let k = 0;
    for (const chunk of this.pending) {
      for (let j = 0; j < chunk.length && k < bytes.length; j++, k++) if (chunk[j] !== bytes[k]) return false;
      if (k === bytes.length) return true;
    }
    return false;
  }

  /**
   * Ends the sharing: `canon` takes the state of the canonical text so far
   * (`canonPos` stored bytes, or `prefix`; `none` before the payload starts).
   */
  private stopSharing(canonFrom: 'stored' | 'prefix' | 'none'): void {
    if (!this.sharing) return;
    this.sharing = false;
    if (canonFrom === 'stored') {
      this.hashStoredTo(this.canonPos);
      this.canon = this.stored.copy!();
    } else if (canonFrom === 'prefix') this.canon.update(this.prefix);
    this.hashStoredTo(this.readTo);
  }

  start(payloadKey: string, header: Record<string, unknown>): void {
    this.payloadKey = payloadKey;
    this.headerAtPayload = headerKeyOf(header);
    this.validateHeader = this.validateWith ?? header;
    const probe = safeParseArtifact(miniArtifact(this.validateHeader, payloadKey, [], BLANK_BUILD));
    this.rowsChecked = probe.success && kindOf(probe.data.artifact_type)?.payloadKey === payloadKey;
    if (!probe.success || !this.rowsChecked) {
      this.stopSharing('prefix');
      return;
    }
    const type = probe.data.artifact_type;
    if (this.bytePath && (type === 'cooc' || type === 'popularity')) {
      const cooc = type === 'cooc';
      this.element = (bytes, at) => canonicalElementEnd(cooc, bytes, at, this.rowStats);
    }
    const empty = serializeForVersion(probe.data);
    const open = `"${payloadKey}":[`;
    const at = empty.lastIndexOf(`${open}],"build":`) + open.length;
    this.prefix = empty.slice(0, at);
    this.suffix = empty.slice(at);
    if (this.sharing) {
      const prefix = new TextEncoder().encode(this.prefix);
      // The stored header is the canonical one (a compact blob we wrote) when its bytes are the prefix's.
      if (this.hashedTo === 0 && this.pendingStartsWith(prefix)) this.canonPos = prefix.length;
      else this.stopSharing('prefix');
    } else this.canon.update(this.prefix);
  }

  batch(bytes: Uint8Array, first: number, last: number, at: number, canonical = false): void {
    const payloadKey = this.payloadKey!;
    if (this.rowsChecked && this.bytePath) {
      // Every element was checked canonical by `element` as the lexer read it (its longest row counted then).
      if (canonical && this.element !== undefined) {
        this.hash(bytes, at);
        return;
      }
      // Stored in canonical form already (a compact blob): the bytes are their own slice of the hashed text.
      const stats = { maxRow: this.rowStats.maxRow };
      if (isCanonicalBatch(String(this.validateHeader!.artifact_type), bytes, stats)) {
        this.rowStats.maxRow = stats.maxRow;
        this.hash(bytes, at);
        return;
      }
    }
    let parsed: unknown[];
    try {
      parsed = JSON.parse(`[${decoder.decode(bytes)}]`) as unknown[];
    } catch (error) {
      throw new ArtifactSyntaxError(`${payloadKey} elements ${first}..${last}: ${(error as Error).message}`, at);
    }
    if (this.rowsChecked) {
      const stats = { maxRow: this.rowStats.maxRow };
      const fast = fastCanonical(String(this.validateHeader!.artifact_type), parsed, stats);
      if (fast !== undefined) {
        this.rowStats.maxRow = stats.maxRow;
        this.hash(fast);
        return;
      }
    }
    if (payloadKey !== 'items') {
      for (const row of parsed) {
        const items = (row as { items?: unknown } | null)?.items;
        if (Array.isArray(items) && items.length > this.rowStats.maxRow) this.rowStats.maxRow = items.length;
      }
    }
    if (!this.rowsChecked) return;
    const result = safeParseArtifact(miniArtifact(this.validateHeader!, payloadKey, parsed, BLANK_BUILD));
    if (!result.success) {
      const re = new RegExp(`^\\$\\.${payloadKey}\\[(\\d+)\\]`);
      const issues = result.error.issues.map((issue) => ({ ...issue, path: issue.path.replace(re, (_m, i: string) => `$.${payloadKey}[${first + Number(i)}]`) }));
      throw contractError(issues, result.error);
    }
    const text = serializeForVersion(result.data);
    this.hash(text.slice(this.prefix.length, text.length - this.suffix.length));
  }

  /**
   * Adds a batch's slice of the canonical text (comma-joined to the previous
   * one); `storedEnd`: the slice is the stored bytes ending at that stream offset.
   */
  private hash(slice: string | Uint8Array, storedEnd?: number): void {
    if (slice.length === 0) return;
    if (this.sharing) {
      // Its own stored bytes, right after the prefix or one byte (the lexer's ',') after the previous batch.
      if (storedEnd !== undefined && storedEnd - slice.length === this.canonPos + (this.batchesHashed > 0 ? 1 : 0)) {
        this.canonPos = storedEnd;
        this.batchesHashed++;
        // Everything up to here is in both texts; hashing it now keeps `pending` to about a batch.
        this.hashStoredTo(storedEnd);
        return;
      }
      this.stopSharing('stored');
    }
    if (this.batchesHashed > 0) this.canon.update(',');
    this.canon.update(slice);
    this.batchesHashed++;
  }

  /** Ends the check (call once, after the whole source was read). */
  finish(): PayloadCheckResult {
    let canonical: string | undefined;
    if (this.rowsChecked) {
      if (this.sharing) {
        this.hashStoredTo(this.canonPos);
        this.canon = this.stored.copy!();
      }
      this.canon.update(this.suffix);
      canonical = this.canon.digest();
    }
    this.hashStoredTo(this.readTo);
    this.sharing = false;
    return { maxRow: this.rowStats.maxRow, rowsChecked: this.rowsChecked, headerAtPayload: this.headerAtPayload, canonical, sha256: this.stored.digest() };
  }
}
