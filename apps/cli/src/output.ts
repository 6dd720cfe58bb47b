import { fileURLToPath } from 'node:url';

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

/** `0ef6b7852e97` — enough of a version for humans (rollback --to accepts a unique prefix). */
export function short(version: string): string {
  return version.slice(0, 12);
}

/** What {@link printArtifacts} shows of one published artifact. */
export interface PrintedArtifact {
  readonly key: string;
  readonly version: string;
  /** Rows of the artifact. */
  readonly size: number;
  readonly new_blob: boolean;
  readonly uri: string;
}

/** The per-artifact lines of `run` and `publish`: key, version, rows, published/unchanged, uri. */
export function printArtifacts(artifacts: readonly PrintedArtifact[]): void {
  for (const a of artifacts) out(`    ${pad(a.key, 14)} ${short(a.version)}  ${pad(`${a.size} rows`, 12)} ${a.new_blob ? 'published' : 'unchanged'}  ${a.uri}`);
}

/** What {@link printStaged} shows of one staged artifact. */
export interface PrintedStaged {
  readonly type: string;
  readonly version: string;
  readonly rows: number;
  readonly uri: string;
}

/** The per-artifact lines of `compute` and `merge`. */
export function printStaged(staged: readonly PrintedStaged[]): void {
  for (const s of staged) out(`    ${pad(s.type, 14)} ${short(s.version)}  ${pad(`${s.rows} rows`, 12)} staged     ${s.uri}`);
}

/** `manifest: <path>` (a local path for file:// URIs, else the URI). */
export function printManifest(uri: string): void {
  out(`manifest: ${uri.startsWith('file://') ? fileURLToPath(uri) : uri}`);
}
