// Property tests of the version hash (DESIGN §3.4).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ARTIFACT_TYPES,
  computeArtifactVersion,
  manifestKey,
  orderArtifact,
  parseArtifact,
  parseManifestKey,
  safeParseManifest,
  serializeArtifact,
  serializeForVersion,
  type ArtifactBuild,
  type ArtifactV1,
} from '../src/index.js';
import { seededRandom } from '@recsys/vitest-config/seeded-random';

const BLANK: ArtifactBuild = { built_at: '', version: '' };

// Ids: any well-formed Unicode (graphemes include emoji, combining marks,
// U+2028, <, >, &) without surrounding whitespace, as the schemas require.
const id = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).map((s) => s.trim()).filter((s) => s.length > 0);
const segmentChars = fc.constantFrom(...'abcXYZ019._-'.split(''));
const pathSegment = fc.string({ unit: segmentChars, minLength: 1, maxLength: 20 }).filter((s) => s !== '.' && s !== '..');
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const score = fc.oneof(fc.nat({ max: 1_000_000 }), fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)));
const day = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-30T00:00:00Z'), noInvalidDate: true }).map((d) => Math.floor(d.getTime() / 86_400_000) * 86_400_000);
const window = fc.tuple(day, fc.integer({ min: 1, max: 30 })).map(([start, days]) => ({
  start: new Date(start).toISOString().slice(0, 19) + 'Z',
  end: new Date(start + days * 86_400_000).toISOString().slice(0, 19) + 'Z',
}));
const build = fc.record({ built_at: fc.string(), version: fc.string(), source_hash: fc.string() }, { requiredKeys: ['built_at', 'version'] });
const itemCounts = fc.array(fc.record({ item_id: id, count }), { maxLength: 6 });
const userItems = fc.array(fc.record({ user_id: id, items: fc.array(fc.record({ item_id: id, score }), { maxLength: 4 }) }), { maxLength: 4 });

const header = fc.record(
  { v: fc.constant(1 as const), tenant: pathSegment, surface: pathSegment, segment: pathSegment, window, build },
  { requiredKeys: ['v', 'tenant', 'surface', 'window', 'build'] },
);

const artifact: fc.Arbitrary<ArtifactV1> = fc.oneof(
  fc.tuple(header, itemCounts).map(([h, items]) => ({ ...h, artifact_type: 'popularity' as const, items })),
  fc.tuple(header, fc.array(fc.record({ item_id: id, items: itemCounts }), { maxLength: 4 })).map(([h, neighbors]) => ({ ...h, artifact_type: 'cooc' as const, neighbors })),
  fc.tuple(header, userItems).map(([h, users]) => ({ ...h, artifact_type: 'implicit' as const, users })),
  fc.tuple(header, userItems).map(([h, users]) => ({ ...h, artifact_type: 'session_seq' as const, users })),
  fc.tuple(header, fc.array(fc.record({ item_id: id, tags: fc.array(id, { maxLength: 4 }) }), { maxLength: 4 })).map(([h, items]) => ({
    ...h,
    artifact_type: 'content_sim' as const,
    items,
  })),
);

/** Rebuilds every object of `value` with its keys in a random order. */
function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, shuffleKeys(v, random)]));
}

describe('version hash properties', () => {
  it('generated artifacts satisfy the schema (sanity check of the generator)', () => {
    fc.assert(fc.property(artifact, (a) => void parseArtifact(a)));
  });

  it('serializeForVersion is compact valid JSON that round-trips to the ordered artifact with blank build', () => {
    fc.assert(
      fc.property(artifact, (a) => {
        const text = serializeForVersion(a);
        const reparsed: unknown = JSON.parse(text);
        expect(JSON.stringify(reparsed)).toBe(JSON.stringify(orderArtifact(a, BLANK)));
        expect(text).not.toMatch(/[<>&\u2028\u2029]/);
        expect(text).toBe(JSON.stringify(reparsed).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
      }),
    );
  });

  it('the version does not depend on the key order of the input', async () => {
    await fc.assert(
      fc.asyncProperty(artifact, fc.integer(), async (a, seed) => {
        const shuffled = shuffleKeys(a, seededRandom(seed)) as ArtifactV1;
        expect(serializeForVersion(shuffled)).toBe(serializeForVersion(a));
        expect(await computeArtifactVersion(shuffled)).toBe(await computeArtifactVersion(a));
      }),
      { numRuns: 50 },
    );
  });

  it('the version does not depend on build', async () => {
    await fc.assert(
      fc.asyncProperty(artifact, build, async (a, other) => {
        expect(await computeArtifactVersion({ ...a, build: other })).toBe(await computeArtifactVersion(a));
      }),
      { numRuns: 50 },
    );
  });

  it('serializeArtifact output parses back equal and hashes the same', async () => {
    await fc.assert(
      fc.asyncProperty(artifact, async (a) => {
        const blob = serializeArtifact(a);
        expect(blob.endsWith('\n')).toBe(false);
        const reparsed = parseArtifact(JSON.parse(blob));
        expect(reparsed).toEqual(orderArtifact(a));
        expect(serializeArtifact(reparsed)).toBe(blob);
        expect(await computeArtifactVersion(reparsed)).toBe(await computeArtifactVersion(a));
      }),
      { numRuns: 50 },
    );
  });

  it('different content gives a different version', async () => {
    await fc.assert(
      fc.asyncProperty(artifact, artifact, async (a, b) => {
        fc.pre(serializeForVersion(a) !== serializeForVersion(b));
        expect(await computeArtifactVersion(a)).not.toBe(await computeArtifactVersion(b));
      }),
      { numRuns: 30 },
    );
  });
});

describe('manifest key properties', () => {
  it('manifestKey and parseManifestKey are inverse, and the schema accepts exactly the parseable keys', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ARTIFACT_TYPES), pathSegment, (type, segment) => {
        const key = manifestKey(type, segment);
        expect(parseManifestKey(key)).toEqual({ type, segment });
      }),
    );
    const anyKey = fc.oneof(fc.string({ unit: fc.constantFrom(...'ab_@.-/Dd9 e'.split('')), maxLength: 12 }), fc.string());
    fc.assert(
      fc.property(anyKey, (key) => {
        const manifest = { v: 1, tenant: 't', surface: 's', current: { [key]: 's3://bucket/key.json' }, updated_at: '2026-01-01T00:00:00Z' };
        expect(safeParseManifest(manifest).success).toBe(parseManifestKey(key) !== undefined);
      }),
      { numRuns: 500 },
    );
  });
});
