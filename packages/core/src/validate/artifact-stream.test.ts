// The streamed artifact check must agree with the whole-document path
// (JSON.parse + the artifact contract + computeArtifactVersion) on what it
// accepts, the version it computes and where it reports a problem, while
// holding only a batch of the payload at a time.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { computeArtifactVersion, ContractValidationError, parseArtifact, serializeArtifact, type ArtifactV1 } from '@recsys/contracts';
import { DEFAULT_LIMITS } from '../limits.js';
import type { ValidationGateError } from '../errors.js';
import { portableSha256 } from '../sha256-portable.js';
import { ArtifactSyntaxError, checkArtifactGateStreamed, readArtifactHeader, scanArtifact, type ArtifactSource } from './artifact-stream.js';
import { checkArtifactGate } from './gates.js';

const encoder = new TextEncoder();
const nodeSha = () => {
  const h = createHash('sha256');
  return { update: (d: string | Uint8Array) => void h.update(d), digest: () => h.digest('hex') };
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A source that yields `bytes` in chunks of `size` (and counts how often it was opened). */
function source(bytes: Uint8Array, size: number): ArtifactSource & { opens: number } {
  const open = async () => {
    open.opens++;
    return (async function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
    })();
  };
  open.opens = 0;
  return open;
}

const window = { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };

async function withVersion(a: ArtifactV1): Promise<ArtifactV1> {
  const version = await computeArtifactVersion(a);
  return { ...a, build: { built_at: '2026-01-02T01:00:00Z', version } } as ArtifactV1;
}

function cooc(rows: number, per: number, name = (k: number) => `item-${k}`): ArtifactV1 {
  return {
    v: 1,
    artifact_type: 'cooc',
    tenant: 'demo',
    surface: 'home',
    segment: 'default',
    window,
    neighbors: Array.from({ length: rows }, (_, r) => ({ item_id: name(r), items: Array.from({ length: per }, (_, k) => ({ item_id: name(r + k + 1), count: per - k })) })),
    build: { built_at: '', version: '' },
  } as ArtifactV1;
}

function popularity(rows: number): ArtifactV1 {
  return { v: 1, artifact_type: 'popularity', tenant: 'demo', surface: 'home', segment: 'default', window, items: Array.from({ length: rows }, (_, k) => ({ item_id: `p${k}`, count: 10 * rows - k })), build: { built_at: '', version: '' } } as ArtifactV1;
}

/** What the whole-document path says about some bytes. */
/** `base` with one byte replaced, inserted or deleted at `at`. */
function editByte(base: Uint8Array, at: number, byte: number, op: 'replace' | 'insert' | 'delete'): Uint8Array {
  if (op === 'replace') {
    const bytes = base.slice();
    bytes[at] = byte;
    return bytes;
  }
  const bytes = new Uint8Array(base.length + (op === 'insert' ? 1 : -1));
  bytes.set(base.subarray(0, at));
  if (op === 'insert') {
    bytes[at] = byte;
    bytes.set(base.subarray(at), at + 1);
  } else bytes.set(base.subarray(at + 1), at);
  return bytes;
}

async function reference(bytes: Uint8Array): Promise<{ ok: true; version: string; artifact: ArtifactV1 } | { ok: false; contract: boolean }> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, contract: false };
  }
  try {
    const artifact = parseArtifact(value);
    return { ok: true, version: await computeArtifactVersion(artifact), artifact };
  } catch (error) {
    if (ContractValidationError.isInstance(error)) return { ok: false, contract: true };
    throw error;
  }
}

describe('scanArtifact', () => {
  test('every artifact type: same version, stored hash, size, rows and header as the whole-document path', async () => {
    const artifacts: ArtifactV1[] = [
      cooc(30, 4, (k) => `i<${k}>&\u2028é😀`),
      { v: 1, artifact_type: 'popularity', tenant: 't', surface: 's', window, items: [{ item_id: 'a', count: 3 }, { item_id: 'b', count: 1 }], build: { built_at: '', version: '' } } as ArtifactV1,
      { v: 1, artifact_type: 'implicit', tenant: 't', surface: 's', segment: 'vip', window, users: [{ user_id: 'u', items: [{ item_id: 'a', score: 1.5 }] }], build: { built_at: '', version: '' } } as ArtifactV1,
      { v: 1, artifact_type: 'session_seq', tenant: 't', surface: 's', window, users: [], build: { built_at: '', version: '' } } as ArtifactV1,
      { v: 1, artifact_type: 'content_sim', tenant: 't', surface: 's', window, items: [{ item_id: 'a', tags: ['x', 'y'] }], build: { built_at: '', version: '' } } as ArtifactV1,
    ];
    for (const raw of artifacts) {
      const a = await withVersion(raw);
      const bytes = encoder.encode(serializeArtifact(a));
      for (const chunk of [1, 7, 64, 1 << 20]) {
        for (const batchBytes of [1, 100, 1 << 20]) {
          const scan = await scanArtifact(source(bytes, chunk), { sha256: nodeSha, batchBytes });
          expect(scan!.computedVersion).toBe(a.build.version);
          expect(scan!.sha256).toBe(sha(bytes));
          expect(scan!.size).toBe(bytes.length);
          const { items: _i, neighbors: _n, users: _u, ...header } = a as ArtifactV1 & Record<string, unknown>;
          expect(scan!.header).toEqual(header);
        }
      }
    }
  });

  test('a payload of many batches hashes like the whole document; rows and longest row are counted', async () => {
    const a = await withVersion(cooc(2000, 7));
    const bytes = encoder.encode(serializeArtifact(a));
    const scan = await scanArtifact(source(bytes, 4096), { sha256: portableSha256, batchBytes: 3000 });
    expect(scan).toMatchObject({ computedVersion: a.build.version, rows: 2000, maxRow: 7, sha256: sha(bytes) });
  });

  test('header keys after the payload: a second read, same version as the whole-document path', async () => {
    const a = await withVersion(cooc(50, 3));
    const { neighbors, ...rest } = a as ArtifactV1 & { neighbors: unknown };
    const text = JSON.stringify({ neighbors, ...rest }, null, 1);
    const src = source(encoder.encode(text), 33);
    const scan = await scanArtifact(src, { sha256: nodeSha, batchBytes: 200 });
    expect(src.opens).toBe(2);
    expect(scan!.computedVersion).toBe(a.build.version);
  });

  test('a bad element far into the payload is reported with its real JSON path, as the contract parser does', async () => {
    const a = cooc(500, 3) as ArtifactV1 & { neighbors: { items: { count: number }[] }[] };
    a.neighbors[437]!.items[1]!.count = -2;
    const text = serializeArtifact(a);
    let whole: ContractValidationError | undefined;
    try {
      parseArtifact(JSON.parse(text));
    } catch (error) {
      whole = error as ContractValidationError;
    }
    const streamed = await scanArtifact(source(encoder.encode(text), 1000), { batchBytes: 2000 }).catch((e: unknown) => e);
    expect(ContractValidationError.isInstance(streamed)).toBe(true);
    expect((streamed as ContractValidationError).issues).toEqual(whole!.issues);
    expect((streamed as ContractValidationError).issues[0]!.path).toBe('$.neighbors[437].items[1].count');
  });

  test('structure errors are syntax errors with their byte offset', async () => {
    const good = serializeArtifact(await withVersion(cooc(3, 2)));
    for (const bad of [good.slice(0, -1), good + 'x', good.replace('"neighbors": [', '"neighbors": [,'), '[]', '', good.replace('},\n    {', '}\n    {')]) {
      const error = await scanArtifact(source(encoder.encode(bad), 5)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArtifactSyntaxError);
    }
  });

  test('a second payload array is refused (JSON.parse would silently keep only the last)', async () => {
    const good = serializeArtifact(await withVersion(cooc(2, 1)));
    const twice = good.replace('"build":', '"neighbors": [],\n  "build":');
    const error = await scanArtifact(source(encoder.encode(twice), 64)).catch((e: unknown) => e);
    expect(ContractValidationError.isInstance(error)).toBe(true);
  });

  test('property: any single-byte edit is accepted or refused exactly as the whole-document path does, with the same version', async () => {
    const base = encoder.encode(serializeArtifact(await withVersion(cooc(4, 2, (k) => `x${k}`))));
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: base.length - 1 }), fc.constantFrom(...encoder.encode(' \n{}[],:"\\0123456789-abcenrtuxé'), 0xc3), fc.constantFrom('replace', 'insert', 'delete'), fc.nat({ max: 3 }), async (at, byte, op, chunkPick) => {
        const bytes = editByte(base, at, byte, op);
        const ref = await reference(bytes);
        const scanned = await scanArtifact(source(bytes, [1, 3, 50, 4096][chunkPick]!), { batchBytes: 40 }).then(
          (s) => ({ ok: true as const, version: s!.computedVersion }),
          (e: unknown) => ({ ok: false as const, contract: ContractValidationError.isInstance(e), syntax: e instanceof ArtifactSyntaxError }),
        );
        expect(scanned.ok).toBe(ref.ok);
        if (ref.ok && scanned.ok) expect(scanned.version).toBe(ref.version);
        if (!ref.ok && !scanned.ok) expect(scanned.contract || scanned.syntax).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  test('property: compact blobs (hashed as stored when canonical) — any single-byte edit is accepted or refused exactly as the whole-document path does', async () => {
    const bases = [
      encoder.encode(serializeArtifact(await withVersion(cooc(4, 2, (k) => `x${k}`)), { format: 'compact' })),
      encoder.encode(serializeArtifact(await withVersion(popularity(5)), { format: 'compact' })),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 1 }), fc.nat({ max: 100_000 }), fc.constantFrom(...encoder.encode(' \n{}[],:"\\0123456789-abcenrtuxé<&'), 0xc3), fc.constantFrom('replace', 'insert', 'delete'), fc.nat({ max: 3 }), async (which, where, byte, op, chunkPick) => {
        const base = bases[which]!;
        // Mostly inside the payload, where the byte path works.
        const text = new TextDecoder().decode(base);
        const from = text.indexOf(which === 0 ? '"neighbors":[' : '"items":[');
        const to = text.indexOf('],"build"');
        const at = where % 4 === 0 ? where % base.length : from + (where % (to - from));
        const bytes = editByte(base, at, byte, op);
        const ref = await reference(bytes);
        const scanned = await scanArtifact(source(bytes, [1, 3, 50, 4096][chunkPick]!), { batchBytes: 40 }).then(
          (s) => ({ ok: true as const, version: s!.computedVersion, maxRow: s!.maxRow }),
          (e: unknown) => ({ ok: false as const, contract: ContractValidationError.isInstance(e), syntax: e instanceof ArtifactSyntaxError }),
        );
        expect(scanned.ok).toBe(ref.ok);
        if (ref.ok && scanned.ok) expect(scanned.version).toBe(ref.version);
        if (!ref.ok && !scanned.ok) expect(scanned.contract || scanned.syntax).toBe(true);
      }),
      { numRuns: 800 },
    );
  });

  test('property: compact payloads cut into chunks anywhere, with or without whitespace after some commas, scan as the parsing path does', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        fc.nat({ max: 6 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }),
        fc.array(fc.tuple(fc.nat({ max: 1000 }), fc.constantFrom(' ', '\n', '  ')), { maxLength: 3 }),
        fc.constantFrom(1, 60, 300, 1 << 20),
        async (pop, rows, per, cuts, spaces, batchBytes) => {
          const a = await withVersion(pop ? popularity(rows) : cooc(rows, per, (k) => `i${k}`));
          let text = serializeArtifact(a, { format: 'compact' });
          const payloadAt = text.indexOf(pop ? '"items":[' : '"neighbors":[');
          const commas: number[] = [];
          for (let k = text.indexOf(',', payloadAt); k >= 0 && k < text.indexOf('],"build"'); k = text.indexOf(',', k + 1)) commas.push(k);
          // Whitespace is valid JSON after any comma; it must keep its batch off the as-stored path.
          const inserts = commas.length === 0 ? [] : spaces.map(([pick, ws]) => [commas[pick % commas.length]! + 1, ws] as const);
          for (const [at, ws] of inserts.sort((x, y) => y[0] - x[0])) text = text.slice(0, at) + ws + text.slice(at);
          const bytes = encoder.encode(text);
          const bounds = [...new Set([0, ...cuts.map((c) => c % bytes.length), bytes.length])].sort((x, y) => x - y);
          const chunked: ArtifactSource = async () =>
            (async function* () {
              for (let k = 1; k < bounds.length; k++) yield bytes.slice(bounds[k - 1], bounds[k]);
            })();
          const run = (bytePath: boolean) =>
            scanArtifact(chunked, { batchBytes, bytePath }).then(
              (s) => ({ version: s!.computedVersion, rows: s!.rows, maxRow: s!.maxRow, sha256: s!.sha256 }),
              (e: unknown) => ({ error: String(e) }),
            );
          const fast = await run(true);
          expect(fast).toEqual(await run(false));
          expect(fast).toEqual({ version: a.build.version, rows, maxRow: pop ? 0 : per, sha256: sha(bytes) });
        },
      ),
      { numRuns: 400 },
    );
  });

  test('megabytes before the payload (not a blob we wrote) are hashed as they come, with the same results', async () => {
    const a = await withVersion(cooc(20, 3));
    const compact = serializeArtifact(a, { format: 'compact' });
    const bytes = encoder.encode(`{${' '.repeat(5 << 20)}${compact.slice(1)}`);
    const scan = await scanArtifact(source(bytes, 1 << 20), { sha256: portableSha256 });
    expect(scan).toMatchObject({ computedVersion: a.build.version, rows: 20, maxRow: 3, sha256: sha(bytes), size: bytes.length });
  });

  test('property: hashing canonical batches as stored gives the parsing path\'s version, rows and longest row for any ids and counts', async () => {
    const id = fc.oneof(fc.string({ minLength: 1, maxLength: 6 }), fc.stringMatching(/^[a-z0-9 <>&\\"-]{1,5}$/), fc.constantFrom('é', '\u2028', ' a', 'a ', 'x'));
    const row = fc.record({ item_id: id, items: fc.array(fc.record({ item_id: id, count: fc.oneof(fc.nat(), fc.constant(2 ** 53 - 1), fc.constant(1e15)) }), { maxLength: 4 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 8 }), fc.boolean(), fc.constantFrom(8, 40, 1 << 20), async (rows, pop, batchBytes) => {
        const base = cooc(0, 0);
        const a = pop
          ? ({ ...base, artifact_type: 'popularity', neighbors: undefined, items: rows.map((r) => ({ item_id: r.item_id, count: r.items[0]?.count ?? 0 })) } as unknown as ArtifactV1)
          : ({ ...base, neighbors: rows } as ArtifactV1);
        const versioned = await withVersion(a).catch(() => undefined);
        fc.pre(versioned !== undefined);
        const bytes = encoder.encode(serializeArtifact(versioned, { format: 'compact' }));
        const ref = await reference(bytes);
        fc.pre(ref.ok);
        const run = (bytePath: boolean) =>
          scanArtifact(source(bytes, 64), { batchBytes, bytePath }).then(
            (s) => ({ version: s!.computedVersion, rows: s!.rows, maxRow: s!.maxRow }),
            (e: unknown) => ({ error: String(e) }),
          );
        expect(await run(true)).toEqual(await run(false));
        expect(await run(true)).toMatchObject({ version: ref.ok ? ref.version : '' });
      }),
      { numRuns: 300 },
    );
  });

  test('readArtifactHeader reads values after the payload without parsing it', async () => {
    const a = await withVersion(cooc(100, 3));
    const outline = await readArtifactHeader(source(encoder.encode(serializeArtifact(a)), 17));
    expect(outline!.values).toMatchObject({ segment: 'default', build: { built_at: '2026-01-02T01:00:00Z' } });
    expect(outline!.values).not.toHaveProperty('neighbors');
    expect(outline).toMatchObject({ payloadKey: 'neighbors', rows: 100 });
  });

  test('a missing source is undefined', async () => {
    expect(await scanArtifact(async () => undefined)).toBeUndefined();
  });
});

describe('checkArtifactGateStreamed blocks exactly where checkArtifactGate does', () => {
  const target = { scope: { tenant: 'demo', surface: 'home' }, segment: 'default', window };
  test('header, hash, size and contract failures carry the same gate names', async () => {
    const a = await withVersion(cooc(5, 3));
    const text = serializeArtifact(a);
    const cases: { text: string; expected: { type: string; version: string; target: typeof target }; limits: typeof DEFAULT_LIMITS }[] = [
      { text, expected: { type: 'cooc', version: a.build.version, target }, limits: DEFAULT_LIMITS },
      { text, expected: { type: 'cooc', version: a.build.version, target: { ...target, scope: { tenant: 'other', surface: 'home' } } }, limits: DEFAULT_LIMITS },
      { text, expected: { type: 'cooc', version: 'a'.repeat(64), target }, limits: DEFAULT_LIMITS },
      { text, expected: { type: 'cooc', version: a.build.version, target }, limits: { ...DEFAULT_LIMITS, max_neighbors_per_item: 2 } },
      { text, expected: { type: 'cooc', version: a.build.version, target }, limits: { ...DEFAULT_LIMITS, max_items_per_artifact: 4 } },
      { text: text.replace('"count": 3', '"count": "3"'), expected: { type: 'cooc', version: a.build.version, target }, limits: DEFAULT_LIMITS },
      { text: text.slice(0, 100), expected: { type: 'cooc', version: a.build.version, target }, limits: DEFAULT_LIMITS },
    ];
    for (const c of cases) {
      const whole = await checkArtifactGate(c.text, c.expected, c.limits).then(() => 'ok', (e: unknown) => (e as ValidationGateError).gate);
      const streamed = await checkArtifactGateStreamed(source(encoder.encode(c.text), 10), c.expected, c.limits).then(() => 'ok', (e: unknown) => (e as ValidationGateError).gate);
      expect(streamed).toBe(whole);
    }
  });
});

describe('portableSha256', () => {
  test('equals node:crypto for any input split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 4 }), (data, cuts) => {
        const h = portableSha256();
        let from = 0;
        for (const cut of [...cuts].sort((x, y) => x - y)) {
          const to = Math.min(cut, data.length);
          if (to > from) h.update(data.subarray(from, to));
          from = Math.max(from, to);
        }
        h.update(data.subarray(from));
        expect(h.digest()).toBe(sha(data));
      }),
      { numRuns: 500 },
    );
    const s = portableSha256();
    s.update('é😀');
    expect(s.digest()).toBe(createHash('sha256').update('é😀').digest('hex'));
  });
});
