import { systemClock, UsageError, type Logger, type OpsEnv, type Scope } from '@recsys/core';
import { commandContext, loggerFor, type CommandContext, type CommonOptions } from '../options.js';
import { describeError, handleError } from '../handle-error.js';
import { openAreas, runIdentity } from '../wiring.js';
import { outJson } from '../output.js';
import { nodeSha256 } from '@recsys/storage-fs';

/** Flags of the commands that take an optional `--tenant`/`--surface` pair. */
export interface OptionalScopeFlags {
  tenant?: string;
  surface?: string;
}

/** `--tenant` and `--surface` together, or neither (every tenant/surface). */
export function optionalScope(flags: OptionalScopeFlags): Scope | undefined {
  if (flags.tenant === undefined && flags.surface === undefined) return undefined;
  if (flags.tenant === undefined || flags.surface === undefined) throw new UsageError('give --tenant and --surface together (or neither, for every tenant/surface)');
  return { tenant: flags.tenant, surface: flags.surface };
}

/** Parses a whole-number flag. */
export function intFlag(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** What the operations commands need: only the blob and registry areas are touched. */
export function opsEnv(ctx: CommandContext, logger: Logger): OpsEnv {
  const areas = openAreas(ctx.config, logger);
  return { areas: { objects: areas.objects, registry: areas.registry }, clock: systemClock, logger, identity: runIdentity(), sha256: nodeSha256 };
}

/**
 * Runs a command action: loads config, maps errors to exit codes (and to a
 * JSON error document with `--json`). The body returns the exit code.
 */
export async function runAction(command: string, flags: CommonOptions, body: (ctx: CommandContext, logger: Logger) => Promise<number>): Promise<void> {
  const logger = loggerFor(flags);
  try {
    const ctx = await commandContext(flags, logger);
    process.exitCode = await body(ctx, logger);
  } catch (error) {
    process.exitCode = handleError(error, logger, (line) => process.stderr.write(line + '\n'));
    if (flags.json) {
      const d = describeError(error);
      outJson({ ok: false, command, error: { kind: d.kind, exit_code: d.exitCode, message: d.message, ...(d.context ? { context: d.context } : {}) } });
    }
  }
}

/** `0ef6b7852e97` — enough of a version for humans (rollback --to accepts a unique prefix). */
export function short(version: string): string {
  return version.slice(0, 12);
}
