import type { Catalog, CatalogItem } from '../catalog/catalog.js';
import type { Limits } from '../limits.js';
import { compareUtf8 } from '../utf8-order.js';

/** One `content_sim` entry. @since 0.1.0 */
export interface ContentSimItem {
  item_id: string;
  tags: string[];
}

/** The catalog items that apply to one surface, and why the others do not. @since 0.1.0 */
export interface SurfaceCatalog {
  /** Items of this surface with at least one tag, by item_id (UTF-8 byte order). */
  readonly items: CatalogItem[];
  /** Rows whose namespace names another surface. */
  readonly other_namespace: number;
  /** Rows left with no tags after normalisation. */
  readonly no_tags: number;
  /** Rows without a namespace hidden by a row of the same item for this surface. */
  readonly overridden: number;
}

/**
 * Selects the catalog rows for `surface`: rows whose namespace is set and
 * differs from the surface are skipped, rows with no tags are skipped, and
 * when an item has both a row without a namespace and one for this surface,
 * the surface's row wins.
 * @since 0.1.0
 */
export function catalogForSurface(catalog: Catalog, surface: string): SurfaceCatalog {
  let otherNamespace = 0;
  let noTags = 0;
  let overridden = 0;
  const byId = new Map<string, CatalogItem>();
  for (const item of catalog.items) {
    if (item.namespace !== undefined && item.namespace !== surface) {
      otherNamespace++;
      continue;
    }
    if (item.tags.length === 0) {
      noTags++;
      continue;
    }
    const seen = byId.get(item.item_id);
    if (seen === undefined) byId.set(item.item_id, item);
    else {
      // Parsing already rejected two rows with the same namespace, so exactly one of the pair is namespaced.
      overridden++;
      if (seen.namespace === undefined) byId.set(item.item_id, item);
    }
  }
  const items = [...byId.values()].sort((a, b) => compareUtf8(a.item_id, b.item_id));
  return { items, other_namespace: otherNamespace, no_tags: noTags, overridden };
}

/**
 * Content-similarity payload (DESIGN §3.3): the catalog items of the
 * surface with their normalised tags, by item_id. It does not depend on the
 * window's events except when there are more items than
 * `max_items_per_artifact`: then the items exposed most in the window are
 * kept (`exposures(item_id)`, ties by item_id), as for cooc rows (§5.4), so
 * a truncated artifact covers what is being shown rather than an
 * alphabetical prefix.
 * @since 0.1.0
 */
export function computeContentSim(catalog: Catalog, surface: string, limits: Limits, exposures: (itemId: string) => number): ContentSimItem[] {
  let items = catalogForSurface(catalog, surface).items;
  if (items.length > limits.max_items_per_artifact) {
    const count = new Map(items.map((i) => [i.item_id, exposures(i.item_id)]));
    items = items
      .slice()
      .sort((a, b) => count.get(b.item_id)! - count.get(a.item_id)! || compareUtf8(a.item_id, b.item_id))
      .slice(0, limits.max_items_per_artifact)
      .sort((a, b) => compareUtf8(a.item_id, b.item_id));
  }
  return items.map((i) => ({ item_id: i.item_id, tags: [...i.tags] }));
}
