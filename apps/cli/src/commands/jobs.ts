import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  checkScope,
  computeJob,
  ingestJob,
  mergeJob,
  parseShardCount,
  planJob,
  publishJob,
  resolveShard,
  validateJob,
  type JobOptions,
  type JobPlan,
  type JobStep,
  type Logger,
  type PipelineEnv,
} from '@recsys/core';
import { catalogSource } from '../catalog.js';
import { commandContext, loggerFor, parseList, windowDaysOf, withAcceptAnomaly, withCommonOptions, withMovePointerBack, withScopeOptions, withWindowDays, withWindowOptions, type CommandContext, type WindowFlags, windowOptions } from '../options.js';
import { describeError, handleError } from '../handle-error.js';
import { pipelineEnv } from '../wiring.js';
import { out, outJson, pad, printPublishedArtifacts } from '../output.js';
import { killHook } from '../test-hooks.js';

/*
 * The job-mode steps (DESIGN §6): `ingest`, `validate`, `compute <type…>`,
 * `merge <type…>` and `publish`, each with the flags of `run`, sharing the
 * staging area so a scheduler can run and retry them as separate jobs.
 * The logic is in @recsys/core (pipeline/jobs.ts); these are thin wrappers.
 */

interface JobFlags extends WindowFlags {
  movePointerBack?: boolean;
  acceptAnomaly?: boolean;
  windowDays?: string;
  shard?: string;
  shardCount?: string;
  catalog?: string;
  catalogFormat?: string;
}

/** Adds the flags every job-mode step shares with `run`. */
function jobCommand(name: string, description: string): Command {
  const cmd = new Command(name).description(description);
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  withWindowOptions(cmd);
  return cmd;
}

/** `--shard i/n` and `--shard-count n` (index from JOB_COMPLETION_INDEX). */
function withShardOptions(cmd: Command): Command {
  return cmd
    .option('--shard <i/n>', 'process only the sessions of shard i of n (0-based; FNV-1a 32 of the session_id mod n)')
    .option('--shard-count <n>', 'like --shard, with the index i from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)');
}

/** Splits variadic and comma-separated type arguments. */
function typeArgs(args: readonly string[]): string[] {
  return args.flatMap((a) => parseList('<type>', a));
}

interface StepContext {
  readonly ctx: CommandContext;
  readonly env: PipelineEnv;
  readonly plan: JobPlan;
  readonly logger: Logger;
  readonly json: boolean;
}

/**
 * Runs one step: loads config, plans, calls `body`, prints the result
 * (human lines, or one JSON document with `--json`) and maps errors to exit
 * codes exactly like `run`.
 */
async function runStep(
  step: JobStep,
  flags: JobFlags,
  types: string[] | undefined,
  body: (s: StepContext, days: unknown[]) => Promise<Record<string, unknown> | void>,
): Promise<void> {
  const logger = loggerFor(flags);
  const days: unknown[] = [];
  try {
    const ctx = await commandContext(flags, logger);
    const env = pipelineEnv(ctx.config, logger);
    const shard = resolveShard(step === 'merge' ? { shard: flags.shard } : flags, process.env.JOB_COMPLETION_INDEX);
    const selected = types ?? (flags.artifacts ? parseList('--artifacts', flags.artifacts) : ctx.config.artifactKinds);
    const catalog =
      step === 'compute' && selected.includes('content_sim') ? await catalogSource(flags, ctx.config, checkScope({ tenant: flags.tenant, surface: flags.surface }), process.cwd()) : undefined;
    const options: JobOptions = {
      ...windowOptions(flags),
      types: selected,
      shard,
      shardCount: step === 'merge' && flags.shardCount !== undefined ? parseShardCount('--shard-count', flags.shardCount) : undefined,
      catalog,
      movePointerBack: step === 'publish' && flags.movePointerBack === true,
      acceptAnomaly: flags.acceptAnomaly === true,
      // The window is a property of the artifacts: ingest and validate work on single days.
      windowDays: step === 'compute' || step === 'merge' || step === 'publish' ? windowDaysOf(flags.windowDays, ctx.config) : undefined,
    };
    const plan = await planJob(env, step, options);
    logger.info({ run_id: env.identity.runId, step, ...plan.scope, segment: plan.segment, days: plan.days, types: plan.types, shard: plan.shard }, `${step} started`);
    if (!flags.json) {
      const shardText = plan.shard ? ` shard ${plan.shard.index}/${plan.shard.count}` : '';
      out(`recsys-pipelines ${step} ${plan.scope.tenant}/${plan.scope.surface} segment=${plan.segment}${shardText} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'})`);
    }
    const extra = await body({ ctx, env, plan, logger, json: flags.json === true }, days);
    if (flags.json) {
      outJson({ ok: true, command: step, run_id: env.identity.runId, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment, ...(plan.shard ? { shard: plan.shard } : {}), days, ...(extra ?? {}) });
    } else if (plan.days.length === 0) {
      out('nothing to do: already up to date');
    }
  } catch (error) {
    process.exitCode = handleError(error, logger, (line) => process.stderr.write(line + '\n'));
    if (flags.json) {
      const d = describeError(error);
      outJson({ ok: false, command: step, error: { kind: d.kind, exit_code: d.exitCode, message: d.message, ...(d.context ? { context: d.context } : {}) }, days });
    }
  }
}

export function ingestCommand(): Command {
  const cmd = jobCommand('ingest', 'job mode: raw events → canonical partitions, quarantine and an ingest report, per UTC day');
  withShardOptions(cmd);
  cmd.action(async (flags: JobFlags) => {
    await runStep('ingest', flags, [], async ({ env, plan, json }, days) => {
      await ingestJob(env, plan, (d) => {
        days.push(d);
        if (json) return;
        const c = d.report.counts;
        const shard = c.other_shard !== undefined ? `  other shards ${c.other_shard}` : '';
        out(`  ${d.day}  read ${c.read}  accepted ${c.accepted}  duplicates ${c.duplicates}  rejected ${c.rejected}  out-of-window ${c.out_of_window}  other tenant/surface ${c.other_scope}${shard}`);
        out(`    canonical      ${d.report.canonical.uri}`);
        if (d.report.quarantine) out(`    quarantine     ${d.report.quarantine}`);
      });
    });
  });
  return cmd;
}

export function validateCommand(): Command {
  const cmd = jobCommand('validate', 'job mode: run the canonical validation gates and the volume-anomaly gate on ingested days (exit 3 when one fails)');
  withShardOptions(cmd);
  withAcceptAnomaly(cmd);
  cmd.action(async (flags: JobFlags) => {
    await runStep('validate', flags, [], async ({ env, plan, json }, days) => {
      await validateJob(env, plan, (d) => {
        days.push(d);
        if (!json) out(`  ${d.day}  ok  ${d.canonical.events} events  ${d.canonical.sessions} sessions  ${d.canonical.items} items  rejected ${d.counts.rejected}/${d.counts.read} lines`);
      });
    });
  });
  return cmd;
}

export function computeCommand(): Command {
  const cmd = jobCommand('compute', 'job mode: compute artifacts from canonical partitions and stage them (with --shard: write partial aggregates for merge)');
  cmd.argument('<type...>', 'artifact types: popularity, cooc, implicit, session_seq, content_sim (sharded: popularity, cooc)');
  withShardOptions(cmd);
  cmd.option('--catalog <file>', 'item catalog for content_sim, CSV or JSONL (default: config catalog.path)');
  cmd.option('--catalog-format <format>', 'catalog format, csv or jsonl (default: from the file extension)');
  withWindowDays(cmd);
  cmd.action(async (typeList: string[], flags: JobFlags) => {
    await runStep('compute', flags, typeArgs(typeList), async ({ env, plan, json }, days) => {
      await computeJob(env, plan, (d) => {
        days.push(d);
        if (json) return;
        out(`  ${d.day}  ${d.events} events`);
        for (const s of d.staged) out(`    ${pad(s.type, 14)} ${s.version.slice(0, 12)}  ${pad(`${s.rows} rows`, 12)} staged     ${s.uri}`);
        for (const p of d.partials) out(`    ${pad(p.type, 14)} ${pad(`${p.items} items`, 14)} ${pad(`${p.pairs} pairs`, 14)} partial  ${p.uri}`);
      });
    });
  });
  return cmd;
}

export function mergeCommand(): Command {
  const cmd = jobCommand('merge', 'job mode: combine the partial aggregates of n shards and stage the final artifacts');
  cmd.argument('<type...>', 'artifact types: popularity, cooc');
  cmd.option('--shard-count <n>', 'expected number of shards (default: as recorded in the partials, which must agree)');
  withAcceptAnomaly(cmd);
  withWindowDays(cmd);
  cmd.action(async (typeList: string[], flags: JobFlags) => {
    await runStep('merge', flags, typeArgs(typeList), async ({ env, plan, json }, days) => {
      await mergeJob(env, plan, (d) => {
        days.push(d);
        if (json) return;
        out(`  ${d.day}  ${d.events} events from ${d.shards} shard${d.shards === 1 ? '' : 's'}`);
        for (const s of d.staged) out(`    ${pad(s.type, 14)} ${s.version.slice(0, 12)}  ${pad(`${s.rows} rows`, 12)} staged     ${s.uri}`);
      });
    });
  });
  return cmd;
}

export function publishCommand(): Command {
  const cmd = jobCommand('publish', 'job mode: publish the staged artifacts of each day, pointer last');
  cmd.option('--artifacts <types>', 'comma-separated artifact types to publish (default: config artifact_kinds, else popularity,cooc)');
  withMovePointerBack(cmd);
  withWindowDays(cmd);
  cmd.action(async (flags: JobFlags) => {
    await runStep('publish', flags, undefined, async ({ env, plan, json }, days) => {
      const published = await publishJob(
        env,
        plan,
        (d) => {
          days.push(d);
          if (json) return;
          out(`  ${d.day}`);
          printPublishedArtifacts(d.day, d.artifacts);
        },
        killHook(),
      );
      const manifestUri = published.at(-1)?.manifest_uri;
      if (!json && manifestUri) out(`manifest: ${manifestUri.startsWith('file://') ? fileURLToPath(manifestUri) : manifestUri}`);
      return { manifest_uri: manifestUri ?? null };
    });
  });
  return cmd;
}
