import type { ObjectStorage } from '../ports.js';
import { compareUtf8 } from '../utf8-order.js';
import { scanBlobRows, type ArtifactRowScan } from './payload-scan.js';

/*
 * The few rows `show` and `report` display, read from published blobs with
 * the streaming scanner: memory is bounded by what is shown, never by the
 * blob. Each reader stops as soon as it has what it needs, using the orders
 * the artifact contract guarantees (DESIGN §3.3): popularity is most exposed
 * first, cooc rows are in UTF-8 byte order of item_id.
 */

/** One popularity row with its 1-based rank. @since 0.1.0 */
export interface RankedItem {
  readonly rank: number;
  readonly item_id: string;
  readonly count: number;
}

/** An item with a count (a cooc neighbour). @since 0.1.0 */
export interface CountedItem {
  readonly item_id: string;
  readonly count: number;
}

/** One displayed row of any artifact type (the fields its type has). @since 0.1.0 */
export type ShownRow =
  | { readonly rank: number; readonly item_id: string; readonly count: number }
  | { readonly item_id: string; readonly neighbors: readonly CountedItem[]; readonly neighbors_total: number }
  | { readonly user_id: string; readonly items: readonly { readonly item_id: string; readonly score: number }[]; readonly items_total: number }
  | { readonly item_id: string; readonly tags: readonly string[] };

interface Obj {
  readonly [k: string]: unknown;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function counted(list: unknown, limit: number, field: 'count' | 'score'): { item_id: string; count: number }[] {
  if (!Array.isArray(list)) return [];
  return list.slice(0, limit).map((x) => (isObj(x) ? { item_id: str(x.item_id), count: num(x[field]) } : { item_id: str(x), count: 0 }));
}

/** The first `n` rows of a popularity blob, i.e. its top `n` (reads only those). @since 0.1.0 */
export async function readTopItems(objects: ObjectStorage, uri: string, n: number): Promise<RankedItem[] | undefined> {
  const out: RankedItem[] = [];
  if (n <= 0) return out;
  const scan = await scanBlobRows(objects, uri, (row, i) => {
    if (isObj(row)) out.push({ rank: i + 1, item_id: str(row.item_id), count: num(row.count) });
    return out.length < n;
  });
  return scan ? out : undefined;
}

/** Where some items stood in a popularity blob. @since 0.1.0 */
export interface RankLookup {
  /** Rank and count of each looked-up item found. */
  readonly found: ReadonlyMap<string, RankedItem>;
  /** The blob's own top `n`. */
  readonly top: readonly RankedItem[];
  /** True when the whole blob was read (an item not found is not in it at all). */
  readonly complete: boolean;
}

/**
 * Ranks of `ids` in a popularity blob plus its top `n`: reads until every id
 * is found and `n` rows are read, so for a top list compared with the
 * previous version this is usually the first few rows. Memory: `ids` + `n`.
 * @since 0.1.0
 */
export async function lookupRanks(objects: ObjectStorage, uri: string, ids: ReadonlySet<string>, n: number): Promise<RankLookup | undefined> {
  const found = new Map<string, RankedItem>();
  const top: RankedItem[] = [];
  const scan = await scanBlobRows(objects, uri, (row, i) => {
    if (!isObj(row)) return;
    const item: RankedItem = { rank: i + 1, item_id: str(row.item_id), count: num(row.count) };
    if (i < n) top.push(item);
    if (ids.has(item.item_id)) found.set(item.item_id, item);
    return !(found.size >= ids.size && i + 1 >= n);
  });
  return scan ? { found, top, complete: scan.complete } : undefined;
}

/**
 * The cooc rows of `ids`, each cut to its `k` strongest neighbours (rows list
 * neighbours strongest first). Rows are in UTF-8 order of item_id, so the
 * scan stops after the greatest wanted id.
 * @since 0.1.0
 */
export async function readNeighbors(objects: ObjectStorage, uri: string, ids: readonly string[], k: number): Promise<Map<string, { neighbors: CountedItem[]; total: number }> | undefined> {
  const wanted = new Set(ids);
  const last = [...wanted].sort(compareUtf8).at(-1);
  const out = new Map<string, { neighbors: CountedItem[]; total: number }>();
  if (last === undefined) return out;
  const scan = await scanBlobRows(objects, uri, (row) => {
    if (!isObj(row)) return;
    const id = str(row.item_id);
    if (wanted.has(id)) out.set(id, { neighbors: counted(row.items, k, 'count'), total: Array.isArray(row.items) ? row.items.length : 0 });
    return out.size < wanted.size && compareUtf8(id, last) < 0;
  });
  return scan ? out : undefined;
}

/**
 * The first `n` rows of any artifact blob in display form, lists cut to
 * `k` entries (with their full length). `undefined` when the blob is missing.
 * @since 0.1.0
 */
export async function readHeadRows(objects: ObjectStorage, uri: string, n: number, k: number): Promise<{ rows: ShownRow[]; scan: ArtifactRowScan } | undefined> {
  const rows: ShownRow[] = [];
  if (n <= 0) {
    const scan = await scanBlobRows(objects, uri, () => false);
    return scan ? { rows, scan } : undefined;
  }
  const scan = await scanBlobRows(objects, uri, (row, i) => {
    if (isObj(row)) rows.push(shownRow(row, i, k));
    return rows.length < n;
  });
  return scan ? { rows, scan } : undefined;
}

function shownRow(row: Obj, index: number, k: number): ShownRow {
  if (row.user_id !== undefined) {
    return { user_id: str(row.user_id), items: counted(row.items, k, 'score').map((x) => ({ item_id: x.item_id, score: x.count })), items_total: Array.isArray(row.items) ? row.items.length : 0 };
  }
  if (Array.isArray(row.tags)) return { item_id: str(row.item_id), tags: row.tags.map(str) };
  if (Array.isArray(row.items)) return { item_id: str(row.item_id), neighbors: counted(row.items, k, 'count'), neighbors_total: row.items.length };
  return { rank: index + 1, item_id: str(row.item_id), count: num(row.count) };
}
