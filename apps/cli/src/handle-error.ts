import { CommanderError } from 'commander';
import { ContractValidationError, InvalidPathSegmentError } from '@recsys/contracts';
import { RecsysError } from '@recsys/core';
import type { Logger } from '@recsys/core';
import { Interrupted } from './interrupt.js';

/** Maps any error to an exit code and a one-line message (DESIGN §6). */
export function describeError(error: unknown): { exitCode: number; kind: string; message: string; context?: Record<string, unknown> } {
  if (RecsysError.isInstance(error)) return { exitCode: error.exitCode, kind: error.kind, message: error.message, context: { ...error.context } };
  if (InvalidPathSegmentError.isInstance(error)) return { exitCode: 2, kind: 'usage', message: error.message };
  if (ContractValidationError.isInstance(error)) return { exitCode: 1, kind: 'integrity', message: error.message };
  if (error instanceof Interrupted) return { exitCode: error.exitCode, kind: 'interrupted', message: error.message, context: { ...error.context } };
  if (error instanceof CommanderError) return { exitCode: 2, kind: 'usage', message: error.message.replace(/^error: /, '') };
  return { exitCode: 1, kind: 'runtime', message: error instanceof Error ? `${error.message}` : String(error) };
}

/** The `error` member of a `--json` failure document: kind, exit code, message, context. */
export function errorDocument(error: unknown): { kind: string; exit_code: number; message: string; context?: Record<string, unknown> } {
  const d = describeError(error);
  return { kind: d.kind, exit_code: d.exitCode, message: d.message, ...(d.context ? { context: d.context } : {}) };
}

/** What to do next, per kind of error, for people at a terminal (the message itself names the problem). */
export function hintFor(kind: string, context: Record<string, unknown> = {}): string | undefined {
  switch (kind) {
    case 'usage':
      return 'run with --help for usage';
    case 'config':
      return 'see docs/reference/config.md';
    case 'validation':
      return context.gate === 'max_bad_event_ratio' ? "look at the day's quarantine file; nothing was published" : 'nothing was published; the live manifest is unchanged';
    case 'limit':
      return typeof context.config_key === 'string' ? `raise ${context.config_key} in the config if the value is legitimate` : undefined;
    case 'integrity':
      return 'run `recsys-pipelines verify` for the whole picture';
    default:
      return undefined;
  }
}

/** Whether errors go to a person (stderr is a terminal) rather than a log collector. */
export function stderrIsTerminal(): boolean {
  return process.stderr.isTTY === true;
}

/**
 * Logs and prints an error; returns the exit code. When stderr is not a
 * terminal the structured JSON error line (with the stack) is logged at
 * `error`, for log collectors. On a terminal a person reads it: only the
 * human line and a hint are printed, and the JSON line (with the stack) goes
 * to `debug` (`--log-level debug` shows it).
 */
export function handleError(error: unknown, logger: Logger | undefined, stderr: (line: string) => void, terminal = stderrIsTerminal()): number {
  const d = describeError(error);
  const record = { kind: d.kind, exit_code: d.exitCode, ...(d.context ? { context: d.context } : {}), err: error instanceof Error ? { message: error.message, stack: error.stack, cause: String((error as { cause?: unknown }).cause ?? '') } : String(error) };
  if (terminal) logger?.debug(record, d.message);
  else logger?.error(record, d.message);
  stderr(`recsys-pipelines: ${d.message}`);
  const hint = terminal ? hintFor(d.kind, d.context) : undefined;
  if (hint) stderr(`  hint: ${hint}`);
  return d.exitCode;
}
