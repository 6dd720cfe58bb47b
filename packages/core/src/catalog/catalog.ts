import { NotFoundError, ValidationGateError } from '../errors.js';
import { splitLines } from '../ingest/line-splitter.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import { readCsvRecords } from './csv.js';
import { briefJson } from '../json-brief.js';

/** Catalog file formats. @since 0.1.0 */
export type CatalogFormat = 'csv' | 'jsonl';

/** Catalog formats, for flag/config validation. @since 0.1.0 */
export const CATALOG_FORMATS: readonly CatalogFormat[] = ['csv', 'jsonl'];

/**
 * Port: where an item catalog's bytes come from. The CLI backs it with a
 * file; {@link catalogSourceFromStorage} backs it with any object store.
 * @since 0.1.0
 */
export interface CatalogSource {
  /** Where the catalog is, for messages and reports (a path or URI). */
  readonly location: string;
  readonly format: CatalogFormat;
  /** Streams the catalog's bytes; called once per run. */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** A catalog stored as one object of an {@link ObjectStorage}. @since 0.1.0 */
export function catalogSourceFromStorage(storage: ObjectStorage, key: string, format: CatalogFormat): CatalogSource {
  const location = storage.uri(key);
  return {
    location,
    format,
    async open() {
      const stream = await storage.read(key);
      if (!stream) throw new NotFoundError(`item catalog ${location} not found`, { catalog: location });
      return stream;
    },
  };
}

/** Why a catalog row was rejected. @since 0.1.0 */
export const CATALOG_REJECT_REASONS = [
  'bad_quoting',
  'invalid_utf8',
  'row_too_long',
  'field_count',
  'invalid_json',
  'not_object',
  'missing_item_id',
  'bad_field',
  'duplicate_item',
] as const;

/** @since 0.1.0 */
export type CatalogRejectReason = (typeof CATALOG_REJECT_REASONS)[number];

/** A malformed catalog row. @since 0.1.0 */
export interface CatalogProblem {
  /** 1-based line the row starts on (the CSV header is line 1). */
  readonly line: number;
  readonly reason: CatalogRejectReason;
  readonly detail: string;
}

/** A well-formed catalog row, normalised. @since 0.1.0 */
export interface CatalogItem {
  readonly line: number;
  /** Trimmed, non-empty. */
  readonly item_id: string;
  /** Normalised with {@link normalizeTags}; may be empty (the item is then skipped by `content_sim`). */
  readonly tags: readonly string[];
  /** Trimmed; absent when the row has none (applies to every surface). */
  readonly namespace?: string;
  /**
   * The item's price when the catalog has a readable one (a finite number
   * >= 0); only the service's `item_tags` table uses it (DESIGN §8.2).
   * @since 0.2.0
   */
  readonly price?: number;
}

/** A parsed item catalog. @since 0.1.0 */
export interface Catalog {
  readonly location: string;
  readonly format: CatalogFormat;
  /** SHA-256 of the catalog bytes, when read through {@link loadCatalog} with a hasher. */
  readonly sha256?: string;
  /** Data rows read (not counting the CSV header and blank lines). */
  readonly rows: number;
  /** Well-formed rows in file order. */
  readonly items: readonly CatalogItem[];
  /** Malformed rows (the numerator of the catalog bad-row gate). */
  readonly malformed: number;
  readonly malformed_by_reason: Partial<Record<CatalogRejectReason, number>>;
  /** The first {@link MAX_REPORTED_PROBLEMS} malformed rows, in file order. */
  readonly problems: readonly CatalogProblem[];
}

/** How many malformed rows a {@link Catalog} lists individually. @since 0.1.0 */
export const MAX_REPORTED_PROBLEMS = 100;

/**
 * Normalises tags: trimmed, lower-cased, empty ones dropped, duplicates
 * dropped keeping the first occurrence (so the producer's order survives).
 * @since 0.1.0
 */
export function normalizeTags(tags: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = raw.trim().toLowerCase();
    if (tag !== '') seen.add(tag);
  }
  return [...seen];
}

/** Splits a CSV tags cell on `|`, `;` or `,` (a cell holding commas must be quoted). @since 0.1.0 */
export function splitTagCell(cell: string): string[] {
  return cell.split(/[|;,]/);
}

/** CSV header names of each column role, most specific first; matched trimmed and case-insensitively. */
const COLUMN_NAMES = {
  item_id: ['item_id', 'itemid', 'id'],
  tags: ['tags', 'tag_list'],
  namespace: ['namespace'],
  price: ['price'],
} as const;

type Role = keyof typeof COLUMN_NAMES;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * JSON text can spell unpaired surrogates (`"\ud800"`) that no UTF-8 consumer
 * can represent; replace them with U+FFFD as Go's decoder does, so ids,
 * ordering and the version agree with what is serialised.
 */
function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

class CatalogBuilder {
  rows = 0;
  malformed = 0;
  readonly items: CatalogItem[] = [];
  readonly byReason: Partial<Record<CatalogRejectReason, number>> = {};
  readonly problems: CatalogProblem[] = [];
  private readonly firstLine = new Map<string, number>();

  constructor(
    private readonly location: string,
    private readonly format: CatalogFormat,
  ) {}

  reject(line: number, reason: CatalogRejectReason, detail: string): void {
    this.malformed++;
    this.byReason[reason] = (this.byReason[reason] ?? 0) + 1;
    if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push({ line, reason, detail });
  }

  /** Adds a row; a second row for the same (namespace, item_id) is malformed (which one wins would be arbitrary). */
  accept(line: number, itemId: string, tags: string[], namespace: string | undefined, price?: number): void {
    const key = `${namespace ?? ''}\u0000${itemId}`;
    const first = this.firstLine.get(key);
    if (first !== undefined) {
      const ns = namespace === undefined ? 'no namespace' : `namespace ${JSON.stringify(namespace)}`;
      this.reject(line, 'duplicate_item', `item_id ${JSON.stringify(itemId)} (${ns}) already defined on line ${first}`);
      return;
    }
    this.firstLine.set(key, line);
    // An unreadable price is left out rather than rejecting the row: content_sim never reads it.
    const priced = price !== undefined && Number.isFinite(price) && price >= 0 ? { price } : {};
    this.items.push(namespace === undefined ? { line, item_id: itemId, tags, ...priced } : { line, item_id: itemId, tags, namespace, ...priced });
  }

  finish(): Catalog {
    return {
      location: this.location,
      format: this.format,
      rows: this.rows,
      items: this.items,
      malformed: this.malformed,
      malformed_by_reason: this.byReason,
      problems: this.problems,
    };
  }
}

function headerError(location: string, problem: string): ValidationGateError {
  return new ValidationGateError('catalog_header', `item catalog ${location}: ${problem}`, { catalog: location });
}

function columnIndexes(location: string, header: readonly string[]): Record<Role, number> {
  const names = header.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h).trim().toLowerCase());
  const index = (role: Role): number => {
    for (const name of COLUMN_NAMES[role]) {
      const at = names.indexOf(name);
      if (at === -1) continue;
      if (names.indexOf(name, at + 1) !== -1) throw headerError(location, `column "${name}" appears more than once in the header`);
      return at;
    }
    return -1;
  };
  const item = index('item_id');
  const tags = index('tags');
  const found = `header columns: ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  if (item === -1) throw headerError(location, `no item id column (item_id, itemid or id); ${found}`);
  if (tags === -1) throw headerError(location, `no tags column (tags or tag_list); ${found}`);
  return { item_id: item, tags, namespace: index('namespace'), price: index('price') };
}

async function parseCsv(chunks: AsyncIterable<Uint8Array>, out: CatalogBuilder, location: string): Promise<void> {
  let columns: Record<Role, number> | undefined;
  let width = 0;
  for await (const record of readCsvRecords(chunks)) {
    if (!columns) {
      if (record.kind === 'error') throw headerError(location, `header row (line ${record.line}) is unreadable: ${record.reason}: ${record.detail}`);
      columns = columnIndexes(location, record.fields);
      width = record.fields.length;
      continue;
    }
    out.rows++;
    if (record.kind === 'error') {
      out.reject(record.line, record.reason, record.detail);
      continue;
    }
    const f = record.fields;
    if (f.length !== width) {
      out.reject(record.line, 'field_count', `expected ${width} fields as in the header, got ${f.length}`);
      continue;
    }
    const itemId = f[columns.item_id]!.trim();
    if (itemId === '') {
      out.reject(record.line, 'missing_item_id', 'item id is empty');
      continue;
    }
    const namespace = columns.namespace === -1 ? '' : f[columns.namespace]!.trim();
    const priceCell = columns.price === -1 ? '' : f[columns.price]!.trim();
    out.accept(record.line, itemId, normalizeTags(splitTagCell(f[columns.tags]!)), namespace === '' ? undefined : namespace, priceCell === '' ? undefined : Number(priceCell));
  }
  if (!columns) throw headerError(location, 'the catalog is empty (a CSV catalog needs a header row)');
}

async function parseJsonl(chunks: AsyncIterable<Uint8Array>, out: CatalogBuilder): Promise<void> {
  for await (const line of splitLines(chunks)) {
    out.rows++;
    if (line.kind === 'too_long') {
      out.reject(line.lineNo, 'row_too_long', `line is ${line.bytes} bytes; the limit is 1 MiB`);
      continue;
    }
    if (line.kind === 'invalid_utf8') {
      out.reject(line.lineNo, 'invalid_utf8', 'line is not valid UTF-8');
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.lineNo === 1 ? line.text.replace(/^\uFEFF/, '') : line.text);
    } catch (error) {
      out.reject(line.lineNo, 'invalid_json', (error as Error).message);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.reject(line.lineNo, 'not_object', 'each line must be a JSON object {item_id, tags, namespace?}');
      continue;
    }
    const row = value as Record<string, unknown>;
    if (row.item_id !== undefined && typeof row.item_id !== 'string') {
      out.reject(line.lineNo, 'bad_field', `item_id must be a string, got ${briefJson(row.item_id)}`);
      continue;
    }
    const itemId = wellFormed(row.item_id ?? '').trim();
    if (itemId === '') {
      out.reject(line.lineNo, 'missing_item_id', 'item_id is missing or empty');
      continue;
    }
    if (!Array.isArray(row.tags) || !row.tags.every((t) => typeof t === 'string')) {
      out.reject(line.lineNo, 'bad_field', 'tags must be an array of strings');
      continue;
    }
    if (row.namespace !== undefined && row.namespace !== null && typeof row.namespace !== 'string') {
      out.reject(line.lineNo, 'bad_field', `namespace must be a string, got ${briefJson(row.namespace)}`);
      continue;
    }
    const namespace = typeof row.namespace === 'string' ? wellFormed(row.namespace).trim() : '';
    out.accept(line.lineNo, itemId, normalizeTags((row.tags as string[]).map(wellFormed)), namespace === '' ? undefined : namespace, typeof row.price === 'number' ? row.price : undefined);
  }
}

/**
 * Parses an item catalog (DESIGN §3.3 `content_sim`) from its bytes.
 *
 * - CSV (RFC 4180): a header row, then one item per row. Columns, matched
 *   by name (trimmed, case-insensitive): `item_id` (or `itemid`, `id`),
 *   `tags` (or `tag_list`; tags separated by `|`, `;` or `,` — a cell with
 *   commas must be quoted), optional `namespace` and `price`; other columns
 *   are ignored.
 *   Every row must have as many fields as the header.
 * - JSONL: one `{"item_id": "…", "tags": ["…"], "namespace": "…", "price": 9.5}` per line;
 *   other keys are ignored.
 *
 * Ids and namespaces are trimmed (an empty namespace means "none"), tags are
 * normalised with {@link normalizeTags}. A malformed row is counted, listed
 * with its line number, and skipped; so is a second row for the same
 * (namespace, item_id). A CSV without a usable header throws a
 * `catalog_header` {@link ValidationGateError} (exit 3).
 * @since 0.1.0
 */
export async function parseCatalog(chunks: AsyncIterable<Uint8Array>, format: CatalogFormat, location: string): Promise<Catalog> {
  const out = new CatalogBuilder(location, format);
  if (format === 'csv') await parseCsv(chunks, out, location);
  else await parseJsonl(chunks, out);
  return out.finish();
}

async function* hashing(chunks: AsyncIterable<Uint8Array>, update: (chunk: Uint8Array) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    update(chunk);
    yield chunk;
  }
}

/**
 * Reads and parses a catalog from its source, hashing its bytes on the way
 * when `sha256` is given (for reports and logs).
 * @since 0.1.0
 */
export async function loadCatalog(source: CatalogSource, sha256?: Sha256Factory): Promise<Catalog> {
  const stream = await source.open();
  if (!sha256) return parseCatalog(stream, source.format, source.location);
  const hash = sha256();
  const catalog = await parseCatalog(
    hashing(stream, (c) => hash.update(c)),
    source.format,
    source.location,
  );
  return { ...catalog, sha256: hash.digest() };
}
