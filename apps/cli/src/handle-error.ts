import { CommanderError } from 'commander';
import { ContractValidationError, InvalidPathSegmentError } from '@recsys/contracts';
import { RecsysError } from '@recsys/core';
import type { Logger } from '@recsys/core';

/** Maps any error to an exit code and a one-line message (DESIGN §6). */
export function describeError(error: unknown): { exitCode: number; kind: string; message: string; context?: Record<string, unknown> } {
  if (RecsysError.isInstance(error)) return { exitCode: error.exitCode, kind: error.kind, message: error.message, context: { ...error.context } };
  if (InvalidPathSegmentError.isInstance(error)) return { exitCode: 2, kind: 'usage', message: error.message };
  if (ContractValidationError.isInstance(error)) return { exitCode: 1, kind: 'integrity', message: error.message };
  if (error instanceof CommanderError) return { exitCode: 2, kind: 'usage', message: error.message.replace(/^error: /, '') };
  return { exitCode: 1, kind: 'runtime', message: error instanceof Error ? `${error.message}` : String(error) };
}

/** The `error` member of a `--json` failure document: kind, exit code, message, context. */
export function errorDocument(error: unknown): { kind: string; exit_code: number; message: string; context?: Record<string, unknown> } {
  const d = describeError(error);
  return { kind: d.kind, exit_code: d.exitCode, message: d.message, ...(d.context ? { context: d.context } : {}) };
}

/** Logs and prints an error; returns the exit code. */
export function handleError(error: unknown, logger: Logger | undefined, stderr: (line: string) => void): number {
  const d = describeError(error);
  logger?.error({ kind: d.kind, exit_code: d.exitCode, ...(d.context ? { context: d.context } : {}), err: error instanceof Error ? { message: error.message, stack: error.stack, cause: String((error as { cause?: unknown }).cause ?? '') } : String(error) }, d.message);
  stderr(`recsys-pipelines: ${d.message}`);
  return d.exitCode;
}
