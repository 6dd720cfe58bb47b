/** Writes a line to stdout. */
export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/** Writes one JSON document to stdout. */
export function outJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Right-pads for aligned human tables. */
export function pad(value: string | number, width: number): string {
  return String(value).padEnd(width);
}
