// Known values computed by the Go implementation (issue #2, DESIGN §3.4).
import { describe, expect, it } from 'vitest';
import {
  computeArtifactVersion,
  goEscapeJson,
  orderArtifact,
  serializeArtifact,
  serializeForVersion,
  sha256Hex,
  verifyArtifactVersion,
  type PopularityArtifactV1,
} from '../src/index.js';

const popularity = (segment?: string): PopularityArtifactV1 => ({
  v: 1,
  artifact_type: 'popularity',
  tenant: 'demo',
  surface: 'home',
  ...(segment === undefined ? {} : { segment }),
  window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
  items: [
    { item_id: 'A', count: 2 },
    { item_id: 'B', count: 1 },
    { item_id: 'C', count: 1 },
    { item_id: 'D', count: 1 },
  ],
  build: { built_at: '2026-01-02T01:00:00Z', version: 'anything', source_hash: 'anything' },
});

const GO_BYTES_NO_SEGMENT =
  '{"v":1,"artifact_type":"popularity","tenant":"demo","surface":"home","window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"items":[{"item_id":"A","count":2},{"item_id":"B","count":1},{"item_id":"C","count":1},{"item_id":"D","count":1}],"build":{"built_at":"","version":""}}';
const GO_BYTES_DEFAULT_SEGMENT = GO_BYTES_NO_SEGMENT.replace('"surface":"home",', '"surface":"home","segment":"default",');

describe('serializeForVersion / computeArtifactVersion (Go parity)', () => {
  it('produces the exact bytes of the Go implementation without a segment', async () => {
    expect(serializeForVersion(popularity())).toBe(GO_BYTES_NO_SEGMENT);
    expect(await sha256Hex(GO_BYTES_NO_SEGMENT)).toBe('e5ececb49088419119922a73c15d13ef6ff0e949e62569527515ac81b117978f');
    expect(await computeArtifactVersion(popularity())).toBe('e5ececb49088419119922a73c15d13ef6ff0e949e62569527515ac81b117978f');
  });

  it('produces the exact bytes with segment "default" placed after surface', async () => {
    expect(serializeForVersion(popularity('default'))).toBe(GO_BYTES_DEFAULT_SEGMENT);
    expect(await computeArtifactVersion(popularity('default'))).toBe('0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9');
  });

  it('treats an empty segment like an absent one (Go omitempty)', () => {
    expect(serializeForVersion({ ...popularity(), segment: '' })).toBe(GO_BYTES_NO_SEGMENT);
  });

  it('escapes strings as Go encoding/json does: a<b&c> + U+2028 escaped, é and emoji raw UTF-8', () => {
    const artifact = { ...popularity(), items: [{ item_id: 'a<b&c>\u2028é😀', count: 1 }] };
    const expected = String.raw`"item_id":"a\u003cb\u0026c\u003e\u2028` + 'é😀"';
    const bytes = new TextEncoder().encode(serializeForVersion(artifact));
    const needle = new TextEncoder().encode(expected);
    expect([...needle.slice(-7)]).toEqual([0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0x22]);
    expect(Buffer.from(bytes).includes(Buffer.from(needle))).toBe(true);
  });

  it.each([
    ['U+2029', '\u2029', String.raw`\u2029`],
    ['quote and backslash', '"\\', String.raw`\"\\`],
    ['newline, tab, carriage return', '\n\t\r', String.raw`\n\t\r`],
    ['backspace and form feed (Go >= 1.22)', '\b\f', String.raw`\b\f`],
    ['other control characters, lower-case hex', '\u0001\u001f', String.raw`\u0001\u001f`],
    ['DEL is not escaped', '\u007f', '\u007f'],
    ['a lone surrogate becomes U+FFFD, as Go decodes it', 'x\ud800y', 'x\ufffdy'],
  ])('escapes %s', (_name, raw, escaped) => {
    expect(serializeForVersion({ ...popularity(), items: [{ item_id: raw, count: 1 }] })).toContain(`"item_id":"${escaped}"`);
  });

  it('goEscapeJson only touches <, >, &, U+2028 and U+2029', () => {
    expect(goEscapeJson('{"a":"<>&\u2028\u2029 é"}')).toBe(String.raw`{"a":"\u003c\u003e\u0026\u2028\u2029 é"}`);
  });

  it('prints integers as integers and fractional scores as JSON numbers', () => {
    const bytes = serializeForVersion({
      v: 1,
      artifact_type: 'implicit',
      tenant: 't',
      surface: 's',
      window: { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' },
      users: [{ user_id: 'u', items: [{ item_id: 'a', score: 3 }, { item_id: 'b', score: 0.5 }, { item_id: 'c', score: 1e-7 }] }],
      build: { built_at: '', version: '' },
    });
    expect(bytes).toContain('"items":[{"item_id":"a","score":3},{"item_id":"b","score":0.5},{"item_id":"c","score":1e-7}]');
  });

  it('ignores build entirely', async () => {
    const a = popularity();
    const b = { ...popularity(), build: { built_at: '1999-01-01T00:00:00Z', version: 'x', source_hash: 'y' } };
    expect(serializeForVersion(a)).toBe(serializeForVersion(b));
  });
});

describe('orderArtifact', () => {
  it('puts keys in contract order whatever the input order', () => {
    const shuffled = {
      build: { source_hash: 'h', version: 'v', built_at: 'b' },
      items: [{ count: 1, item_id: 'A' }],
      window: { end: '2026-01-02T00:00:00Z', start: '2026-01-01T00:00:00Z' },
      segment: 'x',
      surface: 's',
      tenant: 't',
      artifact_type: 'popularity',
      v: 1,
    } as const;
    expect(JSON.stringify(orderArtifact(shuffled as unknown as PopularityArtifactV1))).toBe(
      '{"v":1,"artifact_type":"popularity","tenant":"t","surface":"s","segment":"x","window":{"start":"2026-01-01T00:00:00Z","end":"2026-01-02T00:00:00Z"},"items":[{"item_id":"A","count":1}],"build":{"built_at":"b","version":"v","source_hash":"h"}}',
    );
  });

  it('drops an empty build.source_hash', () => {
    const ordered = orderArtifact({ ...popularity(), build: { built_at: 'b', version: 'v', source_hash: '' } });
    expect(ordered.build).toEqual({ built_at: 'b', version: 'v' });
    expect(Object.keys(ordered.build)).toEqual(['built_at', 'version']);
  });
});

describe('serializeArtifact (published blob)', () => {
  it('pretty-prints with 2 spaces, Go escaping, the real build and no trailing newline', async () => {
    const version = await computeArtifactVersion(popularity('default'));
    const artifact = { ...popularity('default'), items: [{ item_id: 'a&b', count: 1 }], build: { built_at: '2026-01-02T01:00:00Z', version, source_hash: version } };
    const blob = serializeArtifact(artifact);
    expect(blob.startsWith('{\n  "v": 1,\n  "artifact_type": "popularity",\n  "tenant": "demo",\n  "surface": "home",\n  "segment": "default",\n')).toBe(true);
    expect(blob).toContain('"item_id": "a\\u0026b"');
    expect(blob.endsWith(`"source_hash": "${version}"\n  }\n}`)).toBe(true);
    expect(JSON.parse(blob)).toEqual(orderArtifact(artifact));
  });
});

describe('verifyArtifactVersion', () => {
  it('accepts the declared content hash', async () => {
    const artifact = { ...popularity(), build: { built_at: 'x', version: 'e5ececb49088419119922a73c15d13ef6ff0e949e62569527515ac81b117978f' } };
    expect(await verifyArtifactVersion(artifact)).toEqual({ ok: true, version: artifact.build.version });
  });

  it('reports declared and computed hashes on mismatch', async () => {
    const artifact = { ...popularity('default'), build: { built_at: 'x', version: 'e5ececb49088419119922a73c15d13ef6ff0e949e62569527515ac81b117978f' } };
    expect(await verifyArtifactVersion(artifact)).toEqual({
      ok: false,
      declared: 'e5ececb49088419119922a73c15d13ef6ff0e949e62569527515ac81b117978f',
      computed: '0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9',
    });
  });
});

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ])('hashes %j', async (input, hex) => {
    expect(await sha256Hex(input)).toBe(hex);
    expect(await sha256Hex(new TextEncoder().encode(input))).toBe(hex);
  });
});
