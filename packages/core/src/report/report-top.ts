import type { ObjectStorage } from '../ports.js';
import { versionOfUri } from '../ops/blob-check.js';
import { lookupRanks, readNeighbors, readTopItems } from './top.js';
import type { LiveArtifact, NeighborsSection, TopItemRow, TopItemsSection } from './report-types.js';

/*
 * The report's top-items and neighbours parts, read from the first rows of
 * the live popularity and cooc blobs (streamed), with each top item's move
 * against the version served before.
 */

/** Top items of the live popularity artifact and their change against `previous` (live key → URI served before). */
export async function topItemsSection(objects: ObjectStorage, live: readonly LiveArtifact[], previous: ReadonlyMap<string, string>, top: number): Promise<TopItemsSection | undefined> {
  const pop = live.find((a) => a.key === 'popularity') ?? live.find((a) => a.type === 'popularity');
  if (!pop || pop.problem) return undefined;
  const items = (await readTopItems(objects, pop.uri, top)) ?? [];
  const prevUri = previous.get(pop.key);
  let rows: TopItemRow[] = items.map((i) => ({ ...i, change: 'unknown' as const }));
  let dropped: TopItemsSection['dropped'] = [];
  let prevInfo: TopItemsSection['previous'];
  if (prevUri !== undefined) {
    const lookup = await lookupRanks(objects, prevUri, new Set(items.map((i) => i.item_id)), top).catch(() => undefined);
    prevInfo = { version: versionOfUri(prevUri), uri: prevUri, available: lookup !== undefined };
    if (lookup) {
      rows = items.map((i) => {
        const before = lookup.found.get(i.item_id);
        if (!before) return { ...i, change: lookup.complete ? ('new' as const) : ('unknown' as const) };
        const move = before.rank - i.rank;
        return { ...i, previous_rank: before.rank, previous_count: before.count, change: move > 0 ? ('up' as const) : move < 0 ? ('down' as const) : ('same' as const), move };
      });
      const nowRank = new Map(items.map((i) => [i.item_id, i.rank]));
      dropped = lookup.top.filter((p) => !nowRank.has(p.item_id)).map((p) => ({ item_id: p.item_id, previous_rank: p.rank, previous_count: p.count }));
    }
  }
  return { key: pop.key, version: pop.version, ...(prevInfo ? { previous: prevInfo } : {}), items: rows, dropped };
}

/** Strongest co-occurrence neighbours of the first `neighborItems` top items (`neighbors` each). */
export async function neighborsSection(objects: ObjectStorage, live: readonly LiveArtifact[], topItems: TopItemsSection | undefined, neighborItems: number, neighbors: number): Promise<NeighborsSection | undefined> {
  const cooc = live.find((a) => a.key === 'cooc') ?? live.find((a) => a.type === 'cooc');
  if (!(cooc && !cooc.problem && topItems && topItems.items.length > 0 && neighborItems > 0)) return undefined;
  const wanted = topItems.items.slice(0, neighborItems);
  const found = (await readNeighbors(objects, cooc.uri, wanted.map((i) => i.item_id), neighbors)) ?? new Map();
  return {
    key: cooc.key,
    version: cooc.version,
    rows: wanted.map((i) => {
      const row = found.get(i.item_id);
      return { rank: i.rank, item_id: i.item_id, neighbors: row?.neighbors ?? [], neighbors_total: row?.total ?? 0 };
    }),
  };
}
