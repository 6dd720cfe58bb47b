import { goEscapeJson } from '@recsys/contracts/codec';

/**
 * Streaming JSON emission of artifacts, straight into UTF-8 byte chunks.
 * A day of cooc for a 100k-item catalog is hundreds of MB pretty-printed;
 * building it as strings (or as millions of row objects) made the garbage
 * collector the top of the profile. Here names are encoded once, constant
 * JSON fragments are pre-encoded, numbers are written as digits, and the
 * output is cut into 1 MiB chunks that are hashed or written as they fill.
 * The bytes are identical to `serializeForVersion` / `serializeArtifact` of
 * `@recsys/contracts` (a property test holds them together).
 */

const encoder = new TextEncoder();
const CHUNK = 1 << 20;

/** A growing sequence of fixed-size byte chunks. @since 0.1.0 */
export class JsonBytes {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(CHUNK);
  private pos = 0;

  /** True when at least one full chunk is waiting to be taken. */
  get ready(): boolean {
    return this.chunks.length > 0;
  }

  private spill(): void {
    this.chunks.push(this.pos === CHUNK ? this.buf : this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(CHUNK);
    this.pos = 0;
  }

  /** Appends bytes `[from, to)` of `src`. */
  bytes(src: Uint8Array, from = 0, to = src.length): void {
    while (from < to) {
      if (this.pos === CHUNK) this.spill();
      const n = Math.min(to - from, CHUNK - this.pos);
      if (n < 16) for (let i = 0; i < n; i++) this.buf[this.pos++] = src[from + i]!;
      else {
        this.buf.set(src.subarray(from, from + n), this.pos);
        this.pos += n;
      }
      from += n;
    }
  }

  /**
   * Appends a whole chunk written elsewhere (e.g. by a worker thread)
   * without copying it: the partly filled chunk is closed first, so the
   * bytes stay in order; chunk sizes then vary, which no reader depends on.
   * The caller must not modify `src` afterwards.
   */
  chunk(src: Uint8Array): void {
    if (src.length < 4096) {
      this.bytes(src);
      return;
    }
    if (this.pos > 0) {
      this.chunks.push(this.buf.subarray(0, this.pos));
      this.buf = new Uint8Array(CHUNK);
      this.pos = 0;
    }
    this.chunks.push(src);
  }

  /** Appends text (any Unicode; use for rare, short pieces). */
  text(s: string): void {
    this.bytes(encoder.encode(s));
  }

  /** Appends a non-negative integer's decimal digits. */
  uint(n: number): void {
    if (this.pos + 16 > CHUNK) this.spill();
    if (n === 0) {
      this.buf[this.pos++] = 48;
      return;
    }
    if (n >= 1e15) {
      this.text(String(n));
      return;
    }
    let digits = 0;
    for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
    let at = this.pos + digits;
    this.pos = at;
    for (let m = n; m > 0; m = Math.floor(m / 10)) this.buf[--at] = 48 + (m % 10);
  }

  /** Takes the full chunks written so far. */
  take(): Uint8Array[] {
    const out = this.chunks;
    this.chunks = [];
    return out;
  }

  /** Takes everything, including the partly filled last chunk. */
  end(): Uint8Array[] {
    const out = this.take();
    if (this.pos > 0) out.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(0);
    this.pos = 0;
    return out;
  }
}

/** One payload member of an artifact (e.g. `items`), written in compact or pretty form. @since 0.1.0 */
export interface PayloadSource {
  readonly key: string;
  /**
   * Writes the member's value (compact, or pretty as a member at depth 1,
   * i.e. continuation lines indented by 2). Yields whenever `out.ready`, so
   * the caller can take full chunks as they fill.
   */
  write(out: JsonBytes, pretty: boolean): Generator<void>;
}

const PLAIN = /^[\x20-\x7e]*$/;

/**
 * Whether `value`'s JSON string literal with Go's escaping is its characters
 * between quotes: printable ASCII without quotes, backslashes, `<`, `>` or `&` (most ids).
 */
function isGoPlain(value: string): boolean {
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) return false;
  }
  return true;
}

/** JSON string literal with Go's escaping. @since 0.1.0 */
export function jsonString(value: string): string {
  if (isGoPlain(value)) return `"${value}"`;
  // Unpaired surrogates become U+FFFD, as in the contracts serializer (and Go).
  return goEscapeJson(JSON.stringify(value.isWellFormed() ? value : value.toWellFormed()));
}

/** Quoted, escaped, UTF-8 encoded names in one buffer. @since 0.1.0 */
export interface NameBytes {
  readonly buf: Uint8Array;
  /** Name `i` is `buf[start[i] .. start[i + 1])`. */
  readonly start: Uint32Array;
}

const nameCache = new WeakMap<readonly string[], NameBytes>();

/** Encodes every name once per names array (ids repeat across rows). @since 0.1.0 */
export function nameBytes(names: readonly string[]): NameBytes {
  const cached = nameCache.get(names);
  if (cached && cached.start.length === names.length + 1) return cached;
  const result = plainNameBytes(names) ?? escapedNameBytes(names);
  nameCache.set(names, result);
  return result;
}

/**
 * {@link nameBytes} when every name is plain (printable ASCII that Go does not
 * escape, the usual ids): each is its characters between quotes, copied as
 * bytes, without a quoted string per name and their join to encode (a cold
 * run's compute paid ~30 ms for those over a 1M day's 80k names). `undefined`
 * at the first name that is not plain.
 */
function plainNameBytes(names: readonly string[]): NameBytes | undefined {
  let total = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!isGoPlain(name)) return undefined;
    total += name.length + 2;
  }
  const buf = new Uint8Array(total);
  const start = new Uint32Array(names.length + 1);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    start[i] = at;
    buf[at++] = 0x22;
    for (let k = 0; k < name.length; k++) buf[at++] = name.charCodeAt(k);
    buf[at++] = 0x22;
  }
  start[names.length] = at;
  return { buf, start };
}

function escapedNameBytes(names: readonly string[]): NameBytes {
  const quoted = names.map(jsonString);
  const encoded = encoder.encode(quoted.join(''));
  const start = new Uint32Array(names.length + 1);
  let at = 0;
  for (let i = 0; i < quoted.length; i++) {
    start[i] = at;
    const q = quoted[i]!;
    at += PLAIN.test(q) ? q.length : encoder.encode(q).length;
  }
  start[names.length] = at;
  return { buf: encoded, start };
}

/** Appends name `id`. */
export function writeName(out: JsonBytes, names: NameBytes, id: number): void {
  out.bytes(names.buf, names.start[id]!, names.start[id + 1]!);
}

/** A payload member from a plain value (fine for small payloads). @since 0.1.0 */
export function valuePayload(key: string, value: unknown): PayloadSource {
  return {
    key,
    *write(out, pretty) {
      out.text(pretty ? goEscapeJson(JSON.stringify(value, null, 2)).replace(/\n/g, '\n  ') : goEscapeJson(JSON.stringify(value)));
      if (out.ready) yield;
    },
  };
}

const bytesCache = new Map<string, Uint8Array>();
/** Pre-encoded constant fragment. */
function frag(s: string): Uint8Array {
  let b = bytesCache.get(s);
  if (!b) bytesCache.set(s, (b = encoder.encode(s)));
  return b;
}

/**
 * Writes an array of `{<idKey>: <name>, <countKey>: <count>}` objects
 * (popularity items, cooc neighbour lists); `indent` is the indentation of
 * the line holding the opening bracket (pretty only).
 */
export function* writeIdCountArray(
  out: JsonBytes,
  pretty: boolean,
  indent: string,
  names: NameBytes,
  ids: ArrayLike<number>,
  counts: ArrayLike<number>,
  idKey: string,
  countKey: string,
  from = 0,
  to = ids.length,
): Generator<void> {
  if (to <= from) {
    out.bytes(frag('[]'));
    return;
  }
  const i1 = indent + '  ';
  const i2 = i1 + '  ';
  const open = pretty ? frag(`{\n${i2}"${idKey}": `) : frag(`{"${idKey}":`);
  const mid = pretty ? frag(`,\n${i2}"${countKey}": `) : frag(`,"${countKey}":`);
  const close = pretty ? frag(`\n${i1}}`) : frag('}');
  const first = pretty ? frag(`[\n${i1}`) : frag('[');
  const sep = pretty ? frag(`,\n${i1}`) : frag(',');
  const end = pretty ? frag(`\n${indent}]`) : frag(']');
  for (let k = from; k < to; k++) {
    out.bytes(k === from ? first : sep);
    out.bytes(open);
    writeName(out, names, ids[k]!);
    out.bytes(mid);
    out.uint(counts[k]!);
    out.bytes(close);
    if (out.ready) yield;
  }
  out.bytes(end);
}

/** Header fields of every artifact. @since 0.1.0 */
export interface ArtifactHeader {
  readonly type: string;
  readonly tenant: string;
  readonly surface: string;
  readonly segment?: string | undefined;
  readonly window: { readonly start: string; readonly end: string };
}

/** The build block as written in a blob. @since 0.1.0 */
export interface BuildBlock {
  readonly built_at: string;
  readonly version: string;
  readonly source_hash?: string;
}

/**
 * Whitespace of a published blob (config `blob_format`, DESIGN §3.4):
 * `compact` (no whitespace, the default) or `pretty` (2-space indent, as the
 * Go implementation writes). Whitespace never changes the version.
 * @since 0.4.0
 */
export type BlobFormat = 'compact' | 'pretty';

/**
 * An artifact as UTF-8 chunks: compact with `build` blanked (`build`
 * undefined: the bytes whose SHA-256 is the version), or the published blob
 * with the real build block, pretty (the default when `build` is given) or
 * compact.
 * @since 0.1.0
 */
export function* artifactBytes(header: ArtifactHeader, payload: readonly PayloadSource[], build?: BuildBlock, format: BlobFormat = 'pretty'): Generator<Uint8Array> {
  const pretty = build !== undefined && format === 'pretty';
  const out = new JsonBytes();
  const s = jsonString;
  if (pretty) {
    let head = `{\n  "v": 1,\n  "artifact_type": ${s(header.type)},\n  "tenant": ${s(header.tenant)},\n  "surface": ${s(header.surface)}`;
    if (header.segment) head += `,\n  "segment": ${s(header.segment)}`;
    out.text(head + `,\n  "window": {\n    "start": ${s(header.window.start)},\n    "end": ${s(header.window.end)}\n  }`);
  } else {
    let head = `{"v":1,"artifact_type":${s(header.type)},"tenant":${s(header.tenant)},"surface":${s(header.surface)}`;
    if (header.segment) head += `,"segment":${s(header.segment)}`;
    out.text(head + `,"window":{"start":${s(header.window.start)},"end":${s(header.window.end)}}`);
  }
  for (const member of payload) {
    out.text(pretty ? `,\n  ${s(member.key)}: ` : `,${s(member.key)}:`);
    for (const _ of member.write(out, pretty)) yield* out.take();
  }
  if (pretty) {
    let tail = `,\n  "build": {\n    "built_at": ${s(build.built_at)},\n    "version": ${s(build.version)}`;
    if (build.source_hash) tail += `,\n    "source_hash": ${s(build.source_hash)}`;
    out.text(tail + '\n  }\n}');
  } else {
    out.text(compactBuildTail(build));
  }
  yield* out.end();
}

/** The compact `build` member and closing brace: blanked (the hashed form) or the real one. */
export function compactBuildTail(build?: BuildBlock): string {
  if (!build) return BLANK_BUILD_TAIL;
  const s = jsonString;
  return `,"build":{"built_at":${s(build.built_at)},"version":${s(build.version)}${build.source_hash ? `,"source_hash":${s(build.source_hash)}` : ''}}}`;
}

/** How the hashed (compact, build blanked) form of every artifact ends. */
export const BLANK_BUILD_TAIL = ',"build":{"built_at":"","version":""}}';
/** Its length in bytes (ASCII). */
export const BLANK_BUILD_TAIL_BYTES = BLANK_BUILD_TAIL.length;

/**
 * The compact blob from the hashed bytes: the same chunks with the blanked
 * build tail replaced by the real one (DESIGN §3.4: the compact blob is the
 * hashed bytes plus the real `build`), so a blob is emitted once.
 * @since 0.4.0
 */
export function* compactBlobFromHashed(hashed: readonly Uint8Array[], build: BuildBlock): Generator<Uint8Array> {
  let keep = hashed.reduce((n, c) => n + c.length, 0) - BLANK_BUILD_TAIL_BYTES;
  for (const chunk of hashed) {
    if (keep <= 0) break;
    const part = chunk.length <= keep ? chunk : chunk.subarray(0, keep);
    keep -= part.length;
    yield part;
  }
  yield encoder.encode(compactBuildTail(build));
}
