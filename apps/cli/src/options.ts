import { Option, type Command } from 'commander';
import { z } from 'zod';
import { UsageError, type Scope } from '@recsys/core';
import { LOG_LEVELS } from './logger.js';

/*
 * Commander declares the flags (help text, mandatory, choices); the zod
 * schemas below validate and convert what it parsed, so every command's
 * action receives typed options and every bad value is a usage error
 * (exit 2) that names its flag. Schemas are plain objects (unknown keys are
 * dropped), so a command composes them with `.extend()`.
 */

/** Options every command takes. */
export const CommonFlags = z.object({
  config: z.string().optional(),
  logLevel: z.string().optional(),
  json: z.boolean().optional(),
});
export type CommonOptions = z.infer<typeof CommonFlags>;

/** `--tenant` and `--surface` (required) and `--segment`. */
export const ScopeFlags = CommonFlags.extend({
  tenant: z.string(),
  surface: z.string(),
  segment: z.string().optional(),
});

/** Parses `a,b,c` into a list. */
export function parseList(flag: string, value: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag} needs at least one value`);
  return items;
}

/** A comma-separated list flag; an empty value counts as not given. */
export function listFlag(flag: string) {
  return z
    .string()
    .optional()
    .transform((value) => (value ? parseList(flag, value) : undefined));
}

/** A whole-number flag (`--steps 3`), at least `min`. */
export function intFlag(flag: string, min: number) {
  return z.string().transform((value, ctx) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      ctx.addIssue({ code: 'custom', message: `${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** Flags of the commands that process a tenant/surface window (`run` and the job-mode steps). */
export const WindowFlags = ScopeFlags.extend({
  start: z.string().optional(),
  end: z.string(),
  incremental: z.boolean().optional(),
  artifacts: listFlag('--artifacts'),
});
export type WindowOptions = z.infer<typeof WindowFlags>;

/** The scope and window part of {@link WindowOptions}, as core's run/job options take it. */
export function windowOptions(flags: WindowOptions) {
  return { tenant: flags.tenant, surface: flags.surface, segment: flags.segment, start: flags.start, end: flags.end, incremental: flags.incremental };
}

/** Optional `--tenant` and `--surface` (they go together; see {@link withScope}). */
export const OptionalScopeFlags = CommonFlags.extend({
  tenant: z.string().optional(),
  surface: z.string().optional(),
});

/**
 * Adds `scope` to flags with an optional `--tenant`/`--surface` pair: both,
 * or neither (every tenant/surface). Use as `Schema.transform(withScope)`.
 */
export function withScope<F extends { tenant?: string | undefined; surface?: string | undefined }>(flags: F, ctx: z.RefinementCtx): F & { scope: Scope | undefined } {
  if (flags.tenant === undefined && flags.surface === undefined) return { ...flags, scope: undefined };
  if (flags.tenant === undefined || flags.surface === undefined) {
    ctx.addIssue({ code: 'custom', message: 'give --tenant and --surface together (or neither, for every tenant/surface)' });
    return z.NEVER;
  }
  return { ...flags, scope: { tenant: flags.tenant, surface: flags.surface } };
}

/** The catalog flags of `run` and `compute` (checked only when `content_sim` is computed). */
export const CatalogFlags = z.object({
  catalog: z.string().optional(),
  catalogFormat: z.string().optional(),
});

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

/** Adds `--tenant` and `--surface`, both optional (they go together). */
export function withOptionalScopeOptions(cmd: Command): Command {
  return cmd.option('--tenant <tenant>', 'only this tenant (with --surface)').option('--surface <surface>', 'only this surface (with --tenant)');
}

/** Adds `--start`, `--end`, `--incremental`. */
export function withWindowOptions(cmd: Command): Command {
  return cmd
    .option('--start <day>', 'first UTC day, YYYY-MM-DD (inclusive)')
    .requiredOption('--end <day>', 'last UTC day, YYYY-MM-DD (inclusive)')
    .option('--incremental', 'start the day after the checkpoint (first run needs --start)');
}

/** Adds `--catalog` and `--catalog-format`. */
export function withCatalogOptions(cmd: Command): Command {
  return cmd
    .option('--catalog <file>', 'item catalog for content_sim, CSV or JSONL (default: config catalog.path)')
    .option('--catalog-format <format>', 'catalog format, csv or jsonl (default: from the file extension)');
}

/** Adds `--move-pointer-back` (run, publish): the deliberate way to serve an older window (DESIGN §5.5). */
export function withMovePointerBack(cmd: Command): Command {
  return cmd.option(
    '--move-pointer-back',
    'also move a key whose live window ends after this day back to this day (recorded in history); without it an older day is stored and recorded but the newer live version stays',
  );
}

/** `--move-pointer-back` (run, publish). */
export const MovePointerBackFlags = z.object({ movePointerBack: z.boolean().optional() });

/** Adds `--accept-anomaly` (run, validate, merge): publish one day the volume-anomaly gate blocks (DESIGN §9). */
export function withAcceptAnomaly(cmd: Command): Command {
  return cmd.option('--accept-anomaly', 'publish the day even though the volume-anomaly gate blocks it (one day: --start = --end); recorded in its ingest report and the history entry');
}

/** `--accept-anomaly` (run, validate, merge). */
export const AcceptAnomalyFlags = z.object({ acceptAnomaly: z.boolean().optional() });

/** Adds `--window-days <n>` (run, compute, merge, publish): artifacts over the N days ending with each day (DESIGN §9). */
export function withWindowDays(cmd: Command): Command {
  return cmd.option('--window-days <n>', "each day's artifacts cover the N days ending with it, from per-day aggregates (default: config window_days, else 1)");
}

/** `--window-days <n>` (run, compute, merge, publish); absent: the config's `window_days`. */
export const WindowDaysFlags = z.object({ windowDays: intFlag('--window-days', 1).optional() });
