// The streaming byte emitter (fast path) must produce exactly the bytes of
// the contracts' object serializer (the straightforward path): the version
// hash input and the published blob, for any names and counts.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { serializeArtifact, serializeForVersion, type ArtifactV1, type PopularityArtifactV1 } from '@recsys/contracts';
import { artifactBytes, compactBlobFromHashed, jsonString, nameBytes, valuePayload, type ArtifactHeader, type PayloadSource } from './emit.js';
import { popularityPayload } from './popularity.js';
import { coocPayload, type CoocRows } from './cooc.js';

const decoder = new TextDecoder();
const text = (chunks: Iterable<Uint8Array>) => {
  let out = '';
  for (const c of chunks) out += decoder.decode(c, { stream: true });
  return out + decoder.decode();
};

const name = fc.oneof(
  fc.constantFrom('A', 'item-1', 'a<b&c>', '\u2028', '\u2029', 'é', '😀', '"q"', 'back\\slash', 'tab\t', 'nul\u0000', 'lone\ud800', '\u007f'),
  fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 4, unit: 'binary' }),
);

const header: ArtifactHeader = { type: 'popularity', tenant: 'demo', surface: 'home', segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
const build = { built_at: '2026-01-02T01:00:00Z', version: 'f'.repeat(64), source_hash: 'f'.repeat(64) };

function both(h: ArtifactHeader, payload: PayloadSource[], object: ArtifactV1) {
  const hashed = [...artifactBytes(h, payload)];
  expect(text(hashed)).toBe(serializeForVersion(object));
  expect(text(artifactBytes(h, payload, build))).toBe(serializeArtifact({ ...object, build }));
  // The compact blob, emitted, and made from the hashed chunks (what publishing writes by default).
  expect(text(artifactBytes(h, payload, build, 'compact'))).toBe(serializeArtifact({ ...object, build }, { format: 'compact' }));
  expect(text(compactBlobFromHashed(hashed, build))).toBe(serializeArtifact({ ...object, build }, { format: 'compact' }));
  // Any chunking: the blanked build tail may straddle chunks.
  const whole = Buffer.concat(hashed);
  const small = Array.from({ length: Math.ceil(whole.length / 7) }, (_, i) => whole.subarray(i * 7, i * 7 + 7));
  expect(text(compactBlobFromHashed(small, build))).toBe(serializeArtifact({ ...object, build }, { format: 'compact' }));
}

describe('nameBytes', () => {
  const plain = fc.string({ maxLength: 5, unit: fc.constantFrom('a', 'Z', '0', ' ', '~', '-', '_') });
  // Each a single character at or just past the edge of what is copied as it is: one of them among plain names
  // must send the whole array to the escaping path.
  const edge = fc.constantFrom('"', '\\', '<', '>', '&', '\u001f', '\u007f', '\u0080', 'é', '😀', '\u2028', '\ud800');
  test('name i is its JSON string literal with Go escaping, as UTF-8: plain names, and plain names with one other', () => {
    fc.assert(
      fc.property(fc.array(plain, { maxLength: 8 }), fc.option(fc.tuple(fc.nat(8), plain, edge, plain)), fc.array(name, { maxLength: 4 }), fc.boolean(), (plains, one, others, mixed) => {
        const names = [...plains];
        if (one) names.splice(Math.min(one[0], names.length), 0, one[1] + one[2] + one[3]);
        if (mixed) names.push(...others);
        const { buf, start } = nameBytes(names);
        expect(start.length).toBe(names.length + 1);
        names.forEach((n, i) => expect(decoder.decode(buf.subarray(start[i], start[i + 1])), n).toBe(jsonString(n)));
        expect(start[names.length]).toBe(buf.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('streaming emission equals the contracts serializer byte for byte', () => {
  test('popularity, for any names and counts', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { maxLength: 40 }), fc.array(fc.nat({ max: 2 ** 31 }), { minLength: 40, maxLength: 40 }), fc.boolean(), (names, counts, withSegment) => {
        const h = { ...header, segment: withSegment ? 'default' : undefined };
        const ids = Uint32Array.from(names.keys());
        const c = Uint32Array.from(counts.slice(0, names.length));
        const object = {
          v: 1,
          artifact_type: 'popularity',
          tenant: 'demo',
          surface: 'home',
          ...(withSegment ? { segment: 'default' } : {}),
          window: header.window,
          items: names.map((item_id, k) => ({ item_id, count: c[k]! })),
          build: { built_at: '', version: '' },
        } as ArtifactV1;
        both(h, [popularityPayload({ names, ids, counts: c })], object);
      }),
      { numRuns: 300 },
    );
  });

  test('cooc, including empty rows and empty artifacts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 12 }),
        fc.array(fc.array(fc.tuple(fc.nat({ max: 11 }), fc.nat({ max: 1000 })), { maxLength: 5 }), { maxLength: 12 }),
        (names, rowSpecs) => {
          const rowsUsed = rowSpecs.slice(0, names.length);
          const nbr: number[] = [];
          const cnt: number[] = [];
          const start: number[] = [];
          const len: number[] = [];
          for (const spec of rowsUsed) {
            start.push(nbr.length);
            const valid = spec.filter(([i]) => i < names.length);
            len.push(valid.length);
            for (const [i, c] of valid) {
              nbr.push(i);
              cnt.push(c);
            }
          }
          const rows: CoocRows = {
            names,
            rowIds: Uint32Array.from(rowsUsed.keys()),
            start: Uint32Array.from(start),
            len: Uint32Array.from(len),
            nbr: Uint32Array.from(nbr),
            cnt: Uint32Array.from(cnt),
          };
          const object = {
            v: 1,
            artifact_type: 'cooc',
            tenant: 'demo',
            surface: 'home',
            segment: 'default',
            window: header.window,
            neighbors: rowsUsed.map((_, r) => ({
              item_id: names[r]!,
              items: Array.from({ length: len[r]! }, (_, k) => ({ item_id: names[nbr[start[r]! + k]!]!, count: cnt[start[r]! + k]! })),
            })),
            build: { built_at: '', version: '' },
          } as ArtifactV1;
          both({ ...header, type: 'cooc' }, [coocPayload(rows)], object);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a generic value payload, and output larger than one 1 MiB chunk', () => {
    const names = Array.from({ length: 30_000 }, (_, i) => `item-${i}-${'x'.repeat(i % 17)}`);
    const ids = Uint32Array.from(names.keys());
    const counts = Uint32Array.from(names.keys(), (i) => i * 7919);
    const object = {
      v: 1,
      artifact_type: 'popularity',
      tenant: 'demo',
      surface: 'home',
      segment: 'default',
      window: header.window,
      items: names.map((item_id, k) => ({ item_id, count: counts[k]! })),
      build: { built_at: '', version: '' },
    } as PopularityArtifactV1;
    both(header, [popularityPayload({ names, ids, counts })], object);
    both(header, [valuePayload('items', object.items)], object);
    const chunks = [...artifactBytes(header, [popularityPayload({ names, ids, counts })], build)];
    expect(chunks.length).toBeGreaterThan(1);
    const whole = createHash('sha256');
    for (const c of chunks) whole.update(c);
    expect(whole.digest('hex')).toBe(createHash('sha256').update(serializeArtifact({ ...object, build })).digest('hex'));
  });
});
