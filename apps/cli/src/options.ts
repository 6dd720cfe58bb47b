import { Option, type Command } from 'commander';
import { UsageError, type Logger } from '@recsys/core';
import { loadConfig, type ResolvedConfig } from './config/load.js';
import { createLogger, LOG_LEVELS } from './logger.js';

/** Options every command takes. */
export interface CommonOptions {
  config?: string;
  logLevel?: string;
  json?: boolean;
}

/** Flags of the commands that process a tenant/surface window (`run` and the job-mode steps). */
export interface WindowFlags extends CommonOptions {
  tenant: string;
  surface: string;
  segment?: string;
  start?: string;
  end: string;
  incremental?: boolean;
  artifacts?: string;
}

/** The scope and window part of {@link WindowFlags}, as core's run/job options take it. */
export function windowOptions(flags: WindowFlags) {
  return { tenant: flags.tenant, surface: flags.surface, segment: flags.segment, start: flags.start, end: flags.end, incremental: flags.incremental };
}

/** Adds `--config`, `--log-level` and `--json`. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'JSON config file (default: embedded filesystem config under .out/)')
    .addOption(
      new Option('--log-level <level>', 'log level for the JSON logs on stderr (default: info; warn when stderr is a terminal, so people read the summary)')
        .choices(LOG_LEVELS)
        .env('RECSYS_LOG_LEVEL')
        .default(process.stderr.isTTY ? 'warn' : 'info', process.stderr.isTTY ? 'warn' : 'info'),
    )
    .option('--json', 'print one machine-readable JSON result on stdout');
}

/** Adds `--tenant`, `--surface` (required) and `--segment`. */
export function withScopeOptions(cmd: Command, { required = true } = {}): Command {
  const tenant = new Option('--tenant <tenant>', 'tenant ([A-Za-z0-9._-], 1-128 chars)');
  const surface = new Option('--surface <surface>', 'surface, e.g. home');
  if (required) {
    tenant.makeOptionMandatory();
    surface.makeOptionMandatory();
  }
  return cmd.addOption(tenant).addOption(surface).option('--segment <segment>', 'cohort segment (default: "default")');
}

/** Adds `--start`, `--end`, `--incremental`. */
export function withWindowOptions(cmd: Command): Command {
  return cmd
    .option('--start <day>', 'first UTC day, YYYY-MM-DD (inclusive)')
    .requiredOption('--end <day>', 'last UTC day, YYYY-MM-DD (inclusive)')
    .option('--incremental', 'start the day after the checkpoint (first run needs --start)');
}

/** Adds `--move-pointer-back` (run, publish): the deliberate way to serve an older window (DESIGN §5.5). */
export function withMovePointerBack(cmd: Command): Command {
  return cmd.option(
    '--move-pointer-back',
    'also move a key whose live window ends after this day back to this day (recorded in history); without it an older day is stored and recorded but the newer live version stays',
  );
}

/** Adds `--accept-anomaly` (run, validate, merge): publish one day the volume-anomaly gate blocks (DESIGN §9). */
export function withAcceptAnomaly(cmd: Command): Command {
  return cmd.option('--accept-anomaly', 'publish the day even though the volume-anomaly gate blocks it (one day: --start = --end); recorded in its ingest report and the history entry');
}

/** Adds `--window-days <n>` (run, compute, merge, publish): artifacts over the N days ending with each day (DESIGN §9). */
export function withWindowDays(cmd: Command): Command {
  return cmd.option('--window-days <n>', 'each day\'s artifacts cover the N days ending with it, from per-day aggregates (default: config window_days, else 1)');
}

/** `--window-days` as a number, else the config's `window_days`. */
export function windowDaysOf(flag: string | undefined, config: { readonly windowDays: number }): number {
  if (flag === undefined) return config.windowDays;
  if (!/^[1-9][0-9]*$/.test(flag.trim())) throw new UsageError(`--window-days must be a positive integer (got ${JSON.stringify(flag)})`, { flag: '--window-days', value: flag });
  return Number(flag.trim());
}

/** Parses `a,b,c` into a list. */
export function parseList(flag: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  return items;
}

/** What every command action starts with: a logger and the loaded config. */
export interface CommandContext {
  readonly logger: Logger;
  readonly config: ResolvedConfig;
  readonly json: boolean;
}

export async function commandContext(options: CommonOptions, logger: Logger): Promise<CommandContext> {
  const config = await loadConfig(options.config, process.cwd());
  for (const warning of config.warnings) logger.warn({ config: config.file }, warning);
  return { logger, config, json: options.json === true };
}

export function loggerFor(options: CommonOptions): Logger {
  return createLogger(options.logLevel ?? 'info');
}
