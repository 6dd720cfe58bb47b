import { IntegrityError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import type { ObjectStorage } from '../ports.js';

/*
 * A streaming reader for artifact blobs. `show` and `report` look at a few
 * rows of blobs that can be hundreds of megabytes (a cooc blob with no
 * limits), so they must neither buffer the blob nor build its object tree.
 *
 * The scanner walks the bytes once, tracking only string/escape state and
 * nesting depth. Every element of the payload array (`items`, `neighbors` or
 * `users`, DESIGN §3.3) is cut out as bytes and `JSON.parse`d on its own, so
 * memory is one row at a time, and the visitor can stop early (a popularity
 * blob is sorted, its top N are its first N rows: the rest is never read).
 * Other top-level members (window, build, …) are small and parsed whole.
 *
 * Byte-level scanning is safe in UTF-8: `"`, `\`, brackets and commas never
 * occur inside a multi-byte sequence. It works on compact and pretty blobs.
 * The artifact gate's streamed check (validate/artifact-stream.ts) reads a
 * whole blob to validate and hash it; this reader is for display: it hands
 * out rows one by one and stops as soon as the caller has enough.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** Bytes that end a bare number/true/false/null. */
const SCALAR_END = new Set([COMMA, RBRACE, RBRACKET, 0x20, 0x0a, 0x0d, 0x09]);

/** The payload members of the artifact types (DESIGN §3.3). */
const PAYLOAD_KEYS = ['items', 'neighbors', 'users'] as const;

/** What {@link scanArtifactRows} saw. @since 0.1.0 */
export interface ArtifactRowScan {
  /** Top-level members other than the payload read before the scan stopped (a stopped scan misses `build`). */
  readonly header: Readonly<Record<string, unknown>>;
  /** Which member held the rows, when one was found. */
  readonly payloadKey?: string;
  /** Rows visited. */
  readonly rows: number;
  /** False when the visitor stopped the scan before the end of the blob. */
  readonly complete: boolean;
}

/** Return `false` to stop reading (the rest of the blob is not fetched). @since 0.1.0 */
export type RowVisitor = (row: unknown, index: number) => boolean | void;

const decoder = new TextDecoder();

/**
 * Streams an artifact blob and hands each payload row to `visit`, one at a
 * time. Throws {@link IntegrityError} when the bytes are not an artifact
 * object (use `verify` for full validation: this reader only checks what it
 * needs to cut rows).
 * @since 0.1.0
 */
export async function scanArtifactRows(chunks: AsyncIterable<Uint8Array>, visit: RowVisitor, where = 'blob'): Promise<ArtifactRowScan> {
  const header: Record<string, unknown> = {};
  let payloadKey: string | undefined;
  let rows = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  // Depth-1 bookkeeping: the member name being read, and whether we are in key position.
  let expectKey = false;
  let keyParts: Uint8Array[] | undefined;
  let member: string | undefined;
  // The value being captured: a payload row (depth >= 2) or a non-payload member (depth >= 1).
  let capture: Uint8Array[] | undefined;
  let captureFrom = -1;
  let captureDepth = 0;
  let inPayload = false;
  let sawRoot = false;
  let stopped = false;
  let ended = false;

  const fail = (what: string): never => {
    throw new IntegrityError(`${where} is not an artifact object: ${what}`, { where });
  };
  const finishCapture = (chunk: Uint8Array, end: number): string => {
    capture!.push(chunk.subarray(captureFrom, end));
    const text = decoder.decode(concatBytes(capture!));
    capture = undefined;
    captureFrom = -1;
    return text;
  };
  /** Hands a finished capture to the visitor (a row) or the header (a member); false to stop. */
  const emit = (text: string): boolean => {
    if (captureDepth === 2) return visit(parse(text, `row ${rows}`), rows++) !== false;
    header[member!] = parse(text, `member ${member}`);
    return true;
  };
  const parse = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fail(`${what}: ${(error as Error).message}`);
    }
  };

  outer: for await (const chunk of chunks) {
    let keyFrom = keyParts ? 0 : -1;
    if (capture) captureFrom = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) {
          inString = false;
          if (keyParts) {
            keyParts.push(chunk.subarray(keyFrom, i + 1));
            member = parse(decoder.decode(concatBytes(keyParts)), 'member name') as string;
            keyParts = undefined;
            keyFrom = -1;
          } else if (capture && depth === captureDepth && !emit(finishCapture(chunk, i + 1))) {
            // A string value (of a header member, or a row) ends here.
            stopped = true;
            break outer;
          }
        }
        continue;
      }
      if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
      if (ended) fail('content after the end of the object');
      if (!sawRoot) {
        if (b !== LBRACE) fail('it does not start with "{"');
        sawRoot = true;
        depth = 1;
        expectKey = true;
        continue;
      }
      if (depth === 1 && expectKey) {
        if (b === QUOTE) {
          inString = true;
          keyParts = [];
          keyFrom = i;
          expectKey = false;
          continue;
        }
        if (b === RBRACE) {
          depth = 0;
          ended = true;
          continue;
        }
        if (b === COMMA) continue;
        fail(`unexpected byte ${JSON.stringify(String.fromCharCode(b))} where a member name belongs`);
      }
      if (depth === 1 && b === COLON) continue;
      // A value starts at depth 1 (a member) or depth 2 in the payload array (a row).
      if (!capture) {
        if (depth === 1) {
          if (b === COMMA) {
            expectKey = true;
            continue;
          }
          if (b === RBRACE) {
            depth = 0;
            ended = true;
            continue;
          }
          if (b === LBRACKET && payloadKey === undefined && (PAYLOAD_KEYS as readonly string[]).includes(member!)) {
            payloadKey = member;
            inPayload = true;
            depth = 2;
            continue;
          }
          capture = [];
          captureFrom = i;
          captureDepth = 1;
        } else if (inPayload && depth === 2) {
          if (b === COMMA) continue;
          if (b === RBRACKET) {
            inPayload = false;
            depth = 1;
            continue;
          }
          capture = [];
          captureFrom = i;
          captureDepth = 2;
        }
      }
      if (b === QUOTE) {
        inString = true;
        continue;
      }
      if (b === LBRACE || b === LBRACKET) {
        depth++;
        continue;
      }
      if (b === RBRACE || b === RBRACKET) {
        depth--;
        if (depth === captureDepth && capture) {
          if (!emit(finishCapture(chunk, i + 1))) {
            stopped = true;
            break outer;
          }
        } else if (depth < (capture ? captureDepth : 1)) {
          fail('unbalanced brackets');
        }
        continue;
      }
      // A bare scalar (number, true, false, null) of a header member or row ends at `,` or the closing bracket.
      if (capture && depth === captureDepth) {
        let j = i;
        while (j < chunk.length && !SCALAR_END.has(chunk[j]!)) j++;
        if (j === chunk.length) {
          i = j - 1;
          continue;
        }
        if (!emit(finishCapture(chunk, j).trim())) {
          stopped = true;
          break outer;
        }
        i = j - 1;
      }
    }
    if (keyParts && keyFrom >= 0) keyParts.push(chunk.subarray(keyFrom));
    if (capture && captureFrom >= 0) capture.push(chunk.subarray(captureFrom));
  }
  if (!stopped && !ended) fail(sawRoot ? 'it ends before its closing "}"' : 'it is empty');
  return { header, ...(payloadKey !== undefined ? { payloadKey } : {}), rows, complete: !stopped };
}

/**
 * Opens a published blob by URI for {@link scanArtifactRows}; `undefined` when
 * the URI is not in `objects` or the blob is missing.
 * @since 0.1.0
 */
export async function scanBlobRows(objects: ObjectStorage, uri: string, visit: RowVisitor): Promise<ArtifactRowScan | undefined> {
  const key = objects.keyOfUri(uri);
  if (key === undefined) return undefined;
  const stream = await objects.read(key);
  if (!stream) return undefined;
  return scanArtifactRows(stream, visit, uri);
}
