import { fileURLToPath } from 'node:url';
import type { DayArtifactReport } from '@recsys/core';
/**
 * Set once stdout's reader has gone (`recsys-pipelines history | head`):
 * later output is dropped instead of raising EPIPE. The command itself goes
 * on — a `run` whose output nobody reads must still finish its publish — and
 * exits with its own code, without a stack trace.
 */
let stdoutClosed = false;

/** Whether `error` means the other end of a pipe is closed. */
function isClosedPipe(error: NodeJS.ErrnoException): boolean {
  return error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED';
}

/**
 * Makes a closed stdout or stderr quiet (call once, first thing): Node
 * reports EPIPE as an 'error' event, which without a listener crashes the
 * process with a stack trace mid-command.
 */
export function quietClosedPipes(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (!isClosedPipe(error)) throw error;
    stdoutClosed = true;
  });
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (!isClosedPipe(error)) throw error;
  });
}

/** Writes a line to stdout. */
export function out(line = ''): void {
  if (!stdoutClosed) process.stdout.write(line + '\n');
}

/** Writes one JSON document to stdout. */
export function outJson(value: unknown): void {
  if (!stdoutClosed) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Right-pads for aligned human tables. */
export function pad(value: string | number, width: number): string {
  return String(value).padEnd(width);
}

/** `0ef6b7852e97` — enough of a version for humans (rollback --to accepts a unique prefix). */
export function short(version: string): string {
  return version.slice(0, 12);
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

/** Bytes as people read them: `512 B`, `3.4 kB`, `12.0 MB` (SI, like the service's byte limit). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** What happened to a key's pointer, in words (the summary must say it, not only what happened to the blob). */
export function pointerText(a: DayArtifactReport, day: string): string {
  switch (a.pointer) {
    case 'moved':
      return a.live_day && a.live_day !== day ? `live (was ${a.live_day})` : 'live';
    case 'unchanged':
      return 'already live';
    case 'kept':
      return `kept ${a.live_day ?? 'a newer window'} live; ${day} recorded (--move-pointer-back serves it)`;
    case 'moved_back':
      return `moved back to ${day} from ${a.live_day ?? 'an unknown window'} (--move-pointer-back, in history)`;
  }
}

/** The artifact lines of a published day, for `run` and `publish`. */
export function printArtifacts(day: string, artifacts: readonly DayArtifactReport[]): void {
  for (const a of artifacts) {
    out(`    ${pad(a.key, 14)} ${short(a.version)}  ${pad(`${a.rows} rows`, 12)} ${pad(formatBytes(a.bytes), 9)} ${pad(a.new_blob ? 'new blob' : 'blob existed', 12)}  ${pointerText(a, day)}  ${a.uri}`);
  }
}
