// Test helper: a crafted pair of item ids whose canonical exposure lines
// collide on ingest's unkeyed 64-bit fingerprint (the FNV-1a-style and
// murmur3-style lanes of packages/core/src/ingest/fingerprint-set.ts, copied
// here as the attacker would). Found by a 32-bit birthday search: for any
// first word w1 the FNV lane can be steered back to a fixed state by the
// second word (w2 = state ^ C, since the lane is a bijection of `state ^ w`),
// so only the 32-bit murmur lane has to collide: ~2^16 tries, milliseconds.

const p = 0x01000193;

function lanes(text: string, upTo: number, a = 0x811c9dc5, h = 0x9747b28c ^ text.length): [number, number] {
  for (let i = 0; i + 1 < upTo; i += 2) [a, h] = step(a, h, text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16));
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

/** A UTF-16 unit that the canonical line keeps literally (no escape, no surrogate). */
const plain = (u: number) => u >= 0x100 && (u < 0xd800 || u > 0xdfff) && u !== 0xfeff && u !== 0x2028 && u !== 0x2029;

/**
 * Two different item ids whose canonical lines (built by `line`, which must
 * put the item id last before `"}`) have the same unkeyed fingerprint.
 */
export function collidingItemIds(line: (item: string) => string): [string, string] {
  const marker = '\u0001';
  const template = line(marker);
  const at = template.indexOf(marker);
  // Start the crafted words on a word boundary, after one plain ASCII letter.
  const pad = at % 2 === 0 ? 'x' + 'y' : 'x';
  const start = at + pad.length;
  const C = 0x4e004e00;
  const seen = new Map<number, string>();
  const [a0, h0] = lanes(line(pad + '\u4e00\u4e00\u4e00\u4e00Z'), start);
  for (let n = 0; n < 1 << 24; n++) {
    const u0 = 0x4e00 + (n & 0x3fff);
    const u1 = 0x4e00 + (n >>> 14);
    const w1 = u0 | (u1 << 16);
    const [a1, h1] = step(a0, h0, w1);
    const w2 = (a1 ^ C) >>> 0;
    const u2 = w2 & 0xffff;
    const u3 = w2 >>> 16;
    if (!plain(u2) || !plain(u3)) continue;
    const [, h2] = step(a1, h1, w2);
    const item = pad + String.fromCharCode(u0, u1, u2, u3) + 'Z';
    const other = seen.get(h2);
    if (other !== undefined && other !== item) return [other, item];
    seen.set(h2, item);
  }
  throw new Error('no collision found');
}

/** The unkeyed 64-bit fingerprint of a text, as two 32-bit words (to check a pair). */
export function unkeyedFingerprint(text: string): [number, number] {
  let [a, h] = lanes(text, text.length);
  if (text.length % 2 === 1) {
    const w = text.charCodeAt(text.length - 1);
    a = Math.imul(a ^ w, p);
    h ^= Math.imul((Math.imul(w, 0xcc9e2d51) << 15) | (Math.imul(w, 0xcc9e2d51) >>> 17), 0x1b873593);
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
