// Test helper: a crafted pair of item ids whose canonical exposure lines
// collide on ingest's unkeyed 64-bit fingerprint (the FNV-1a-style and
// murmur3-style lanes of packages/core/src/ingest/fingerprint-set.ts, over
// the message ingest fingerprints a line by, four bytes at a time, copied
// here as the attacker would). Ingest's message for a line of its scope is
// the time after the day, zero bytes up to a multiple of four, then what
// follows `"session_id":"` (packages/core/src/ingest/chunk-parser.ts,
// `scopedFingerprint`): {@link scopedMessage}.
// Found by a 32-bit birthday search: for any first word w1 the FNV lane can
// be steered back to a fixed state by the second word (w2 = state ^ C, since
// the lane is a bijection of `state ^ w`), so only the 32-bit murmur lane has
// to collide: ~2^16 usable tries (w2 must be four printable ASCII bytes),
// well under a second.

const p = 0x01000193;
const encoder = new TextEncoder();

function word(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** The two lanes after the whole words of `b[0..upTo)`. */
function lanes(b: Uint8Array, upTo: number, a = 0x811c9dc5, h = 0x9747b28c ^ b.length): [number, number] {
  for (let i = 0; i + 3 < upTo; i += 4) [a, h] = step(a, h, word(b, i));
  return [a, h];
}

function step(a: number, h: number, w: number): [number, number] {
  a = Math.imul(a ^ w, p);
  let k = Math.imul(w, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  return [a, h];
}

/** A byte that an id keeps literally in the raw and the canonical line (printable ASCII, no quote or backslash). */
const plain = (c: number) => c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x5c;
const plainWord = (w: number) => plain(w & 0xff) && plain((w >>> 8) & 0xff) && plain((w >>> 16) & 0xff) && plain(w >>> 24);
const text = (w: number) => String.fromCharCode(w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, w >>> 24);

/**
 * Two different item ids whose canonical lines (built by `line`, which must
 * put the item id last before `"}`, in an ASCII line) have the same unkeyed fingerprint.
 */
export function collidingItemIds(line: (item: string) => string, message: (line: string) => Uint8Array = (l) => encoder.encode(l)): [string, string] {
  const marker = '\u0001';
  const at = message(line(marker)).indexOf(1);
  // Start the crafted words on a word boundary, after at least one plain letter.
  let pad = 'x';
  while ((at + pad.length) % 4 !== 0) pad += 'y';
  const start = at + pad.length;
  const C = 0x41424344;
  const seen = new Map<number, string>();
  const [a0, h0] = lanes(message(line(pad + 'AAAABBBBZ')), start);
  for (let n = 0; n < 1 << 26; n++) {
    // Four letters/digits from the counter.
    const w1 = 0x30303030 + ((n % 75) | (Math.floor(n / 75) % 75 << 8) | (Math.floor(n / 5625) % 75 << 16) | (Math.floor(n / 421875) % 75 << 24));
    if (!plainWord(w1)) continue;
    const [a1, h1] = step(a0, h0, w1);
    const w2 = (a1 ^ C) >>> 0;
    if (!plainWord(w2)) continue;
    const [, h2] = step(a1, h1, w2);
    const item = pad + text(w1) + text(w2) + 'Z';
    const other = seen.get(h2);
    if (other !== undefined && other !== item) return [other, item];
    seen.set(h2, item);
  }
  throw new Error('no collision found');
}

/**
 * The message ingest fingerprints the canonical line `line` of a scope by:
 * the time after the day, zero bytes (one to four, up to a multiple of four),
 * then what follows `"session_id":"` (a line of the scope's plain shape).
 */
export function scopedMessage(line: string, scope: { tenant: string; surface: string }): Uint8Array {
  const shared = `","tenant":"${scope.tenant}","surface":"${scope.surface}","session_id":"`;
  const q = line.indexOf(shared);
  if (!line.startsWith('{"v":1,"ts":"') || q < 0) throw new Error(`not a line of ${scope.tenant}/${scope.surface}: ${line}`);
  const time = encoder.encode(line.slice('{"v":1,"ts":"'.length + 10, q));
  const rest = encoder.encode(line.slice(q + shared.length));
  const padded = (time.length + 4) & ~3;
  const out = new Uint8Array(padded + rest.length);
  out.set(time);
  out.set(rest, padded);
  return out;
}

/** The unkeyed 64-bit fingerprint of a message, as two 32-bit words (to check a pair). */
export function unkeyedFingerprint(b: Uint8Array): [number, number] {
  let [a, h] = lanes(b, b.length);
  const rest = b.length & 3;
  if (rest !== 0) {
    let t = 0;
    for (let i = 0; i < rest; i++) t |= b[b.length - rest + i]! << (8 * i);
    a = Math.imul(a ^ t, p);
    h ^= Math.imul((Math.imul(t, 0xcc9e2d51) << 15) | (Math.imul(t, 0xcc9e2d51) >>> 17), 0x1b873593);
  }
  a ^= a >>> 15;
  a = Math.imul(a, 0x2c1b3c6d);
  a ^= a >>> 12;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return [a >>> 0, h >>> 0];
}
