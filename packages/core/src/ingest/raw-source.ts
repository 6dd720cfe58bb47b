import { RecsysError, UsageError } from '../errors.js';
import { concatBytes } from '../bytes.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import type { Scope } from '../keys.js';
import { keys } from '../keys.js';
import type { RawEventSource, RawInput, RawInputChunk, RawRecordReject, ReadBuffers } from '../ports.js';

export type { RawEventSource, RawInput, RawInputChunk, RawRecordReject } from '../ports.js';

/** One raw input object to read for a day. @since 0.1.0 */
export interface RawSourceFile {
  readonly key: string;
  readonly gzip: boolean;
  /** Size in bytes when it was listed. @since 0.4.0 */
  readonly size?: number;
}

/**
 * Raw files that may hold events of `day`, in reading order: the per-day file
 * `<tenant>/<surface>/exposure.<day>.jsonl[.gz]`, then a flat
 * `exposure.jsonl[.gz]` with mixed days at the root of the raw area.
 * @since 0.1.0
 */
export async function rawSourcesForDay(raw: ObjectStorage, scope: Scope, day: string): Promise<RawSourceFile[]> {
  const perDay = keys.rawDay(scope, day);
  const flat = keys.rawFlat();
  const candidates: RawSourceFile[] = [
    { key: perDay, gzip: false },
    { key: `${perDay}.gz`, gzip: true },
    { key: flat, gzip: false },
    { key: `${flat}.gz`, gzip: true },
  ];
  const found: RawSourceFile[] = [];
  for (const candidate of candidates) {
    const info = await raw.stat(candidate.key);
    if (info) found.push({ ...candidate, size: info.size });
  }
  return found;
}

/**
 * The fingerprint of a day's raw input objects as they are now: SHA-256 of
 * their keys and sizes (late-data detection, pipeline/late-data.ts), or
 * `undefined` when there is none.
 * @since 0.3.0
 */
export async function rawFingerprint(raw: ObjectStorage, sha256: Sha256Factory, scope: Scope, day: string): Promise<string | undefined> {
  const listed: [string, number][] = [];
  for (const f of await rawSourcesForDay(raw, scope, day)) {
    const info = await raw.stat(f.key);
    if (info) listed.push([f.key, info.size]);
  }
  if (listed.length === 0) return undefined;
  const hash = sha256();
  hash.update(JSON.stringify(listed));
  return hash.digest();
}

/**
 * The days of `days` for which no raw input exists at all: no per-day file
 * (plain or `.gz`) and no flat `exposure.jsonl[.gz]`. Such a day is "no
 * input" (a wrong path or a missing delivery), unlike a day whose input has
 * no events for the scope (the `non_empty` gate).
 * @since 0.1.0
 */
export async function daysWithoutRawInput(raw: ObjectStorage, scope: Scope, days: readonly string[]): Promise<string[]> {
  const flat = keys.rawFlat();
  // A flat file may hold any day: with one, no day is without input.
  if ((await raw.stat(flat)) || (await raw.stat(`${flat}.gz`))) return [];
  const missing: string[] = [];
  for (const day of days) {
    const perDay = keys.rawDay(scope, day);
    if (!(await raw.stat(perDay)) && !(await raw.stat(`${perDay}.gz`))) missing.push(day);
  }
  return missing;
}

/**
 * Usage error (exit 2) for days without raw input, naming where it looked
 * and the setting that points there. Thrown before anything is written.
 * @since 0.1.0
 */
export function noRawInputError(raw: ObjectStorage, scope: Scope, missing: readonly string[], setting: string | undefined, hint = ''): UsageError {
  const under = `${raw.location.replace(/\/+$/, '')}/${scope.tenant}/${scope.surface}`;
  const list = missing.length <= 5 ? missing.join(', ') : `${missing.slice(0, 5).join(', ')} and ${missing.length - 5} more day(s)`;
  return new UsageError(
    `no raw input for ${list} under ${under}${setting ? ` (${setting})` : ''}: expected exposure.<day>.jsonl[.gz] there or exposure.jsonl[.gz] at ${raw.location}${hint}`,
    { days: [...missing], location: under, ...(setting ? { config_key: setting } : {}) },
  );
}

/**
 * Bytes per read of a raw file, the size of ingest's parse blocks: a read
 * chunk of whole lines is then a block as it is (see `lineBlocks`).
 */
export const RAW_CHUNK_BYTES = 4 << 20;

/**
 * Streams a raw file's bytes, gunzipping `.gz` with the web-standard
 * `DecompressionStream` (no Node built-ins in core).
 * @since 0.1.0
 */
export async function openRawSource(raw: ObjectStorage, file: RawSourceFile, into?: ReadBuffers): Promise<AsyncIterable<Uint8Array>> {
  const uri = raw.uri(file.key);
  // Gzipped bytes are not what is parsed: they go through buffers of the decompressor's.
  const stream = await raw.read(file.key, { chunkBytes: RAW_CHUNK_BYTES, ...(into && !file.gzip ? { into } : {}) });
  if (!stream) throw new RecsysError('runtime', `raw source ${uri} disappeared while reading`, { uri });
  return naming(withoutBom(file.gzip ? gunzip(stream) : stream), uri, file.gzip);
}

/**
 * Streams a plain raw file's bytes from byte `start` (a positioned read when
 * the storage has one, else skipping), without BOM removal.
 * @since 0.4.0
 */
export async function openRawFrom(raw: ObjectStorage, file: RawSourceFile, start: number, into?: ReadBuffers): Promise<AsyncIterable<Uint8Array>> {
  const uri = raw.uri(file.key);
  const options = { chunkBytes: RAW_CHUNK_BYTES, into };
  const stream = raw.readFrom ? await raw.readFrom(file.key, start, options) : await raw.read(file.key, options).then((s) => (s ? skipBytes(s, start) : undefined));
  if (!stream) throw new RecsysError('runtime', `raw source ${uri} disappeared while reading`, { uri });
  return naming(stream, uri, false);
}

/** The bytes of `source` after its first `skip` (for a storage without `readFrom`). */
export async function* skipBytes(source: AsyncIterable<Uint8Array>, skip: number): AsyncGenerator<Uint8Array> {
  let left = skip;
  for await (const chunk of source) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/**
 * Drops a UTF-8 byte order mark at the start of a file (Windows editors and
 * some exporters write one): it is not part of the first line's JSON, and
 * left in place it would cost the file its first event.
 */
export async function* withoutBom(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let head: Uint8Array | undefined = new Uint8Array(0);
  for await (const chunk of source) {
    if (head === undefined) {
      yield chunk;
      continue;
    }
    const joined: Uint8Array = head.length === 0 ? chunk : concatBytes([head, chunk]);
    // A mark can only be recognised once three bytes are in (chunks may be tiny).
    if (joined.length < 3 && joined.every((b, i) => b === BOM[i])) {
      head = joined.slice();
      continue;
    }
    head = undefined;
    yield joined[0] === BOM[0] && joined[1] === BOM[1] && joined[2] === BOM[2] ? joined.subarray(3) : joined;
  }
  if (head !== undefined && head.length > 0) yield head;
}

const BOM = [0xef, 0xbb, 0xbf];

/** Read and gunzip failures name the file (zlib alone says only "incorrect header check"). */
async function* naming(source: AsyncIterable<Uint8Array>, uri: string, gzip: boolean): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    if (RecsysError.isInstance(error)) throw error;
    const what = gzip ? 'cannot read or gunzip' : 'cannot read';
    throw new RecsysError('runtime', `${what} raw source ${uri}: ${(error as Error).message}`, { uri }, { cause: error });
  }
}

async function* gunzip(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const pump = (async () => {
    try {
      for await (const chunk of source) await writer.write(chunk as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
    }
  })();
  const reader = ds.readable.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await pump;
  }
}

/**
 * The raw inputs of a day: the source's when the environment has one, else
 * the JSON Lines files of the raw storage area ({@link rawSourcesForDay}).
 * @since 0.2.0
 */
export async function rawInputsForDay(raw: ObjectStorage, source: RawEventSource | undefined, scope: Scope, day: string): Promise<RawInput[]> {
  if (source) return source.inputsForDay(scope, day);
  const files = await rawSourcesForDay(raw, scope, day);
  const inputs: RawInput[] = [];
  for (const file of files) {
    const uri = raw.uri(file.key);
    const size = file.size;
    const input: RawInput = { uri, open: (into) => openRawSource(raw, file, into), ...(size !== undefined ? { size } : {}) };
    // Plain JSON Lines can be split into byte ranges at line starts (sharded ingest); gzip cannot.
    inputs.push(file.gzip ? input : { ...input, openFrom: (start, into) => openRawFrom(raw, file, start, into) });
  }
  return inputs;
}

/** Whether a raw input chunk is a rejected record. @since 0.2.0 */
export function isRecordReject(chunk: RawInputChunk): chunk is RawRecordReject {
  return !(chunk instanceof Uint8Array);
}
