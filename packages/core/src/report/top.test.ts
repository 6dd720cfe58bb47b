import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { blobBytes, cooc, popularity, publish, scope, testEnv } from '../testing/fixtures.js';
import { rollback } from '../ops/rollback.js';
import { lookupRanks, readNeighbors, readTopItems } from './top.js';
import { buildReport } from './report.js';
import { renderReportHtml } from './html.js';
import { MemoryStorage } from '../testing/memory-storage.js';

/** A storage whose reads come in 16-byte chunks and count how many were pulled. */
class ChunkedStorage extends MemoryStorage {
  pulled = 0;
  override async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const data = await this.get(key);
    if (!data) return undefined;
    const count = () => this.pulled++;
    return (async function* () {
      for (let at = 0; at < data.length; at += 16) {
        count();
        yield data.subarray(at, at + 16);
      }
    })();
  }
}

function stored(bytes: Uint8Array): { storage: ChunkedStorage; uri: string; chunks: number } {
  const storage = new ChunkedStorage('b');
  void storage.put('blob.json', bytes);
  return { storage, uri: storage.uri('blob.json'), chunks: Math.ceil(bytes.length / 16) };
}

describe('top-N readers read only what they show', () => {
  const env = testEnv();
  const items = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`item-${String(i).padStart(3, '0')}`, 1000 - i]));

  test('readTopItems stops after n rows', async () => {
    const { storage, uri, chunks } = stored(blobBytes(popularity(env, items)));
    const top = await readTopItems(storage, uri, 3);
    expect(top).toEqual([
      { rank: 1, item_id: 'item-000', count: 1000 },
      { rank: 2, item_id: 'item-001', count: 999 },
      { rank: 3, item_id: 'item-002', count: 998 },
    ]);
    expect(storage.pulled).toBeLessThan(chunks / 10);
  });

  test('lookupRanks reads until every id is found; a missing id reads it all', async () => {
    const { storage, uri, chunks } = stored(blobBytes(popularity(env, items)));
    const found = await lookupRanks(storage, uri, new Set(['item-010', 'item-002']), 5);
    expect(found!.complete).toBe(false);
    expect(found!.found.get('item-010')).toEqual({ rank: 11, item_id: 'item-010', count: 990 });
    expect(found!.top.map((i) => i.item_id)).toEqual(['item-000', 'item-001', 'item-002', 'item-003', 'item-004']);
    expect(storage.pulled).toBeLessThan(chunks / 5);
    const missing = await lookupRanks(storage, uri, new Set(['nope']), 5);
    expect(missing!.complete).toBe(true);
    expect(missing!.found.size).toBe(0);
  });

  test('readNeighbors stops after the greatest wanted id (rows are in UTF-8 order)', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    const { storage, uri, chunks } = stored(blobBytes(cooc(env, ids)));
    const rows = await readNeighbors(storage, uri, ['n03', 'n01'], 2);
    expect(rows!.get('n01')).toEqual({ neighbors: [{ item_id: 'n00', count: 1 }, { item_id: 'n02', count: 1 }], total: 59 });
    expect([...rows!.keys()].sort()).toEqual(['n01', 'n03']);
    expect(storage.pulled).toBeLessThan(chunks / 5);
  });

  test('a missing blob is undefined, not an error', async () => {
    expect(await readTopItems(new MemoryStorage('x'), 's3://x/none.json', 3)).toBeUndefined();
  });
});

describe('buildReport', () => {
  test('rank moves against the version served before, the rollback in the timeline, and a blocked ingest day', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 5, B: 4, C: 3 }, { day: '2026-01-01' })], { day: '2026-01-01' });
    await publish(env, [popularity(env, { B: 9, A: 5, D: 4, C: 1 }, { day: '2026-01-02' })], { day: '2026-01-02' });
    await rollback(env, { ...scope, type: 'popularity', steps: 1, reason: 'bad <data>' });
    await publish(env, [popularity(env, { C: 8, A: 5, B: 4 }, { day: '2026-01-03' })], { day: '2026-01-03' });
    // Ingest reports in the staging area: one good day, one with too many rejected lines.
    const counts = (read: number, rejected: number) => ({ read, accepted: read - rejected, duplicates: 0, out_of_window: 0, other_scope: 0, rejected, rejected_by_reason: rejected ? { invalid_json: rejected } : {} });
    const report = (day: string, c: ReturnType<typeof counts>) => ({ v: 1, ...scope, day, sources: [], counts: c, canonical: { key: 'k', uri: 'u', sha256: '0'.repeat(64), bytes: 0 } });
    await env.areas.artifacts.put(keys.ingestReport(scope, '2026-01-03'), JSON.stringify(report('2026-01-03', counts(10, 0))));
    await env.areas.artifacts.put(keys.ingestReport(scope, '2026-01-04'), JSON.stringify(report('2026-01-04', counts(10, 5))));

    const doc = await buildReport(env, { days: 3 });
    const s = doc.scopes[0]!;
    expect(s.top_items!.items.map((i) => [i.item_id, i.change, i.previous_rank])).toEqual([
      // Served before: the rolled-back-to day-1 version (A, B, C).
      ['C', 'up', 3],
      ['A', 'down', 1],
      ['B', 'down', 2],
    ]);
    expect(s.timeline[0]!.events.map((e) => [e.seq, e.reason, e.message])).toEqual([
      [4, 'publish', undefined],
      [3, 'rollback', 'bad <data>'],
      [2, 'publish', undefined],
      [1, 'publish', undefined],
    ]);
    expect(s.ingest.days.map((d) => [d.day, d.outcome, d.gate])).toEqual([
      ['2026-01-02', 'published', undefined],
      ['2026-01-03', 'published', undefined],
      ['2026-01-04', 'blocked', 'max_bad_event_ratio'],
    ]);
    // The HTML escapes the rollback reason (user data).
    const html = renderReportHtml(doc);
    expect(html).toContain('bad &lt;data&gt;');
    expect(html).not.toContain('bad <data>');
  });
});
