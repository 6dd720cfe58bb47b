/*
 * COPY … FROM STDIN text format (PostgreSQL docs, "COPY", File Formats):
 * columns separated by tabs, rows by newlines, NULL as \N, and backslash,
 * tab, newline and carriage return escaped inside values.
 */

/** Escapes one value for COPY text format. @since 0.2.0 */
export function copyText(value: string): string {
  // Fast path: ids rarely hold any of the four characters.
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A `text[]` value as an array literal, escaped for COPY text format. @since 0.2.0 */
export function copyTextArray(values: readonly string[]): string {
  // Every element quoted: no element can then be read as NULL, a nested array or be split on a comma.
  const literal = `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
  return copyText(literal);
}
