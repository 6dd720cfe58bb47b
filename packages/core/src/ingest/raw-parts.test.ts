import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { RawInput, RawInputChunk } from '../ports.js';
import { isRecordReject } from './raw-source.js';
import { openRawPiece, planRawParts } from './raw-parts.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A plain raw object served in chunks of `chunk` bytes, counting the bytes each reader is handed. */
function input(uri: string, bytes: Uint8Array, chunk: number, served: { bytes: number }): RawInput {
  const from = async function* (start: number) {
    for (let at = start; at < bytes.length; at += chunk) {
      const c = bytes.subarray(at, Math.min(bytes.length, at + chunk));
      served.bytes += c.length;
      yield c;
    }
  };
  const withoutBom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return { uri, size: bytes.length, open: async () => from(withoutBom), openFrom: async (start) => from(start) };
}

async function collect(stream: AsyncIterable<RawInputChunk>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) if (!isRecordReject(c)) parts.push(c);
  return dec.decode(Buffer.concat(parts));
}

const lineArb = fc.oneof(fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, '')), fc.constant(''), fc.constant('\r'));

describe('planRawParts + openRawPiece', () => {
  test('the parts, in order, read every line of every object exactly once, for any cut and chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ lines: fc.array(lineArb, { maxLength: 12 }), finalNewline: fc.boolean(), bom: fc.boolean() }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 7 }),
        async (objects, n, chunk) => {
          const served = { bytes: 0 };
          const texts = objects.map((o) => o.lines.join('\n') + (o.finalNewline && o.lines.length > 0 ? '\n' : ''));
          const inputs = objects.map((o, k) => input(`mem://${k}`, enc.encode((o.bom ? '\ufeff' : '') + texts[k]), chunk, served));
          const plan = planRawParts(inputs, n);
          expect(plan.parts).toHaveLength(n);
          const byObject = new Map<string, string>();
          for (const part of plan.parts) {
            for (const piece of part) {
              const text = await collect(await openRawPiece(piece));
              // A piece ends at a line end (or the object's end), so pieces join without splitting a line.
              byObject.set(piece.input.uri, (byObject.get(piece.input.uri) ?? '') + text);
            }
          }
          // One leading byte order mark is dropped, as when one process reads the object.
          objects.forEach((o, k) => expect(byObject.get(`mem://${k}`) ?? '').toBe(((o.bom ? '\ufeff' : '') + texts[k]).replace(/^\ufeff/, '')));
          // Every part reads about its share: at most its range, the rest of its last line, and one chunk either side.
          if (plan.mode === 'ranges') {
            const total = inputs.reduce((s, x) => s + x.size!, 0);
            const longest = Math.max(0, ...texts.flatMap((t) => t.split('\n').map((l) => enc.encode(l).length + 1)));
            expect(served.bytes).toBeLessThanOrEqual(total + n * (longest + 2 * chunk + 1));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test('many objects go whole, balanced by size; few objects are cut into byte ranges at line starts', async () => {
    const served = { bytes: 0 };
    const many = Array.from({ length: 8 }, (_, k) => input(`mem://${k}`, enc.encode('x\n'.repeat(50)), 64, served));
    const whole = planRawParts(many, 4);
    expect(whole.mode).toBe('objects');
    expect(whole.parts.map((p) => p.map((x) => x.input.uri))).toEqual([['mem://0', 'mem://1'], ['mem://2', 'mem://3'], ['mem://4', 'mem://5'], ['mem://6', 'mem://7']]);
    const one = planRawParts([input('mem://big', enc.encode('abc\n'.repeat(100)), 64, served)], 4);
    expect(one.mode).toBe('ranges');
    expect(one.parts.map((p) => p.map((x) => x.range))).toEqual([[{ start: 0, end: 100 }], [{ start: 100, end: 200 }], [{ start: 200, end: 300 }], [{ start: 300, end: 400 }]]);
    // A line crossing a cut belongs to the part where it starts: 100 is the start of line 25, so part 0 reads lines 0..24.
    expect((await collect(await openRawPiece(one.parts[0]![0]!))).split('\n').filter(Boolean)).toHaveLength(25);
    // A gzip object (no openFrom) is never split.
    const gz: RawInput = { uri: 'mem://gz', size: 1000, open: async () => (async function* () {})() };
    expect(planRawParts([gz], 3).parts.map((p) => p.length)).toEqual([0, 1, 0]);
  });
});
