import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RecsysError } from '../errors.js';
import { resolveLimits } from '../limits.js';
import type { Sha256Factory } from '../ports.js';
import { parseCatalog, type Catalog } from '../catalog/catalog.js';
import { checkCatalogGate } from '../validate/gates.js';
import { EventTable } from './event-table.js';
import { catalogForSurface, computeContentSim } from './content-sim.js';
import { computeArtifacts, type ArtifactTarget } from './artifacts.js';

const enc = new TextEncoder();
async function* once(text: string): AsyncGenerator<Uint8Array> {
  yield enc.encode(text);
}
const csv = (text: string) => parseCatalog(once(text), 'csv', 'mem.csv');
const noExposure = () => 0;

// apps/cli/sample-data/catalog/demo.csv
const DEMO = `item_id,title,tags,namespace
A,"Alpha, the first","Red|Sale; red",home
B,Beta,"blue, Summer",
C,Gamma,Green|SALE,home
D,"Delta ""the fourth""",red|blue,
E,Epsilon (another surface),green,search
`;

describe('content_sim', () => {
  it('demo catalog for surface home, computed by hand', async () => {
    expect(computeContentSim(await csv(DEMO), 'home', resolveLimits(), noExposure)).toEqual([
      { item_id: 'A', tags: ['red', 'sale'] },
      { item_id: 'B', tags: ['blue', 'summer'] },
      { item_id: 'C', tags: ['green', 'sale'] },
      { item_id: 'D', tags: ['red', 'blue'] },
    ]);
    expect(computeContentSim(await csv(DEMO), 'search', resolveLimits(), noExposure).map((i) => i.item_id)).toEqual(['B', 'D', 'E']);
  });

  it('skips other namespaces and tagless rows; a row for the surface beats one without namespace', async () => {
    const c = await csv('item_id,tags,namespace\nX,generic,\nX,specific,web\nY,,web\nY,fallback,\nZ,z,app\n\u{1F600},e,\n\uE000,p,\n');
    const s = catalogForSurface(c, 'web');
    expect(s.items.map((i) => [i.item_id, i.tags])).toEqual([
      ['X', ['specific']],
      ['Y', ['fallback']],
      ['\uE000', ['p']],
      ['\u{1F600}', ['e']],
    ]);
    expect([s.other_namespace, s.no_tags, s.overridden]).toEqual([1, 1, 1]);
  });

  it('cut to max_items_per_artifact keeps the most exposed items, then sorts by item_id', async () => {
    const c = await csv('item_id,tags\na,t\nb,t\nc,t\nd,t\n');
    const exposures = (id: string) => ({ a: 0, b: 5, c: 0, d: 7 })[id] ?? 0;
    expect(computeContentSim(c, 's', resolveLimits({ max_items_per_artifact: 3 }), exposures).map((i) => i.item_id)).toEqual(['a', 'b', 'd']);
    expect(computeContentSim(c, 's', resolveLimits({ max_items_per_artifact: 3 }), noExposure).map((i) => i.item_id)).toEqual(['a', 'b', 'c']);
  });

  it('shuffled catalog rows ⇒ same version', async () => {
    const sha256: Sha256Factory = () => {
      const h = createHash('sha256');
      return { update: (d) => void h.update(d), digest: () => h.digest('hex') };
    };
    const target: ArtifactTarget = { scope: { tenant: 't', surface: 'web' }, segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
    const version = async (rows: string[]) => {
      const catalog = await csv(`id,tags,namespace\n${rows.join('\n')}\n`);
      return computeArtifacts(new EventTable(), ['content_sim'], target, resolveLimits(), 'x', sha256, { catalog })[0]!.version;
    };
    const rowArb = fc.tuple(fc.constantFrom('a', 'b', 'é', '😀', '\uE000', '10', '9'), fc.constantFrom('', 'web', 'app'), fc.array(fc.constantFrom('X', 'y', ' z ', 'Y'), { maxLength: 3 }));
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(rowArb, { selector: ([id, ns]) => `${id}|${ns}`, maxLength: 12 }).chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))),
        async ([rows, shuffled]) => {
          const line = ([id, ns, tags]: [string, string, string[]]) => `${id},"${tags.join('|')}",${ns}`;
          expect(await version(shuffled.map(line))).toBe(await version(rows.map(line)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('checkCatalogGate', () => {
  const gateError = (c: Catalog, surface: string, ratio?: number) => {
    try {
      checkCatalogGate(c, surface, resolveLimits(ratio === undefined ? {} : { max_bad_event_ratio: ratio }));
      return undefined;
    } catch (error) {
      return error as RecsysError;
    }
  };

  it('blocks (exit 3) when malformed rows exceed max_bad_event_ratio, naming the lines', async () => {
    const c = await csv('item_id,tags\nA,a\nB\nC,c\n"D,d\n');
    const error = gateError(c, 's')!;
    expect(error.exitCode).toBe(3);
    expect(error.context.gate).toBe('catalog_bad_ratio');
    expect(error.message).toContain('2 of 4 rows malformed');
    expect(error.message).toContain('line 3: field_count');
    expect(error.message).toContain('line 5: bad_quoting');
    expect(gateError(c, 's', 0.5)).toBeUndefined();
  });

  it('blocks when no item applies to the surface', async () => {
    const c = await csv('item_id,tags,namespace\nA,a,app\nB,,\n');
    expect(gateError(c, 'web')?.context.gate).toBe('catalog_empty');
    expect(gateError(c, 'app')).toBeUndefined();
  });
});
