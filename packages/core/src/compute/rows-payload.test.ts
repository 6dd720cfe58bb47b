import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { serializeArtifact, serializeForVersion, type ArtifactV1 } from '@recsys/contracts';
import { artifactBytes, type ArtifactHeader } from './emit.js';
import { rowsPayload } from './rows-payload.js';

const header: ArtifactHeader = { type: 'implicit', tenant: 't', surface: 's', segment: 'default', window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' } };
const text = (chunks: Iterable<Uint8Array>) => {
  const decoder = new TextDecoder();
  let out = '';
  for (const c of chunks) out += decoder.decode(c, { stream: true });
  return out + decoder.decode();
};
// Characters Go escapes, a line terminator, non-BMP, and an unpaired surrogate (written as U+FFFD).
const id = fc.string({ unit: fc.constantFrom('a', '<', '&', '>', '"', '\\', '\u2028', 'é', '😀', '\ud800', ' '), minLength: 1, maxLength: 6 });

describe('rowsPayload', () => {
  it('emits exactly what the contracts serializer writes, compact and pretty', () => {
    const users = fc.array(fc.record({ user_id: id, items: fc.array(fc.record({ item_id: id, score: fc.nat(1000) }), { maxLength: 3 }) }), { maxLength: 5 });
    fc.assert(
      fc.property(users, (rows) => {
        const artifact = { v: 1, artifact_type: 'implicit', tenant: 't', surface: 's', segment: 'default', window: header.window, users: rows, build: { built_at: 'b', version: 'v', source_hash: 'v' } } as ArtifactV1;
        expect(text(artifactBytes(header, [rowsPayload('users', rows)]))).toBe(serializeForVersion(artifact));
        expect(text(artifactBytes(header, [rowsPayload('users', rows)], { built_at: 'b', version: 'v', source_hash: 'v' }))).toBe(serializeArtifact(artifact));
      }),
      { numRuns: 300 },
    );
  });

  it('hands out full chunks while writing a large payload', () => {
    const rows = Array.from({ length: 40_000 }, (_, k) => ({ item_id: `item-${k}`, tags: ['a', 'b'] }));
    const chunks = [...artifactBytes({ ...header, type: 'content_sim' }, [rowsPayload('items', rows)], { built_at: 'b', version: 'v' })];
    expect(chunks.length).toBeGreaterThan(1);
    expect((JSON.parse(text(chunks)) as { items: unknown }).items).toEqual(rows);
  });
});
