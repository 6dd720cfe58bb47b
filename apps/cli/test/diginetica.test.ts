// Independent check on real data: popularity and cooc of the bundled
// Diginetica sample equal a brute-force recomputation from the original CSV
// (tooling/data/diginetica/train-item-views.csv), parsed here with plain
// string splitting and counted with plain Maps/Sets — no @recsys code.
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { planRun, resolveLimits, runPipeline, silentLogger, systemClock, type PipelineEnv } from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import { digineticaEventsByDay } from '@recsys/vitest-config/diginetica';
import { SAMPLE_RAW, readArtifact, runJson, tempDir, writeJson } from './helpers.js';


interface Expected {
  events: number;
  popularity: string[];
  /** Rows in order, `[item_id, ["neighbour:count", …]]` (not an object: numeric ids would reorder). */
  cooc: [string, string[]][];
}

const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Per UTC day: the exact popularity and cooc payloads, as "item:count" strings. */
function bruteForce(): Map<string, Expected> {
  // Distinct events per day (the pipeline drops exact duplicates), from the CSV checked against its hash.
  const byDay = digineticaEventsByDay();
  const out = new Map<string, Expected>();
  for (const [day, events] of byDay) {
    const exposures = new Map<string, number>();
    const sessions = new Map<string, Set<string>>();
    for (const { session, item } of events) {
      exposures.set(item, (exposures.get(item) ?? 0) + 1);
      sessions.set(session, (sessions.get(session) ?? new Set()).add(item));
    }
    const popularity = [...exposures.entries()].sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b)).map(([i, c]) => `${i}:${c}`);
    const together = new Map<string, Map<string, number>>();
    for (const items of sessions.values()) {
      for (const a of items) {
        for (const b of items) {
          if (a === b) continue;
          const row = together.get(a) ?? new Map<string, number>();
          row.set(b, (row.get(b) ?? 0) + 1);
          together.set(a, row);
        }
      }
    }
    const cooc: [string, string[]][] = [...together.keys()].sort(utf8).map((item) => [
      item,
      [...together.get(item)!.entries()]
        .sort(([a, ca], [b, cb]) => cb - ca || utf8(a, b))
        .slice(0, 100) // limits.max_neighbors_per_item, set explicitly below (the default is now Go's 50)
        .map(([i, c]) => `${i}:${c}`),
    ]);
    out.set(day, { events: events.length, popularity, cooc });
  }
  return out;
}

/**
 * The limits the brute force assumes: 100 neighbours, no row cap. Explicit
 * since the defaults became the Go implementation's (50 and 1000), so the
 * expected values and versions of this test stay what they were.
 */
const BRUTE_FORCE_LIMITS = { max_neighbors_per_item: 100, max_items_per_artifact: 1_000_000 };

const payloads = (popularityUri: string, coocUri: string) => {
  const p = readArtifact(popularityUri);
  const c = readArtifact(coocUri);
  if (p.artifact_type !== 'popularity' || c.artifact_type !== 'cooc') throw new Error('wrong artifact types');
  return {
    popularity: p.items.map((i) => `${i.item_id}:${i.count}`),
    cooc: c.neighbors.map((r): [string, string[]] => [r.item_id, r.items.map((i) => `${i.item_id}:${i.count}`)]),
  };
};

describe('Diginetica sample: pipeline output equals a brute-force recomputation', () => {
  let expected: Map<string, Expected>;
  beforeAll(() => {
    expected = bruteForce();
  });

  test('the sample covers 142 days and 2016-05-31 is the busiest', () => {
    expect(expected.size).toBe(142);
    const busiest = [...expected.entries()].sort(([, a], [, b]) => b.events - a.events)[0]!;
    expect(busiest[0]).toBe('2016-05-31');
  });

  test('through the CLI: the busiest day, the first and last day, a one-event day and a mid-sample day', async () => {
    const quiet = [...expected.entries()].find(([, e]) => e.events === 1)![0];
    const days = ['2016-05-31', '2016-01-03', '2016-06-01', quiet, '2016-03-30'];
    const dir = tempDir();
    const config = writeJson(dir, 'config.json', { out_dir: './out', raw_events_dir: SAMPLE_RAW, limits: BRUTE_FORCE_LIMITS });
    for (const day of days) {
      const r = await runJson(['--config', config, '--tenant', 'diginetica', '--surface', 'web', '--start', day, '--end', day], { cwd: dir });
      expect(r.code, `${day}: ${r.stderr}`).toBe(0);
      const result = r.json.days[0]!;
      const want = expected.get(day)!;
      expect(result.counts.accepted, day).toBe(want.events);
      const uri = (type: string) => result.artifacts.find((a) => a.type === type)!.uri;
      const got = payloads(uri('popularity'), uri('cooc'));
      expect(got.popularity, day).toEqual(want.popularity);
      expect(got.cooc, day).toEqual(want.cooc);
    }
  });

  test('in process, every day of the sample', async () => {
    const dir = tempDir();
    const out = (area: string) => new FsObjectStorage(join(dir, area), { noSync: true });
    const env: PipelineEnv = {
      areas: { raw: new FsObjectStorage(SAMPLE_RAW), canonical: out('canonical'), quarantine: out('quarantine'), artifacts: out('artifacts'), objects: out('objects'), registry: out('registry'), checkpoints: out('checkpoints') },
      limits: resolveLimits(BRUTE_FORCE_LIMITS),
      clock: systemClock,
      logger: silentLogger,
      identity: { runId: 'diginetica-test', host: 'test', user: 'test', tool: { name: 'recsys-pipelines', version: 'test' } },
      sha256: nodeSha256,
    };
    let checked = 0;
    for (const [day, want] of [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const plan = await planRun(env, { tenant: 'diginetica', surface: 'web', start: day, end: day, types: ['popularity', 'cooc'] });
      const [result] = await runPipeline(env, plan);
      expect(result!.counts.accepted, day).toBe(want.events);
      const uri = (type: string) => result!.artifacts.find((a) => a.type === type)!.uri;
      const got = payloads(uri('popularity'), uri('cooc'));
      expect(got.popularity, day).toEqual(want.popularity);
      expect(got.cooc, day).toEqual(want.cooc);
      checked++;
    }
    expect(checked).toBe(142);
  });
});
