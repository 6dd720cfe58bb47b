import type { Command } from 'commander';
import type { z } from 'zod';
import { UsageError, type Logger } from '@recsys/core';
import { loadConfig, type ResolvedConfig } from './config/load.js';
import { createLogger } from './logger.js';
import { errorDocument, handleError } from './handle-error.js';
import { outJson } from './output.js';

/** What a command's body gets: its validated flags, a logger and the loaded config. */
export interface ActionContext<F, P extends object = Record<string, unknown>> {
  /** The flags (and positional arguments, as `args`) after the command's zod schema. */
  readonly flags: F;
  readonly logger: Logger;
  /** The loaded config (the embedded default without `--config`). */
  readonly config: ResolvedConfig;
  /** `--json`: one JSON document on stdout instead of human lines. */
  readonly json: boolean;
  /**
   * Fields the `--json` error document carries if the command fails (e.g.
   * the days finished so far), from the spec's `partial`; the body fills them.
   */
  readonly partial: P;
  /** Registers cleanup (closing worker pools…) that runs when the command ends, even on error. */
  readonly onClose: (close: () => Promise<void>) => void;
}

/** One command action: its name, its flag schema and its body. */
export interface ActionSpec<S extends z.ZodType, P extends object> {
  /** The `command` of the JSON documents. */
  readonly command: string;
  /**
   * Validates commander's parsed flags, plus the positional arguments as
   * `args`; the first problem becomes a usage error (exit 2).
   */
  readonly flags: S;
  /** The fields of the `--json` error document, before the command starts (default none). */
  readonly partial?: () => P;
  /** Does the work and prints the result; returns the exit code (default 0). */
  readonly run: (a: ActionContext<z.output<S>, P>) => Promise<number | void>;
}

/** The logger of a command: JSON lines on stderr at `--log-level`. */
export function loggerFor(flags: { logLevel?: string | undefined }): Logger {
  return createLogger(flags.logLevel ?? 'info');
}

/** Loads the config of `--config` (or the embedded default) and logs its warnings. */
async function loadCommandConfig(file: string | undefined, logger: Logger): Promise<ResolvedConfig> {
  const config = await loadConfig(file, process.cwd());
  for (const warning of config.warnings) logger.warn({ config: config.file }, warning);
  return config;
}

/** Runs zod over the flags; the first issue is the usage error (its message names the flag). */
function parseFlags<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // Custom issues already name their flag; zod's own messages get the flag in front.
  const key = issue.path[0];
  const where = issue.code !== 'custom' && typeof key === 'string' ? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ` : '';
  throw new UsageError(`${where}${issue.message}`);
}

/**
 * The one action envelope of every command: validates the flags, loads the
 * config, runs the body and sets the exit code. Any error is logged, printed
 * as one `recsys-pipelines: <message>` line on stderr, mapped to its exit code
 * and, with `--json`, printed as `{ok: false, command, error, ...partial}`.
 * Use it as the commander action: `cmd.action(action({...}))`.
 */
export function action<S extends z.ZodType, P extends object = Record<string, never>>(spec: ActionSpec<S, P>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const cmd = args.at(-1) as Command;
    const raw = cmd.opts<{ logLevel?: string; json?: boolean; config?: string }>();
    const logger = loggerFor(raw);
    const json = raw.json === true;
    const partial = spec.partial?.() ?? ({} as P);
    const closers: (() => Promise<void>)[] = [];
    try {
      const flags = parseFlags(spec.flags, { ...raw, args: cmd.processedArgs });
      const config = await loadCommandConfig(raw.config, logger);
      process.exitCode = (await spec.run({ flags, logger, config, json, partial, onClose: (close) => closers.push(close) })) ?? 0;
    } catch (error) {
      process.exitCode = handleError(error, logger, (line) => process.stderr.write(line + '\n'));
      if (json) outJson({ ok: false, command: spec.command, error: errorDocument(error), ...partial });
    } finally {
      // Resources die with their command, newest first; a failing close is logged, never masks the result.
      for (const close of closers.reverse()) await close().catch((error: unknown) => logger.warn({ err: String(error) }, 'cleanup failed'));
    }
  };
}
