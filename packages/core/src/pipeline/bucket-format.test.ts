import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { concatBytes } from '../bytes.js';
import { fnv1a32Bytes } from '../shard.js';
import { BUCKET_FORMAT, BucketDecoder, BucketEncoder, BucketFormatError, bucketHeaderBytes, bucketTailBytes, readBucketFooter, type BucketBlock } from './bucket-format.js';

const HEAD = { tenant: 'demo', surface: 'home', day: '2026-01-01', part: { index: 1, count: 3 }, bucket: 2 };
const enc = new TextEncoder();

interface Ev {
  session: string;
  item: string;
}

const line = (e: Ev, k: number) => `{"v":1,"ts":"2026-01-01T00:00:${String(k % 60).padStart(2, '0')}Z","session_id":${JSON.stringify(e.session)},"item_id":${JSON.stringify(e.item)}}\n`;

/** A whole bucket of `blocks` (each a list of events), as ingest writes it: ids interned per bucket. */
function encode(blocks: Ev[][], head = HEAD, split = 0.5): Uint8Array {
  const items: string[] = [];
  const partItem = new Map<string, number>();
  const sessions = new Map<string, number>();
  const e = new BucketEncoder();
  const out: Uint8Array[] = [bucketHeaderBytes(head)];
  let k = 0;
  for (const block of blocks) {
    let text = '';
    for (const ev of block) {
      let it = partItem.get(ev.item);
      if (it === undefined) {
        partItem.set(ev.item, (it = items.length));
        items.push(ev.item);
      }
      let s = sessions.get(ev.session);
      if (s === undefined) {
        const bytes = enc.encode(ev.session);
        sessions.set(ev.session, (s = e.newSession(bytes, 0, bytes.length)));
      }
      e.row(s, it, items);
      text += line(ev, k++);
    }
    // Lines handed over in two parts, as ingest does (the buffered ones, then the run that closes the block).
    const lines = enc.encode(text);
    const cut = Math.floor(lines.length * split);
    out.push(...e.block(lines.subarray(0, cut), lines.subarray(cut)));
  }
  out.push(e.trailer());
  return concatBytes(out);
}

/** Decodes `bytes` fed in chunks of `size`; the events with their names resolved, and the lines. */
function decode(bytes: Uint8Array, size: number, head = HEAD): { events: Ev[]; lines: string } {
  const d = new BucketDecoder(head);
  const sessions: string[] = [];
  const items: string[] = [];
  const events: Ev[] = [];
  let lines = '';
  const take = (b: BucketBlock) => {
    sessions.push(...b.newSessions);
    // The new sessions' bytes name them too (compute appends them to its table from there).
    expect(b.newSessionEnds.length).toBe(b.newSessions.length);
    expect(b.newSessions.map((_, q) => new TextDecoder().decode(b.newSessionBytes.subarray(q === 0 ? 0 : b.newSessionEnds[q - 1], b.newSessionEnds[q])))).toEqual(b.newSessions);
    expect(b.newSessionBytes.length).toBe(b.newSessionEnds.at(-1) ?? 0);
    items.push(...b.newItems);
    for (let k = 0; k < b.events; k++) events.push({ session: sessions[b.session[k]!]!, item: items[b.item[k]!]! });
    lines += new TextDecoder().decode(concatBytes(b.lines));
  };
  for (let at = 0; at < bytes.length; at += size) for (const b of d.push(bytes.slice(at, at + size))) take(b);
  const n = d.end();
  expect(n).toBe(events.length);
  return { events, lines };
}

const id = fc.oneof(fc.constantFrom('a', 'b', 'ü', '😀x', 's-1', ''), fc.string({ minLength: 1, maxLength: 6 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }));
const blocksArb = fc.array(fc.array(fc.record({ session: id, item: id }), { minLength: 1, maxLength: 12 }), { maxLength: 5 });

describe(`bucket format ${BUCKET_FORMAT}`, () => {
  test('round trip: the events (ids by name, in order) and their lines come back, whatever the chunk size', () => {
    fc.assert(
      fc.property(blocksArb, fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 0.3, 1), (blocks, size, split) => {
        const bytes = encode(blocks, HEAD, split);
        const all = blocks.flat();
        const got = decode(bytes, size);
        expect(got.events).toEqual(all);
        expect(got.lines).toBe(all.map((e, k) => line(e, k)).join(''));
      }),
    );
  });

  test("a block's lines are views of the chunks pushed (one piece per chunk they span), never copies", () => {
    fc.assert(
      fc.property(blocksArb, fc.integer({ min: 1, max: 64 }), (blocks, size) => {
        const bytes = encode(blocks);
        const d = new BucketDecoder(HEAD);
        const chunks: Uint8Array[] = [];
        let pieces = 0;
        for (let at = 0; at < bytes.length; at += size) {
          const chunk = bytes.slice(at, at + size);
          chunks.push(chunk);
          for (const b of d.push(chunk)) {
            for (const piece of b.lines) {
              expect(piece.length).toBeGreaterThan(0);
              expect(chunks.some((c) => c.buffer === piece.buffer)).toBe(true);
            }
            // No more pieces than the chunks the lines can touch.
            const total = b.lines.reduce((n, p) => n + p.length, 0);
            expect(b.lines.length).toBeLessThanOrEqual(Math.ceil(total / size) + 1);
            pieces += b.lines.length;
          }
        }
        d.end();
        expect(pieces).toBeGreaterThanOrEqual(blocks.length);
      }),
    );
  });

  test('the layout: header line, block heads, dictionary, columns (0 = same session), lines, session footer, trailer', () => {
    const bytes = encode([[{ session: 's', item: 'x' }, { session: 's', item: 'y' }, { session: 't', item: 'x' }]]);
    const text = new TextDecoder().decode(bytes);
    const nl = bytes.indexOf(10);
    expect(JSON.parse(text.slice(0, nl))).toEqual({ format: 'recsys-bucket/3', ...HEAD });
    const view = new DataView(bytes.buffer, nl + 1);
    const lineBytes = enc.encode(line({ session: 's', item: 'x' }, 0) + line({ session: 's', item: 'y' }, 1) + line({ session: 't', item: 'x' }, 2)).length;
    expect([0, 4, 8, 12, 16, 20].map((o) => view.getUint32(o, true))).toEqual([3, 2, 2, 4 + 4, 6, lineBytes]);
    const body = bytes.subarray(nl + 1 + 24);
    expect([...body.subarray(0, 8)]).toEqual([1, 1, 1, 1, ...enc.encode('stxy')]);
    // session 0 (+1), item 0; same session, item 1; session 1 (+1), item 0
    expect([...body.subarray(8, 14)]).toEqual([1, 0, 0, 1, 2, 0]);
    // End of blocks, the FNV-1a 32 of "s" and "t" (sessions 0 and 1), then events, sessions, items.
    const tail = new DataView(bytes.buffer, bytes.length - 24);
    expect([0, 4, 8, 12, 16, 20].map((o) => tail.getUint32(o, true))).toEqual([0, fnv1a32Bytes(enc.encode('s'), 0, 1), fnv1a32Bytes(enc.encode('t'), 0, 1), 3, 2, 2]);
    expect(bucketTailBytes(2)).toBe(24);
  });

  test('an empty bucket is a header, an empty footer and a trailer', () => {
    expect(decode(encode([]), 7)).toEqual({ events: [], lines: '' });
  });

  test('truncation at every cut is refused (never read as a shorter bucket)', () => {
    const bytes = encode([
      [{ session: 's1', item: 'ä' }, { session: 's1', item: 'b' }],
      [{ session: 's2', item: 'b' }],
    ]);
    for (let cut = 0; cut < bytes.length; cut++) {
      for (const size of [1, 5, 1 << 20]) expect(() => decode(bytes.subarray(0, cut), size), `cut ${cut}`).toThrow(BucketFormatError);
    }
    expect(decode(bytes, 3).events.length).toBe(3);
  });

  test('trailing bytes, a changed count, an id out of range are refused', () => {
    const bytes = encode([[{ session: 's1', item: 'a' }, { session: 's2', item: 'b' }]]);
    expect(() => decode(concatBytes([bytes, new Uint8Array([0])]), 4)).toThrow(/after the end/);
    const nl = bytes.indexOf(10);
    const bad = (mutate: (b: Uint8Array) => void) => {
      const copy = bytes.slice();
      mutate(copy);
      return () => decode(copy, 1 << 20);
    };
    // the trailer's event count
    expect(bad((b) => (b[b.length - 12] = 9))).toThrow(/trailer says 9 events/);
    // the second event's item id (dictionary: 4 lengths + "s1s2ab" = 10 bytes; columns: 1 0 2 1)
    expect(bad((b) => (b[nl + 1 + 24 + 10 + 3] = 7))).toThrow(/item id 7 out of range/);
    expect(bad((b) => (b[nl + 1 + 24 + 10 + 2] = 9))).toThrow(/session id 8 out of range/);
    expect(bad((b) => (b[nl + 1 + 24 + 10] = 0))).toThrow(/first event of the block repeats a session/);
    // the block's column length
    expect(bad((b) => (b[nl + 1 + 16] = 3))).toThrow(BucketFormatError);
  });

  test('ids of several varint bytes decode the same in long blocks, and a varint over 32 bits is refused there too', () => {
    // 30 000 sessions and 40 000 items: ids of one, two and three varint bytes, in columns long enough for the inline decoding.
    const events: Ev[] = Array.from({ length: 40_000 }, (_, k) => ({ session: `s${k % 30_000}`, item: `i${(k * 7919) % 40_000}` }));
    const bytes = encode([events.slice(0, 25_000), events.slice(25_000)]);
    for (const size of [1 << 20, 4093]) expect(decode(bytes, size).events).toEqual(events);
    // The first event's session of the first block, as five varint bytes holding more than 32 bits.
    const head = bytes.indexOf(10) + 1;
    const columns = head + 24 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(head + 12, true);
    const copy = bytes.slice();
    copy.set([0xff, 0xff, 0xff, 0xff, 0x1f], columns);
    expect(() => decode(copy, 1 << 20)).toThrow(/varint too large/);
    // The same for its item (its session takes one byte: 1, a new session).
    const itemCopy = bytes.slice();
    itemCopy.set([0xff, 0xff, 0xff, 0xff, 0x1f], columns + 1);
    expect(() => decode(itemCopy, 1 << 20)).toThrow(/varint too large/);
  });

  test('the varints near a block\'s end (read with bounds checks) decode ids of several bytes, and refuse one over 32 bits', () => {
    // One block of one event whose columns are written here: session id + 1 and item id as the varints given.
    const block = (session: number[], item: number[], sessions: number, items: number): Uint8Array => {
      const dict = [...Array.from({ length: sessions + items }, () => 1), ...Array.from({ length: sessions }, () => 0x73), ...Array.from({ length: items }, () => 0x69)];
      const lines = enc.encode('{}\n');
      const head = new Uint8Array(24);
      const view = new DataView(head.buffer);
      [1, sessions, items, dict.length, session.length + item.length, lines.length].forEach((v, k) => view.setUint32(4 * k, v, true));
      const footer = new Uint8Array(4 + 4 * sessions + 12);
      const fv = new DataView(footer.buffer);
      const hash = fnv1a32Bytes(enc.encode('s'), 0, 1);
      for (let k = 0; k < sessions; k++) fv.setUint32(4 + 4 * k, hash, true);
      [1, sessions, items].forEach((v, k) => fv.setUint32(4 + 4 * sessions + 4 * k, v, true));
      return concatBytes([bucketHeaderBytes(HEAD), head, new Uint8Array([...dict, ...session, ...item]), lines, footer]);
    };
    const ids = (bytes: Uint8Array) => {
      const d = new BucketDecoder(HEAD);
      const out: [number, number][] = [];
      for (const b of d.push(bytes)) out.push([b.session[0]!, b.item[0]!]);
      return out;
    };
    // Session id 0 and item id 0 written with needless continuation bytes: 1 = [0x81, 0x80, 0x00], 0 = [0x80, 0x80, 0x00].
    expect(ids(block([0x81, 0x80, 0x00], [0x80, 0x80, 0x00], 1, 1))).toEqual([[0, 0]]);
    // Ids that need every weight: 1 + 0x0fffffff sessions would not fit a test; the item id is checked against the
    // block's items, so the decoded value shows through the error.
    expect(() => ids(block([0x01], [0xff, 0xff, 0xff, 0x7f], 1, 1))).toThrow(/item id 268435455 out of range/);
    expect(() => ids(block([0x01], [0x80, 0x80, 0x80, 0x80, 0x0f], 1, 1))).toThrow(/item id 4026531840 out of range/);
    expect(() => ids(block([0xff, 0xff, 0xff, 0xff, 0x1f], [0x00], 1, 1))).toThrow(/varint too large/);
    expect(() => ids(block([0x01], [0xff, 0xff, 0xff, 0xff, 0x1f], 1, 1))).toThrow(/varint too large/);
  });

  test('another format, version or bucket is refused by name', () => {
    const v1 = enc.encode('{"v":1,"ts":"2026-01-01T00:00:00Z","tenant":"demo","surface":"home","session_id":"s","item_id":"i"}\n');
    expect(() => decode(v1, 8)).toThrow(/format recsys-bucket\/1 \(canonical JSON Lines\)/);
    const v2 = concatBytes([enc.encode(JSON.stringify({ format: 'recsys-bucket/2', ...HEAD }) + '\n'), encode([]).subarray(bucketHeaderBytes(HEAD).length)]);
    expect(() => decode(v2, 8)).toThrow(/format recsys-bucket\/2 \(no session footer\) of an earlier version, not recsys-bucket\/3/);
    const v4 = concatBytes([enc.encode(JSON.stringify({ format: 'recsys-bucket/4', ...HEAD }) + '\n'), encode([]).subarray(bucketHeaderBytes(HEAD).length)]);
    expect(() => decode(v4, 8)).toThrow(/format "recsys-bucket\/4", not recsys-bucket\/3/);
    expect(() => decode(enc.encode('garbage\n'), 8)).toThrow(/has no recsys-bucket\/3 header/);
    expect(() => decode(new Uint8Array(0), 8)).toThrow(/empty/);
    const other = encode([[{ session: 's', item: 'i' }]], { ...HEAD, bucket: 0 });
    expect(() => decode(other, 8)).toThrow(/holds bucket 0 of ingest part 1\/3, not bucket 2 of part 1\/3 as its name says/);
    const otherPart = encode([[{ session: 's', item: 'i' }]], { ...HEAD, part: { index: 0, count: 3 } });
    expect(() => decode(otherPart, 8)).toThrow(/of ingest part 0\/3/);
    const otherDay = encode([[{ session: 's', item: 'i' }]], { ...HEAD, day: '2026-01-02' });
    expect(() => decode(otherDay, 8)).toThrow(/holds demo\/home 2026-01-02/);
  });

  test("the footer lists every session's hash in id order; read alone it gives the same hashes as the decoder", () => {
    fc.assert(
      fc.property(blocksArb, fc.integer({ min: 1, max: 64 }), (blocks, size) => {
        const bytes = encode(blocks);
        const d = new BucketDecoder(HEAD);
        const names: string[] = [];
        for (let at = 0; at < bytes.length; at += size) for (const b of d.push(bytes.slice(at, at + size))) names.push(...b.newSessions);
        const events = d.end();
        const hashes = names.map((n) => {
          const b = enc.encode(n);
          return fnv1a32Bytes(b, 0, b.length);
        });
        expect([...d.sessionHashes()]).toEqual(hashes);
        const tail = bytes.subarray(bytes.length - bucketTailBytes(names.length));
        expect([...readBucketFooter(tail, { events, sessions: names.length })]).toEqual(hashes);
      }),
    );
  });

  test('a footer that does not list the sessions read is refused; a tail of other counts is not read as a footer', () => {
    const events = [
      { session: 's1', item: 'a' },
      { session: 's2', item: 'b' },
      { session: 's1', item: 'c' },
    ];
    const bytes = encode([events]);
    // The footer's hash of session 1 ("s2"): 12 trailer bytes and one hash from the end.
    const copy = bytes.slice();
    copy[copy.length - 16] = copy[copy.length - 16]! ^ 1;
    expect(() => decode(copy, 5)).toThrow(/session footer: session 1 hashes to \d+, the footer says \d+/);
    const tail = bytes.subarray(bytes.length - bucketTailBytes(2));
    expect(readBucketFooter(tail, { events: 3, sessions: 2 })).toHaveLength(2);
    expect(() => readBucketFooter(tail, { events: 3, sessions: 1 })).toThrow(/footer and trailer are 24 bytes, not 20/);
    expect(() => readBucketFooter(bytes.subarray(bytes.length - bucketTailBytes(1)), { events: 3, sessions: 1 })).toThrow(/trailer does not say 3 events and 1 sessions/);
    expect(() => readBucketFooter(tail, { events: 4, sessions: 2 })).toThrow(/trailer does not say 4 events/);
  });
});
