/**
 * Compares two strings in UTF-8 byte order (= Unicode code point order), as
 * `Buffer.compare` on their UTF-8 encodings would, without encoding them.
 * JavaScript's `<` compares UTF-16 code units, which puts U+E000–U+FFFF after
 * astral characters (surrogates); we remap the two ranges where they differ.
 * @since 0.1.0
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
      cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}
