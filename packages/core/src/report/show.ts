import { parseManifestKey } from '@recsys/contracts';
import { NotFoundError, UsageError } from '../errors.js';
import { checkScope, checkPathSegment, type Scope } from '../keys.js';
import type { ObjectStorage } from '../ports.js';
import { Registry } from '../registry/registry.js';
import { versionOfUri } from '../ops/blob-check.js';
import { readHeadRows, readNeighbors, readTopItems, type ShownRow } from './top.js';

/** Options of {@link showLive}. @since 0.1.0 */
export interface ShowOptions {
  readonly tenant: string;
  readonly surface: string;
  /** Only this artifact type. */
  readonly type?: string | undefined;
  /** Only this segment (`default` for the plain keys). */
  readonly segment?: string | undefined;
  /** Rows shown per artifact (default 10). */
  readonly top?: number | undefined;
  /** Entries shown per row's list (neighbours, user items; default 5). */
  readonly listLimit?: number | undefined;
}

/** One live artifact with its first rows. @since 0.1.0 */
export interface ShownArtifact {
  readonly key: string;
  readonly type: string;
  readonly segment: string;
  readonly version: string;
  readonly uri: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly built_at?: string;
  readonly bytes?: number;
  /**
   * Which rows are shown: the top of a popularity list, the cooc rows of the
   * most exposed items (when popularity is live), or the first rows in the
   * artifact's own order.
   */
  readonly selection: 'top' | 'top_items' | 'first';
  readonly rows: readonly ShownRow[];
  readonly problem?: string;
}

/** Result of {@link showLive}. @since 0.1.0 */
export interface ShowResult {
  readonly tenant: string;
  readonly surface: string;
  readonly manifest_uri: string;
  readonly updated_at: string;
  readonly artifacts: readonly ShownArtifact[];
}

/** What {@link showLive} reads. @since 0.1.0 */
export interface ShowEnv {
  readonly areas: { readonly objects: ObjectStorage; readonly registry: ObjectStorage };
}

/**
 * The first rows of the live artifacts of a tenant/surface, read by
 * streaming only those rows from each blob (`recsys-pipelines show`).
 * @since 0.1.0
 */
export async function showLive(env: ShowEnv, options: ShowOptions): Promise<ShowResult> {
  const scope: Scope = checkScope(options);
  const top = options.top ?? 10;
  const k = options.listLimit ?? 5;
  if (!Number.isSafeInteger(top) || top < 1) throw new UsageError(`--top must be a whole number >= 1, got ${top}`);
  if (options.type !== undefined) checkPathSegment('type', options.type);
  if (options.segment !== undefined) checkPathSegment('segment', options.segment);
  const registry = new Registry(env.areas.registry);
  const stored = await registry.readManifest(scope);
  if (!stored) throw new NotFoundError(`no manifest for ${scope.tenant}/${scope.surface} at ${registry.manifestUri(scope)}: nothing is published`, { ...scope });
  const { manifest } = stored;
  const entries = Object.entries(manifest.current).map(([key, uri]) => {
    const parts = parseManifestKey(key);
    return { key, uri, type: parts?.type ?? key, segment: parts?.segment ?? 'default' };
  });
  // Popularity first: it is what people ask about, and cooc is shown through it.
  entries.sort((a, b) => Number(b.type === 'popularity') - Number(a.type === 'popularity'));
  const chosen = entries.filter((e) => (options.type === undefined || e.type === options.type) && (options.segment === undefined || e.segment === options.segment));
  if (chosen.length === 0) {
    const what = [options.type !== undefined ? `type ${options.type}` : '', options.segment !== undefined ? `segment ${options.segment}` : ''].filter(Boolean).join(', ');
    throw new NotFoundError(`nothing live for ${scope.tenant}/${scope.surface} with ${what}; live keys: ${entries.map((e) => e.key).join(', ') || '(none)'}`, { ...scope });
  }
  const out: ShownArtifact[] = [];
  for (const e of chosen) {
    const version = versionOfUri(e.uri);
    const record = await registry.readRecord(scope, e.type, version).catch(() => undefined);
    const meta = {
      key: e.key,
      type: e.type,
      segment: e.segment,
      version,
      uri: e.uri,
      ...(record ? { window: record.window, built_at: record.built_at, bytes: record.size_bytes } : {}),
    };
    try {
      if (e.type === 'popularity') {
        const rows = await readTopItems(env.areas.objects, e.uri, top);
        out.push(rows ? { ...meta, selection: 'top', rows } : { ...meta, selection: 'top', rows: [], problem: `blob ${e.uri} does not exist` });
        continue;
      }
      // cooc by itself lists rows alphabetically; the rows of the most exposed items say more.
      const pop = e.type === 'cooc' ? entries.find((p) => p.type === 'popularity' && p.segment === e.segment) : undefined;
      const topIds = pop ? await readTopItems(env.areas.objects, pop.uri, top).catch(() => undefined) : undefined;
      if (topIds && topIds.length > 0) {
        const found = await readNeighbors(env.areas.objects, e.uri, topIds.map((i) => i.item_id), k);
        if (found) {
          out.push({ ...meta, selection: 'top_items', rows: topIds.map((i) => ({ item_id: i.item_id, neighbors: found.get(i.item_id)?.neighbors ?? [], neighbors_total: found.get(i.item_id)?.total ?? 0 })) });
          continue;
        }
      }
      const head = await readHeadRows(env.areas.objects, e.uri, top, k);
      out.push(head ? { ...meta, selection: 'first', rows: head.rows } : { ...meta, selection: 'first', rows: [], problem: `blob ${e.uri} does not exist` });
    } catch (error) {
      out.push({ ...meta, selection: 'first', rows: [], problem: (error as Error).message });
    }
  }
  return { tenant: scope.tenant, surface: scope.surface, manifest_uri: registry.manifestUri(scope), updated_at: manifest.updated_at, artifacts: out };
}
