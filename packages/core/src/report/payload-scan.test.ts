import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { scanArtifactRows } from './payload-scan.js';

const encoder = new TextEncoder();

/** Splits bytes into chunks at the given cut points, as a stream would deliver them. */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    if (cut > at) yield bytes.subarray(at, cut);
    at = Math.max(at, cut);
  }
  if (at < bytes.length) yield bytes.subarray(at);
}

async function scanAll(text: string, cuts: number[] = []) {
  const rows: unknown[] = [];
  const scan = await scanArtifactRows(chunked(encoder.encode(text), cuts), (row) => void rows.push(row));
  return { rows, scan };
}

// Ids with the characters that matter to a byte scanner: quotes, backslashes, brackets, commas, non-ASCII.
const id = fc.string({ unit: fc.constantFrom('a', 'Z', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', 'é', '😀', '\u2028', '<'), minLength: 1, maxLength: 8 });

const artifact = fc.record({
  kind: fc.constantFrom<Gen['kind'][]>('items', 'neighbors', 'users'),
  rows: fc.array(fc.record({ id, n: fc.nat(), list: fc.array(fc.record({ id, n: fc.integer({ min: 0, max: 1e9 }) }), { maxLength: 4 }) }), { maxLength: 12 }),
  segment: fc.option(id, { nil: undefined }),
});

type Gen = { kind: 'items' | 'neighbors' | 'users'; rows: { id: string; n: number; list: { id: string; n: number }[] }[]; segment: string | undefined };

function build(a: Gen): Record<string, unknown> {
  const rows =
    a.kind === 'items'
      ? a.rows.map((r) => ({ item_id: r.id, count: r.n }))
      : a.kind === 'neighbors'
        ? a.rows.map((r) => ({ item_id: r.id, items: r.list.map((x) => ({ item_id: x.id, count: x.n })) }))
        : a.rows.map((r) => ({ user_id: r.id, items: r.list.map((x) => ({ item_id: x.id, score: x.n })) }));
  return {
    v: 1,
    artifact_type: a.kind === 'items' ? 'popularity' : a.kind === 'neighbors' ? 'cooc' : 'implicit',
    tenant: 't',
    surface: 's',
    ...(a.segment !== undefined ? { segment: a.segment } : {}),
    window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
    [a.kind]: rows,
    build: { built_at: '2026-01-02T00:00:00Z', version: 'abc' },
  };
}

describe('scanArtifactRows', () => {
  test('rows and header equal JSON.parse for compact and pretty blobs, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(artifact, fc.boolean(), fc.array(fc.nat(), { maxLength: 20 }), async (a, pretty, cuts) => {
        const value = build(a);
        const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        const { rows, scan } = await scanAll(text, cuts);
        expect(rows).toEqual(value[a.kind]);
        expect(scan).toMatchObject({ payloadKey: a.kind, rows: rows.length, complete: true });
        const { [a.kind]: _payload, ...header } = value;
        expect(scan.header).toEqual(header);
      }),
      { numRuns: 300 },
    );
  });

  test('one byte per chunk still works (every state crosses a boundary)', async () => {
    const text = JSON.stringify({ v: 1, artifact_type: 'popularity', window: { start: 'a', end: 'b' }, items: [{ item_id: 'x"]}', count: 12 }, { item_id: '\\', count: 3 }], build: { version: 'v' } }, null, 2);
    const cuts = Array.from({ length: text.length }, (_, i) => i);
    const { rows, scan } = await scanAll(text, cuts);
    expect(rows).toEqual([{ item_id: 'x"]}', count: 12 }, { item_id: '\\', count: 3 }]);
    expect(scan.header).toEqual({ v: 1, artifact_type: 'popularity', window: { start: 'a', end: 'b' }, build: { version: 'v' } });
  });

  test('a visitor that returns false stops the read: later chunks are never pulled', async () => {
    const text = JSON.stringify({ v: 1, items: Array.from({ length: 100 }, (_, i) => ({ item_id: `i${i}`, count: 100 - i })) });
    const bytes = encoder.encode(text);
    let pulled = 0;
    async function* stream() {
      for (let at = 0; at < bytes.length; at += 64) {
        pulled++;
        yield bytes.subarray(at, at + 64);
      }
    }
    const seen: unknown[] = [];
    const scan = await scanArtifactRows(stream(), (row) => seen.push(row) < 3);
    expect(seen).toHaveLength(3);
    expect(scan.complete).toBe(false);
    expect(pulled).toBeLessThan(Math.ceil(bytes.length / 64));
  });

  test.each([
    ['not an object', '[1,2]', /does not start with "\{"/],
    ['truncated', '{"v":1,"items":[{"item_id":"a","count":1}', /ends before its closing/],
    ['empty', '', /is empty/],
    ['a broken row', '{"v":1,"items":[{"item_id":"a",count:1}]}', /row 0/],
    ['trailing bytes', '{"v":1,"items":[]} x', /after the end/],
  ])('rejects %s', async (_name, text, message) => {
    await expect(scanAll(text)).rejects.toThrow(message);
  });
});
