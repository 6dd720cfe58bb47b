import { ContractValidationError, DEFAULT_SEGMENT, goEscapeJson, safeParseArtifact, serializeForVersion, type ArtifactV1, type ContractIssue } from '@recsys/contracts';
import type { ArtifactTarget } from '../compute/artifacts.js';
import { kindOf } from '../compute/kinds.js';
import { IntegrityError, ValidationGateError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { Sha256Factory } from '../ports.js';
import { portableSha256 } from '../sha256-portable.js';

/*
 * Streaming check of a stored artifact in bounded memory.
 *
 * A cooc blob of a 100k-item catalog is hundreds of MB; past ~512 MiB it no
 * longer even fits in one V8 string, so "decode, JSON.parse, zod, recompute
 * the hash" cannot be the way to check it. This module reads the bytes once,
 * as they stream:
 *
 * - a small byte-level lexer checks the top-level JSON structure and cuts the
 *   payload array (`items`, `neighbors` or `users`) into batches of whole
 *   elements (~1 MiB of text each);
 * - every other top-level value (header, window, build) is small and parsed
 *   whole;
 * - each batch is parsed with the very same contract parser as a whole
 *   artifact (`safeParseArtifact` on the header plus the batch), so the
 *   rules, the `__proto__` guard and the error messages are the contract's,
 *   with the JSON paths renumbered to the element's real index;
 * - the content hash is recomputed on the fly: `serializeForVersion` of the
 *   header-plus-batch artifact, minus its constant prefix and suffix, is
 *   exactly that batch's slice of the whole artifact's canonical text.
 *
 * The canonical text starts with the header, so the header must be known
 * when the payload starts. Our serializer (and Go's) writes it first; for a
 * blob whose header keys follow the payload, the source is read a second
 * time, and its bytes must hash the same both times.
 */

const decoder = new TextDecoder();

/** Top-level keys that hold an artifact's (large) payload array. */
const PAYLOAD_KEYS: ReadonlySet<string> = new Set(['items', 'neighbors', 'users']);
const BLANK_BUILD = { built_at: '', version: '' };
/** Payload text parsed per batch; bounds the memory of the parsed objects. */
const BATCH_BYTES = 1 << 20;
/** A header value (or a single payload element) larger than this is not one we wrote. */
const MAX_VALUE_BYTES = 64 << 20;

/** Where a stored artifact's bytes come from; called again for a second pass. @since 0.1.0 */
export type ArtifactSource = () => Promise<AsyncIterable<Uint8Array> | undefined>;

/** An artifact's header as the contract parses it: everything but the payload array. @since 0.1.0 */
export type ArtifactHeaderV1 = Omit<ArtifactV1, 'items' | 'neighbors' | 'users'>;

/** Result of {@link scanArtifact}. @since 0.1.0 */
export interface ArtifactScan {
  /** Header, window and build, parsed with the artifact contract. */
  readonly header: ArtifactHeaderV1;
  /** Elements of the payload array. */
  readonly rows: number;
  /** Longest `items` list of a payload element (cooc, implicit, session_seq; 0 otherwise). */
  readonly maxRow: number;
  /** The content hash recomputed from the content (what `build.version` must be). */
  readonly computedVersion: string;
  /** SHA-256 of the stored bytes. */
  readonly sha256: string;
  /** Size of the stored bytes. */
  readonly size: number;
}

/** The stored bytes are not JSON (or not a JSON object). @since 0.1.0 */
export class ArtifactSyntaxError extends Error {
  /** Byte offset of the problem in the stored object. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'ArtifactSyntaxError';
    this.offset = offset;
  }
}

/** The object changed between the two reads of a two-pass check. @since 0.1.0 */
export class ArtifactChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactChangedError';
  }
}

/** Options of {@link scanArtifact}. @since 0.1.0 */
export interface ScanOptions {
  /** SHA-256 implementation (default: the portable one in core; pass `node:crypto`'s for speed). */
  readonly sha256?: Sha256Factory | undefined;
  /** Payload text parsed per batch (default 1 MiB); smaller only to exercise batching in tests. */
  readonly batchBytes?: number | undefined;
}

const WS = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const ARTIFACT_CONTRACT = 'artifact.v1';

interface PassResult {
  header: Record<string, unknown>;
  payloadKey: string | undefined;
  rows: number;
  maxRow: number;
  /** Rows were validated and hashed against `header` as it was when the payload started. */
  rowsChecked: boolean;
  /** The header (minus build) when the payload started, as JSON. */
  headerAtPayload: string | undefined;
  canonical: string | undefined;
  sha256: string;
  size: number;
}

function headerKeyOf(header: Record<string, unknown>): string {
  const { build: _build, ...rest } = header;
  return JSON.stringify(rest);
}

/** The artifact the contract parses for a header and a batch of payload elements. */
function miniArtifact(header: Record<string, unknown>, payloadKey: string, rows: unknown[], build: unknown): Record<string, unknown> {
  // Spread into a fresh object: the header came from JSON.parse, which may hold an own `__proto__` key.
  return { ...header, [payloadKey]: rows, build };
}

function contractError(issues: readonly ContractIssue[], cause?: unknown): ContractValidationError {
  return new ContractValidationError(ARTIFACT_CONTRACT, issues, cause !== undefined ? { cause } : undefined);
}

/*
 * Fast path for a batch of payload elements: a conservative check of the
 * element shape (it may refuse what the contract accepts, never the reverse)
 * and the canonical compact text written directly. Anything it refuses goes
 * through the contract parser and `serializeForVersion`, which decide (and
 * word the error). A property test holds the two paths together.
 */
const EDGE_SPACE = /^\s|\s$/;
const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;

function idOk(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && !EDGE_SPACE.test(s) && s.isWellFormed();
}
function hasKeys(o: unknown, a: string, b: string): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const k = Object.keys(o);
  return k.length === 2 && ((k[0] === a && k[1] === b) || (k[0] === b && k[1] === a));
}
const countOk = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const scoreOk = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Canonical text of `rows` (comma-joined), or `undefined` when the fast check refuses one. */
function fastCanonical(type: string, rows: readonly unknown[], stats: { maxRow: number }): string | undefined {
  const out: string[] = [];
  const str = JSON.stringify;
  for (const row of rows) {
    switch (type) {
      case 'popularity':
        if (!hasKeys(row, 'item_id', 'count') || !idOk(row.item_id) || !countOk(row.count)) return undefined;
        out.push(`{"item_id":${str(row.item_id)},"count":${str(row.count)}}`);
        break;
      case 'content_sim': {
        if (!hasKeys(row, 'item_id', 'tags') || !idOk(row.item_id) || !Array.isArray(row.tags)) return undefined;
        for (const t of row.tags as unknown[]) if (!idOk(t)) return undefined;
        out.push(`{"item_id":${str(row.item_id)},"tags":${str(row.tags)}}`);
        break;
      }
      case 'cooc':
      case 'implicit':
      case 'session_seq': {
        const idKey = type === 'cooc' ? 'item_id' : 'user_id';
        const valueKey = type === 'cooc' ? 'count' : 'score';
        const valueOk = type === 'cooc' ? countOk : scoreOk;
        if (!hasKeys(row, idKey, 'items') || !idOk(row[idKey]) || !Array.isArray(row.items)) return undefined;
        const items = row.items as unknown[];
        if (items.length > stats.maxRow) stats.maxRow = items.length;
        let text = `{"${idKey}":${str(row[idKey])},"items":[`;
        for (let k = 0; k < items.length; k++) {
          const it = items[k];
          if (!hasKeys(it, 'item_id', valueKey) || !idOk(it.item_id) || !valueOk(it[valueKey])) return undefined;
          text += `${k === 0 ? '' : ','}{"item_id":${str(it.item_id)},"${valueKey}":${str(it[valueKey])}}`;
        }
        out.push(text + ']}');
        break;
      }
      default:
        return undefined;
    }
  }
  const joined = out.join(',');
  return GO_ESCAPE_TEST.test(joined) ? goEscapeJson(joined) : joined;
}

/** State of the value scanner between chunks. */
interface ValueScan {
  depth: number;
  string: boolean;
  escape: boolean;
  scalar: boolean;
}

/**
 * Advances over one JSON value from `i` (its first byte already classified
 * in `v`); returns the index just past its end, or -1 when the chunk ends
 * first (the state is kept in `v`). Kept apart, with its state in locals,
 * because nearly every byte of a blob goes through this loop.
 */
function scanValue(chunk: Uint8Array, i: number, v: ValueScan): number {
  const n = chunk.length;
  let { depth, string, escape } = v;
  if (v.scalar) {
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x2c || b === 0x7d || b === 0x5d) return i;
    }
    return -1;
  }
  for (; i < n; i++) {
    const b = chunk[i]!;
    if (string) {
      if (escape) escape = false;
      else if (b === 0x5c) escape = true;
      else if (b === 0x22) {
        string = false;
        if (depth === 0) {
          v.string = false;
          return i + 1;
        }
      }
    } else if (b === 0x22) string = true;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      if (--depth === 0) {
        v.depth = 0;
        return i + 1;
      }
    }
  }
  v.depth = depth;
  v.string = string;
  v.escape = escape;
  return -1;
}

// Lexer states.
const START = 0;
const KEY_OR_END = 1;
const KEY = 2;
const KEY_STRING = 3;
const COLON = 4;
const VALUE = 5;
const AFTER_VALUE = 6;
const DONE = 7;
const PAYLOAD_FIRST = 8;
const PAYLOAD_NEXT = 9;
const PAYLOAD_SEP = 10;

/**
 * One read of the source: hashes the stored bytes, lexes the structure,
 * parses the header values and, in `check` mode, parses the payload in
 * batches; when the header is valid at the payload's start (`validateWith`,
 * or the header read so far), the rows are contract-checked and hashed.
 */
async function pass(source: AsyncIterable<Uint8Array>, sha256: Sha256Factory, validateWith: Record<string, unknown> | undefined, mode: 'check' | 'header', batchBytes = BATCH_BYTES): Promise<PassResult> {
  const stored = sha256();
  const canon = sha256();
  const header: Record<string, unknown> = {};
  let payloadKey: string | undefined;
  let rows = 0;
  let maxRow = 0;
  let rowsChecked = false;
  let headerAtPayload: string | undefined;
  let validateHeader: Record<string, unknown> | undefined;
  let prefix = '';
  let suffix = '';
  let batchesHashed = 0;
  let batchElements = 0;

  let state = START;
  let offset = 0; // stream offset of the current chunk
  // Capture of a byte span (a key, a value, or a batch of payload elements), possibly across chunks.
  let capActive = false;
  let capParts: Uint8Array[] = [];
  let capStart = 0;
  let capBytes = 0;
  // Value scanner.
  let inValue = false;
  const vs: ValueScan = { depth: 0, string: false, escape: false, scalar: false };
  let vEscape = false; // in a key
  let key = '';
  let valueIsPayload = false;

  const fail = (message: string, at: number): never => {
    throw new ArtifactSyntaxError(message, at);
  };
  const beginCapture = (at: number) => {
    capActive = true;
    capParts = [];
    capStart = at;
    capBytes = 0;
  };
  const takeCapture = (chunk: Uint8Array, end: number): Uint8Array => {
    capParts.push(chunk.subarray(capStart, end));
    const parts = capParts;
    capParts = [];
    capActive = false;
    capBytes = 0;
    if (parts.length === 1) return parts[0]!;
    let total = 0;
    for (const p of parts) total += p.length;
    const out = new Uint8Array(total);
    total = 0;
    for (const p of parts) {
      out.set(p, total);
      total += p.length;
    }
    return out;
  };
  const parseJson = (bytes: Uint8Array, what: string, at: number): unknown => {
    try {
      return JSON.parse(decoder.decode(bytes)) as unknown;
    } catch (error) {
      return fail(`${what}: ${(error as Error).message}`, at);
    }
  };

  const startPayload = () => {
    headerAtPayload = headerKeyOf(header);
    if (mode === 'header') return;
    validateHeader = validateWith ?? header;
    const probe = safeParseArtifact(miniArtifact(validateHeader, payloadKey!, [], BLANK_BUILD));
    rowsChecked = probe.success && kindOf(probe.data.artifact_type)?.payloadKey === payloadKey;
    if (!probe.success || !rowsChecked) return;
    const empty = serializeForVersion(probe.data);
    const open = `"${payloadKey}":[`;
    const at = empty.lastIndexOf(`${open}],"build":`) + open.length;
    prefix = empty.slice(0, at);
    suffix = empty.slice(at);
    canon.update(prefix);
  };
  const flushBatch = (bytes: Uint8Array, at: number) => {
    const first = rows - batchElements;
    let parsed: unknown[];
    try {
      parsed = JSON.parse(`[${decoder.decode(bytes)}]`) as unknown[];
    } catch (error) {
      return fail(`${payloadKey} elements ${first}..${rows - 1}: ${(error as Error).message}`, at);
    }
    batchElements = 0;
    if (rowsChecked) {
      const stats = { maxRow };
      const fast = fastCanonical(String(validateHeader!.artifact_type), parsed, stats);
      if (fast !== undefined) {
        maxRow = stats.maxRow;
        if (fast.length > 0) {
          if (batchesHashed > 0) canon.update(',');
          canon.update(fast);
          batchesHashed++;
        }
        return;
      }
    }
    if (payloadKey !== 'items') {
      for (const row of parsed) {
        const items = (row as { items?: unknown } | null)?.items;
        if (Array.isArray(items) && items.length > maxRow) maxRow = items.length;
      }
    }
    if (!rowsChecked) return;
    const result = safeParseArtifact(miniArtifact(validateHeader!, payloadKey!, parsed, BLANK_BUILD));
    if (!result.success) {
      const re = new RegExp(`^\\$\\.${payloadKey}\\[(\\d+)\\]`);
      const issues = result.error.issues.map((issue) => ({ ...issue, path: issue.path.replace(re, (_m, i: string) => `$.${payloadKey}[${first + Number(i)}]`) }));
      throw contractError(issues, result.error);
    }
    const text = serializeForVersion(result.data);
    const slice = text.slice(prefix.length, text.length - suffix.length);
    if (slice.length > 0) {
      if (batchesHashed > 0) canon.update(',');
      canon.update(slice);
      batchesHashed++;
    }
  };
  const beginValue = (chunk: Uint8Array, i: number) => {
    const b = chunk[i]!;
    inValue = true;
    vs.depth = 0;
    vs.string = false;
    vs.escape = false;
    vs.scalar = b !== 0x22 && b !== 0x7b && b !== 0x5b;
    if (vs.scalar && !(b === 0x2d || (b >= 0x30 && b <= 0x39) || b === 0x74 || b === 0x66 || b === 0x6e)) fail('expected a JSON value', offset + i);
    // A payload batch is one capture across elements (separators included); header mode keeps no payload bytes.
    if (valueIsPayload) {
      if (mode === 'check' && !capActive) beginCapture(i);
    } else beginCapture(i);
  };
  const endValue = (chunk: Uint8Array, end: number) => {
    if (valueIsPayload) {
      rows++;
      batchElements++;
      state = PAYLOAD_SEP;
      return;
    }
    const bytes = takeCapture(chunk, end);
    const value = parseJson(bytes, `value of ${JSON.stringify(key)}`, offset + end);
    // An own `__proto__` key (JSON.parse makes one) must stay a key, so that the contract can refuse it.
    if (key === '__proto__') Object.defineProperty(header, key, { value, enumerable: true, configurable: true, writable: true });
    else header[key] = value;
    state = AFTER_VALUE;
  };

  let size = 0;
  for await (const chunk of source) {
    stored.update(chunk);
    size += chunk.length;
    let i = 0;
    // A UTF-8 byte order mark is skipped, as TextDecoder does when a whole blob is decoded.
    if (offset === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3;
    const n = chunk.length;
    while (i < n) {
      const b = chunk[i]!;
      if (inValue) {
        const end = scanValue(chunk, i, vs);
        if (end < 0) break;
        inValue = false;
        endValue(chunk, end);
        i = end;
        continue;
      }
      if (state === KEY_STRING) {
        if (vEscape) vEscape = false;
        else if (b === 0x5c) vEscape = true;
        else if (b === 0x22) {
          key = parseJson(takeCapture(chunk, i + 1), 'bad key', offset + i) as string;
          state = COLON;
        }
        i++;
        continue;
      }
      if (WS(b)) {
        i++;
        continue;
      }
      switch (state) {
        case START:
          if (b !== 0x7b) fail('an artifact must be a JSON object', offset + i);
          state = KEY_OR_END;
          break;
        case KEY_OR_END:
        case KEY:
          if (b === 0x7d && state === KEY_OR_END) {
            state = DONE;
            break;
          }
          if (b !== 0x22) fail('expected a key', offset + i);
          beginCapture(i);
          vEscape = false;
          state = KEY_STRING;
          break;
        case COLON:
          if (b !== 0x3a) fail(`expected ':' after key ${JSON.stringify(key)}`, offset + i);
          state = VALUE;
          break;
        case VALUE:
          if (PAYLOAD_KEYS.has(key) && b === 0x5b) {
            if (payloadKey !== undefined || Object.prototype.hasOwnProperty.call(header, key)) {
              throw contractError([{ path: `$.${key}`, code: 'duplicate_payload', message: `a second payload array (${JSON.stringify(payloadKey ?? key)} came first)` }]);
            }
            payloadKey = key;
            startPayload();
            state = PAYLOAD_FIRST;
            break;
          }
          if (key === payloadKey) throw contractError([{ path: `$.${key}`, code: 'duplicate_payload', message: 'the payload key appears twice' }]);
          valueIsPayload = false;
          beginValue(chunk, i);
          continue;
        case AFTER_VALUE:
          if (b === 0x2c) state = KEY;
          else if (b === 0x7d) state = DONE;
          else fail("expected ',' or '}'", offset + i);
          break;
        case DONE:
          fail('unexpected data after the artifact', offset + i);
          break;
        case PAYLOAD_FIRST:
        case PAYLOAD_NEXT:
          if (b === 0x5d && state === PAYLOAD_FIRST) {
            state = AFTER_VALUE;
            break;
          }
          valueIsPayload = true;
          beginValue(chunk, i);
          continue;
        case PAYLOAD_SEP:
          if (b === 0x2c) {
            if (capActive && capBytes + (i - capStart) >= batchBytes) flushBatch(takeCapture(chunk, i), offset + i);
            state = PAYLOAD_NEXT;
          } else if (b === 0x5d) {
            if (capActive) flushBatch(takeCapture(chunk, i), offset + i);
            state = AFTER_VALUE;
          } else fail(`expected ',' or ']' in ${payloadKey}`, offset + i);
          break;
      }
      i++;
    }
    // An open capture continues at the start of the next chunk.
    if (capActive) {
      const part = chunk.subarray(capStart);
      capParts.push(part);
      capBytes += part.length;
      capStart = 0;
      if (capBytes > MAX_VALUE_BYTES + BATCH_BYTES) fail(`a single JSON value larger than ${MAX_VALUE_BYTES} bytes`, offset + n);
    }
    offset += n;
  }
  if (state !== DONE) fail(inValue || state === KEY_STRING ? 'unexpected end inside a value' : 'unexpected end of the artifact', offset);
  if (rowsChecked) canon.update(suffix);
  return { header, payloadKey, rows, maxRow, rowsChecked, headerAtPayload, canonical: rowsChecked ? canon.digest() : undefined, sha256: stored.digest(), size };
}

/**
 * Streams a stored artifact once (twice when its header keys follow the
 * payload): SHA-256 and size of the bytes, JSON structure, every payload
 * element parsed with the artifact contract in batches, and the content hash
 * recomputed, all in memory bounded by ~1 MiB of payload text plus the
 * longest element. Returns `undefined` when the source is missing.
 *
 * Throws `ContractValidationError` (contract `artifact.v1`, JSON paths as
 * for a whole-document parse) when the content breaks the contract,
 * {@link ArtifactSyntaxError} when it is not JSON, and
 * {@link ArtifactChangedError} when a second read differs from the first.
 * @since 0.1.0
 */
export async function scanArtifact(open: ArtifactSource, options: ScanOptions = {}): Promise<ArtifactScan | undefined> {
  const sha256 = options.sha256 ?? portableSha256;
  const first = await open();
  if (!first) return undefined;
  let result = await pass(first, sha256, undefined, 'check', options.batchBytes);
  const final = safeParseArtifact(miniArtifact(result.header, result.payloadKey ?? kindOf(String(result.header.artifact_type))?.payloadKey ?? 'items', [], result.header.build));
  if (!final.success) throw contractError(final.error.issues, final.error);
  if (!result.rowsChecked || result.headerAtPayload !== headerKeyOf(result.header)) {
    // The header was not complete when the payload started: read again, now knowing it.
    const firstRead = { sha256: result.sha256, size: result.size };
    const again = await open();
    if (!again) throw new ArtifactChangedError('the object vanished between two reads');
    result = await pass(again, sha256, result.header, 'check', options.batchBytes);
    if (result.sha256 !== firstRead.sha256 || result.size !== firstRead.size) throw new ArtifactChangedError('the object changed between two reads');
    if (!result.rowsChecked) throw contractError([{ path: '$', code: 'custom', message: 'the payload could not be checked against the header' }]);
  }
  const { items: _i, neighbors: _n, users: _u, ...header } = final.data as ArtifactV1 & Record<string, unknown>;
  return { header: header as ArtifactHeaderV1, rows: result.rows, maxRow: result.maxRow, computedVersion: result.canonical!, sha256: result.sha256, size: result.size };
}

/** Result of {@link readArtifactHeader}. @since 0.1.0 */
export interface ArtifactOutline {
  /** Every top-level value but the payload array, JSON-parsed, not contract-checked. */
  readonly values: Record<string, unknown>;
  /** The payload array's key (`items`, `neighbors`, `users`), if there is one. */
  readonly payloadKey: string | undefined;
  /** Elements of the payload array. */
  readonly rows: number;
  /** Size of the stored bytes. */
  readonly size: number;
}

/**
 * The outline of a stored artifact: its top-level values other than the
 * payload array, JSON-parsed but not contract-checked, and the number of
 * payload elements (gc dates an unrecorded blob by its `build.built_at`,
 * which follows the payload; `status` shows rows and window). Streams the
 * JSON structure only: bounded memory, no per-element parse.
 * Throws {@link ArtifactSyntaxError} when the bytes are not a JSON object.
 * @since 0.1.0
 */
export async function readArtifactHeader(open: ArtifactSource): Promise<ArtifactOutline | undefined> {
  const source = await open();
  if (!source) return undefined;
  const result = await pass(source, () => ({ update() {}, digest: () => '' }), undefined, 'header');
  return { values: result.header, payloadKey: result.payloadKey, rows: result.rows, size: result.size };
}

/** What {@link checkArtifactGateStreamed} expects of the blob. @since 0.1.0 */
export interface ArtifactGateExpectation {
  readonly type: string;
  readonly version: string;
  readonly target: ArtifactTarget;
}

/**
 * The artifact gate (DESIGN §5.3, same rules and gate names as
 * `checkArtifactGate`) on a stored blob, streamed in bounded memory:
 * contract parse, type/tenant/surface/segment/window, content hash equal to
 * the expected version, size limits. Returns the scan (its `sha256`/`size`
 * are the stored bytes'). Throws `ValidationGateError`; a missing blob or a
 * blob that changed between two reads is an `IntegrityError`.
 * @since 0.1.0
 */
export async function checkArtifactGateStreamed(open: ArtifactSource, expected: ArtifactGateExpectation, limits: Limits, options: ScanOptions = {}): Promise<ArtifactScan> {
  const where = `${expected.type} ${expected.version}`;
  let scan: ArtifactScan | undefined;
  try {
    scan = await scanArtifact(open, options);
  } catch (error) {
    if (error instanceof ArtifactChangedError) throw new IntegrityError(`${where}: ${error.message}`, { type: expected.type, version: expected.version }, { cause: error });
    const detail = ContractValidationError.isInstance(error) ? error.message : error instanceof ArtifactSyntaxError ? `not JSON: ${error.message}` : undefined;
    if (detail === undefined) throw error;
    throw new ValidationGateError('artifact_contract', `${where}: ${detail}`, { type: expected.type, version: expected.version }, { cause: error });
  }
  if (!scan) throw new IntegrityError(`${where}: the blob does not exist`, { type: expected.type, version: expected.version });
  checkArtifactFacts(where, { ...scan.header, rows: scan.rows, maxRow: scan.maxRow, computedVersion: scan.computedVersion }, expected, limits);
  return scan;
}

/** What the artifact gate checks once the artifact parsed. */
export interface ArtifactFacts {
  readonly artifact_type: string;
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  readonly window: { readonly start: string; readonly end: string };
  readonly build: { readonly version: string };
  readonly rows: number;
  readonly maxRow: number;
  readonly computedVersion: string;
}

/**
 * The gate's checks after the contract parse (shared by the whole-text and
 * the streamed gate, so both block on exactly the same conditions).
 */
export function checkArtifactFacts(where: string, a: ArtifactFacts, expected: ArtifactGateExpectation, limits: Limits): void {
  const { scope, segment, window } = expected.target;
  const mismatches: string[] = [];
  if (a.artifact_type !== expected.type) mismatches.push(`artifact_type ${a.artifact_type} != ${expected.type}`);
  if (a.tenant !== scope.tenant) mismatches.push(`tenant ${a.tenant} != ${scope.tenant}`);
  if (a.surface !== scope.surface) mismatches.push(`surface ${a.surface} != ${scope.surface}`);
  if ((a.segment ?? DEFAULT_SEGMENT) !== (segment || DEFAULT_SEGMENT)) mismatches.push(`segment ${a.segment} != ${segment}`);
  if (a.window.start !== window.start || a.window.end !== window.end) mismatches.push(`window ${a.window.start}/${a.window.end} != ${window.start}/${window.end}`);
  if (mismatches.length > 0) throw new ValidationGateError('artifact_header', `${where}: ${mismatches.join('; ')}`, { type: expected.type });
  if (a.computedVersion !== a.build.version || a.computedVersion !== expected.version) {
    throw new ValidationGateError('artifact_hash', `${where}: content hashes to ${a.computedVersion}`, { type: expected.type, expected: expected.version, computed: a.computedVersion });
  }
  if (a.rows > limits.max_items_per_artifact) {
    throw new ValidationGateError('artifact_size', `${where}: ${a.rows} rows > limits.max_items_per_artifact ${limits.max_items_per_artifact}`, { rows: a.rows });
  }
  const rowLimitKey = kindOf(a.artifact_type)?.rowLimit;
  const rowLimit = rowLimitKey ? limits[rowLimitKey] : Infinity;
  if (a.maxRow > rowLimit) {
    throw new ValidationGateError('artifact_size', `${where}: a row has ${a.maxRow} entries > ${rowLimit}`, { maxRow: a.maxRow });
  }
}
