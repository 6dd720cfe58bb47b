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
