import type { Crc32 } from './ports.js';

/*
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320: the checksum of zlib,
 * gzip and PNG) in plain JavaScript. Core stays free of `node:zlib`; the Node
 * runtime passes `zlib.crc32` where it exists (Node ≥ 20.15, `nodeCrc32` of
 * `@recsys/runtime-node`). This is the fallback for environments without it;
 * both give the same value for the same bytes (crc32-portable.test.ts).
 * Slicing by 8: eight tables, eight bytes per step.
 */

const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let s = 1; s < 8; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + n] = c;
    }
  }
  return t;
})();

/**
 * The CRC-32 of `data` continued from `value` (the CRC-32 of the bytes
 * before it; 0 to start), as an unsigned 32-bit number: `portableCrc32(b,
 * portableCrc32(a, 0))` is the CRC-32 of `a` followed by `b`.
 * @since 0.10.0
 */
export const portableCrc32: Crc32 = (data, value) => {
  const t = TABLES;
  let c = ~value;
  let i = 0;
  const n = data.length;
  for (const end = n - 7; i < end; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t[1792 + (lo & 0xff)]! ^
      t[1536 + ((lo >>> 8) & 0xff)]! ^
      t[1280 + ((lo >>> 16) & 0xff)]! ^
      t[1024 + (lo >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};

/** A CRC-32 as bucket checksums are recorded: 8 lower-case hex digits. @since 0.10.0 */
export function crc32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}
