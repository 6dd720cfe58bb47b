import { contractError, ArtifactSyntaxError } from './artifact-errors.js';
import { concatBytes } from '../bytes.js';

/*
 * The byte-level lexer of the streamed artifact check (artifact-stream.ts):
 * it checks the top-level JSON structure of a stored artifact as its bytes
 * stream, parses every top-level value but the payload array whole (they are
 * small), counts the payload elements and, when asked, hands them on in
 * batches of whole elements (their JSON text, separators included). What is
 * done with the payload (contract check, content hash) is the caller's.
 */

const decoder = new TextDecoder();

/** Top-level keys that hold an artifact's (large) payload array. */
const PAYLOAD_KEYS: ReadonlySet<string> = new Set(['items', 'neighbors', 'users']);
/** Payload text handed on per batch by default; bounds the memory of the parsed objects. */
export const BATCH_BYTES = 1 << 20;
/** A header value (or a single payload element) larger than this is not one we wrote. */
const MAX_VALUE_BYTES = 64 << 20;

/** What a handler's element scanner returns when the bytes end before the element does. */
const TRUNCATED = -2;

const WS = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** What the lexer tells its caller as it reads. */
export interface LexerHandler {
  /** Every chunk of the source, as read (before it is lexed). */
  read(chunk: Uint8Array): void;
  /** The payload array opens: its key and the top-level values read so far. */
  start(payloadKey: string, header: Record<string, unknown>): void;
  /**
   * Payload elements `first`..`last`: their JSON text, comma-separated,
   * `at` the stream offset just past them (only when `capturePayload`).
   * `canonical`: every element of the batch passed {@link LexerHandler.element}
   * and they are joined by single commas, nothing else.
   */
  batch(bytes: Uint8Array, first: number, last: number, at: number, canonical: boolean): void;
  /**
   * Optional, read when the payload starts: scans one payload element at
   * `bytes[at..]` in the one form the handler hashes as stored (the
   * canonical compact form), returning the index just past it, `TRUNCATED`
   * (-2) when the bytes end first, or -1 when it is not in that form. The
   * lexer then skips such an element without its own scan.
   */
  readonly element?: ((bytes: Uint8Array, at: number) => number) | undefined;
}

/** What one read of an artifact found. */
export interface LexedArtifact {
  /** Every top-level value but the payload array, JSON-parsed (an own `__proto__` key stays a key). */
  readonly header: Record<string, unknown>;
  readonly payloadKey: string | undefined;
  /** Elements of the payload array. */
  readonly rows: number;
  /** Size of the stored bytes. */
  readonly size: number;
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
 * One read of the source: lexes the structure, parses the top-level values
 * and counts the payload elements, telling `handler` about the chunks, the
 * payload's start and (with `capturePayload`) the payload's batches of
 * about `batchBytes` of text. Throws {@link ArtifactSyntaxError} where the
 * bytes are not a JSON object, and the contract's error for a second
 * payload array.
 */
export async function lexArtifact(source: AsyncIterable<Uint8Array>, handler: LexerHandler, capturePayload: boolean, batchBytes = BATCH_BYTES): Promise<LexedArtifact> {
  const header: Record<string, unknown> = {};
  let payloadKey: string | undefined;
  let rows = 0;
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
  // The handler's scanner of canonical payload elements (see LexerHandler.element), once the payload starts.
  let element: ((bytes: Uint8Array, at: number) => number) | undefined;
  // The open batch holds only elements `element` accepted, joined by single commas.
  let batchCanonical = false;
  // The open batch's element was cut by a chunk end before `element` could tell: ended as soon as it is whole.
  let straddler = false;

  const fail = (message: string, at: number): never => {
    throw new ArtifactSyntaxError(message, at);
  };
  const beginCapture = (at: number) => {
    capActive = true;
    batchCanonical = element !== undefined;
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
    return parts.length === 1 ? parts[0]! : concatBytes(parts);
  };
  const parseJson = (bytes: Uint8Array, what: string, at: number): unknown => {
    try {
      return JSON.parse(decoder.decode(bytes)) as unknown;
    } catch (error) {
      return fail(`${what}: ${(error as Error).message}`, at);
    }
  };

  const flushBatch = (bytes: Uint8Array, at: number) => {
    const first = rows - batchElements;
    batchElements = 0;
    straddler = false;
    handler.batch(bytes, first, rows - 1, at, batchCanonical);
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
      if (capturePayload && !capActive) beginCapture(i);
      // Scanned here, not by `element`: the batch is no longer known canonical.
      batchCanonical = false;
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
    handler.read(chunk);
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
        // Whitespace inside a batch is not canonical text (between batches, no batch holds it).
        if (capActive) batchCanonical = false;
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
            handler.start(key, header);
            element = capturePayload ? handler.element : undefined;
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
          if (element !== undefined) {
            // Most elements of a compact blob: scanned once, by the handler's scanner, which also checks them.
            const end = element(chunk, i);
            if (end >= 0) {
              if (!capActive) beginCapture(i);
              rows++;
              batchElements++;
              state = PAYLOAD_SEP;
              i = end;
              continue;
            }
            if (end === TRUNCATED) {
              // Cut by the chunk's end: the canonical batch so far ends before it (its comma is the byte
              // before), and this element, scanned as any other, goes alone in a batch of its own.
              if (capActive && batchCanonical && i > 0 && batchElements > 0) flushBatch(takeCapture(chunk, i - 1), offset + i - 1);
              straddler = true;
            }
          }
          valueIsPayload = true;
          beginValue(chunk, i);
          continue;
        case PAYLOAD_SEP:
          if (b === 0x2c) {
            if (capActive && (straddler || capBytes + (i - capStart) >= batchBytes)) flushBatch(takeCapture(chunk, i), offset + i);
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
  return { header, payloadKey, rows, size };
}
