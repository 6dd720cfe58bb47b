import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MAX_LINE_BYTES, splitLines, type RawLine } from '../internal.js';

const bytes = (...parts: (string | number[] | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p as Uint8Array))));

async function* chunked(data: Uint8Array, cuts: readonly number[] = []): AsyncGenerator<Uint8Array> {
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (cut <= from || cut >= data.length) continue;
    yield data.subarray(from, cut);
    from = cut;
  }
  yield data.subarray(from);
}

async function collect(data: Uint8Array, cuts: readonly number[] = [], max?: number): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const line of splitLines(chunked(data, cuts), max)) out.push(line);
  return out;
}

/**
 * Reference model, written independently of the streaming code: split the
 * whole buffer at \n, drop one trailing \r, skip empty/blank lines (they
 * still count as lines), classify by length and UTF-8 validity.
 */
function model(data: Uint8Array, max = MAX_LINE_BYTES): RawLine[] {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lossy = new TextDecoder('utf-8', { ignoreBOM: true });
  const out: RawLine[] = [];
  const buf = Buffer.from(data);
  let lineNo = 0;
  let start = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(10, start);
    if (nl === -1) nl = buf.length;
    let line = buf.subarray(start, nl);
    start = nl + 1;
    lineNo++;
    if (line.length > 0 && line[line.length - 1] === 13) line = line.subarray(0, -1);
    if (line.length === 0) continue;
    if (line.length > max) {
      out.push({ kind: 'too_long', lineNo, prefix: lossy.decode(line.subarray(0, 1024)), bytes: line.length });
      continue;
    }
    let text: string;
    try {
      text = strict.decode(line);
    } catch {
      out.push({ kind: 'invalid_utf8', lineNo, text: lossy.decode(line), bytes: line.length });
      continue;
    }
    if (text.trim() === '') continue;
    out.push({ kind: 'line', lineNo, text, bytes: line.length });
  }
  return out;
}

describe('splitLines', () => {
  test('LF and CRLF endings; blank and whitespace-only lines are skipped but counted', async () => {
    const data = bytes('a\r\n\nb\n  \t \r\n\r\nc');
    expect(await collect(data)).toEqual([
      { kind: 'line', lineNo: 1, text: 'a', bytes: 1 },
      { kind: 'line', lineNo: 3, text: 'b', bytes: 1 },
      { kind: 'line', lineNo: 6, text: 'c', bytes: 1 },
    ]);
  });

  test('the last line needs no trailing newline; a trailing newline adds no line', async () => {
    expect(await collect(bytes('x\ny'))).toEqual([
      { kind: 'line', lineNo: 1, text: 'x', bytes: 1 },
      { kind: 'line', lineNo: 2, text: 'y', bytes: 1 },
    ]);
    expect(await collect(bytes('x\ny\n'))).toHaveLength(2);
    expect(await collect(bytes(''))).toEqual([]);
  });

  test('only the final \\r is dropped; a \\r inside a line is kept', async () => {
    expect(await collect(bytes('a\rb\r\r\n'))).toEqual([{ kind: 'line', lineNo: 1, text: 'a\rb\r', bytes: 4 }]);
  });

  test('invalid UTF-8 is reported per line with a lossy text, and the stream goes on', async () => {
    const data = bytes('ok\n', [0x7b, 0xff, 0xfe, 0x7d], '\n', [0xe2, 0x82], '\nlast é\n');
    expect(await collect(data)).toEqual([
      { kind: 'line', lineNo: 1, text: 'ok', bytes: 2 },
      { kind: 'invalid_utf8', lineNo: 2, text: '{\ufffd\ufffd}', bytes: 4 },
      { kind: 'invalid_utf8', lineNo: 3, text: '\ufffd', bytes: 2 },
      { kind: 'line', lineNo: 4, text: 'last é', bytes: 7 },
    ]);
  });

  test('a UTF-8 character split across chunks is decoded whole', async () => {
    const data = bytes('€𝄞\n');
    for (let cut = 1; cut < data.length; cut++) {
      expect(await collect(data, [cut])).toEqual([{ kind: 'line', lineNo: 1, text: '€𝄞', bytes: 7 }]);
    }
  });

  test('a byte-order mark is kept (it makes the first line invalid JSON rather than silently changing it)', async () => {
    expect(await collect(bytes([0xef, 0xbb, 0xbf], '{}\n'))).toEqual([{ kind: 'line', lineNo: 1, text: '\ufeff{}', bytes: 5 }]);
  });

  test.each([
    ['in one chunk', [] as number[]],
    ['in 64 KiB chunks', Array.from({ length: 40 }, (_, i) => (i + 1) * 65536)],
    ['with a cut right after the first byte', [1]],
  ])('a line longer than 1 MiB is reported as too long with a 1 KiB prefix, %s; the lines around it survive', async (_name, cuts) => {
    const long = 'x'.repeat(MAX_LINE_BYTES - 10) + 'é'.repeat(20) + 'tail';
    const data = bytes('{"a":1}\n', long, '\r\n{"b":2}\n');
    const lines = await collect(data, cuts.map((c) => c + 8));
    const longBytes = Buffer.byteLength(long);
    expect(longBytes).toBeGreaterThan(MAX_LINE_BYTES);
    expect(lines).toEqual([
      { kind: 'line', lineNo: 1, text: '{"a":1}', bytes: 7 },
      { kind: 'too_long', lineNo: 2, prefix: 'x'.repeat(1024), bytes: longBytes },
      { kind: 'line', lineNo: 3, text: '{"b":2}', bytes: 7 },
    ]);
  });

  test('a line of exactly 1 MiB is accepted; one byte more is too long', async () => {
    const exact = 'y'.repeat(MAX_LINE_BYTES);
    const [ok] = await collect(bytes(exact, '\r\n'), [MAX_LINE_BYTES - 3, MAX_LINE_BYTES + 1]);
    expect(ok).toMatchObject({ kind: 'line', bytes: MAX_LINE_BYTES });
    const [tooLong] = await collect(bytes(exact, 'y'), [7, MAX_LINE_BYTES]);
    expect(tooLong).toMatchObject({ kind: 'too_long', lineNo: 1, bytes: MAX_LINE_BYTES + 1 });
  });

  test('matches the reference model on hand-picked input', async () => {
    const data = bytes('a\r\n\r\n', [0xc3], '\n  \nb');
    expect(await collect(data)).toEqual(model(data));
  });
});

// Lines mixing ASCII, multi-byte characters, CR, blanks, invalid bytes and (for a small limit) over-long lines.
const pieceArb = fc.oneof(
  fc.constantFrom('a', 'é', '€', '𝄞', ' ', '\t', '\r', '\n', '\r\n', '{"v":1}', '\n\n'),
  fc.string({ maxLength: 12 }),
  fc.uint8Array({ minLength: 1, maxLength: 4 }),
  fc.integer({ min: 1, max: 40 }).map((n) => 'z'.repeat(n)),
);
const dataArb = fc.array(pieceArb, { maxLength: 40 }).map((pieces) => bytes(...pieces));
const withCutsArb = dataArb.chain((data) => fc.tuple(fc.constant(data), fc.array(fc.integer({ min: 0, max: Math.max(0, data.length) }), { maxLength: 12 })));

describe('splitLines properties', () => {
  test('splitting the same bytes at any chunk boundaries gives the same lines, equal to the reference model', async () => {
    await fc.assert(
      fc.asyncProperty(withCutsArb, fc.constantFrom(8, 16, 33, MAX_LINE_BYTES), async ([data, cuts], max) => {
        const whole = await collect(data, [], max);
        expect(whole).toEqual(model(data, max));
        expect(await collect(data, cuts, max)).toEqual(whole);
        // One byte per chunk: every boundary at once.
        expect(await collect(data, Array.from({ length: data.length }, (_, i) => i), max)).toEqual(whole);
      }),
      { numRuns: 400 },
    );
  });

  test('the chunk buffer may be reused by the producer after each yield', async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, fc.integer({ min: 1, max: 7 }), async (data, size) => {
        async function* reusing(): AsyncGenerator<Uint8Array> {
          const buf = new Uint8Array(size);
          for (let i = 0; i < data.length; i += size) {
            const n = Math.min(size, data.length - i);
            buf.set(data.subarray(i, i + n));
            yield buf.subarray(0, n);
            buf.fill(0x41);
          }
        }
        const out: RawLine[] = [];
        for await (const line of splitLines(reusing(), 16)) out.push(line);
        expect(out).toEqual(model(data, 16));
      }),
      { numRuns: 200 },
    );
  });
});

