import { ContractValidationError, safeParseArtifact, type ArtifactV1 } from '@recsys/contracts';
import { kindOf } from '../compute/kinds.js';
import { IntegrityError, ValidationGateError } from '../errors.js';
import type { Limits } from '../limits.js';
import type { Sha256Factory } from '../ports.js';
import { portableSha256 } from '../sha256-portable.js';
import { ArtifactChangedError, ArtifactSyntaxError, contractError } from './artifact-errors.js';
import { checkArtifactFacts, type ArtifactGateExpectation } from './artifact-facts.js';
import { lexArtifact } from './artifact-lexer.js';
import { headerKeyOf, miniArtifact, PayloadCheck } from './payload-check.js';

export { ArtifactChangedError, ArtifactSyntaxError } from './artifact-errors.js';
export type { ArtifactGateExpectation } from './artifact-facts.js';

/*
 * Streaming check of a stored artifact in bounded memory.
 *
 * A cooc blob of a 100k-item catalog is hundreds of MB; past ~512 MiB it no
 * longer even fits in one V8 string, so "decode, JSON.parse, zod, recompute
 * the hash" cannot be the way to check it. This module reads the bytes once,
 * as they stream:
 *
 * - a small byte-level lexer (artifact-lexer.ts) checks the top-level JSON
 *   structure and cuts the payload array (`items`, `neighbors` or `users`)
 *   into batches of whole elements (~1 MiB of text each);
 * - every other top-level value (header, window, build) is small and parsed
 *   whole;
 * - each batch (payload-check.ts) is parsed with the very same contract parser as a whole
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

/** Options of {@link scanArtifact}. @since 0.1.0 */
export interface ScanOptions {
  /** SHA-256 implementation (default: the portable one in core; pass `node:crypto`'s for speed). */
  readonly sha256?: Sha256Factory | undefined;
  /** Payload text parsed per batch (default 1 MiB); smaller only to exercise batching in tests. */
  readonly batchBytes?: number | undefined;
  /** Hash payload batches stored in canonical form without parsing them (default true; false only in tests). */
  readonly bytePath?: boolean | undefined;
}

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

/** One read of the source: the lexer and the payload check together. */
async function pass(source: AsyncIterable<Uint8Array>, sha256: Sha256Factory, validateWith: Record<string, unknown> | undefined, batchBytes?: number, bytePath = true): Promise<PassResult> {
  const check = new PayloadCheck(sha256, validateWith, bytePath);
  const lexed = await lexArtifact(source, check, true, batchBytes);
  return { ...lexed, ...check.finish() };
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
  let result = await pass(first, sha256, undefined, options.batchBytes, options.bytePath);
  const final = safeParseArtifact(miniArtifact(result.header, result.payloadKey ?? kindOf(String(result.header.artifact_type))?.payloadKey ?? 'items', [], result.header.build));
  if (!final.success) throw contractError(final.error.issues, final.error);
  if (!result.rowsChecked || result.headerAtPayload !== headerKeyOf(result.header)) {
    // The header was not complete when the payload started: read again, now knowing it.
    const firstRead = { sha256: result.sha256, size: result.size };
    const again = await open();
    if (!again) throw new ArtifactChangedError('the object vanished between two reads');
    result = await pass(again, sha256, result.header, options.batchBytes, options.bytePath);
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
  const result = await lexArtifact(source, { read() {}, start() {}, batch() {} }, false);
  return { values: result.header, payloadKey: result.payloadKey, rows: result.rows, size: result.size };
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
