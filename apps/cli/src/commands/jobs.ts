import { Command } from 'commander';
import { z } from 'zod';
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
import { action } from '../action.js';
import { catalogSource } from '../catalog.js';
import {
  AcceptAnomalyFlags,
  CatalogFlags,
  MovePointerBackFlags,
  parseList,
  WindowDaysFlags,
  WindowFlags,
  windowOptions,
  withAcceptAnomaly,
  withCatalogOptions,
  withCommonOptions,
  withMovePointerBack,
  withScopeOptions,
  withWindowDays,
  withWindowOptions,
} from '../options.js';
import type { ResolvedConfig } from '../config/load.js';
import { interruptiblePipelineEnv } from '../wiring.js';
import { out, outJson, pad, printArtifacts, printManifest, printStaged } from '../output.js';
import { killHook } from '../test-hooks.js';
import { Interrupted } from '../interrupt.js';

/*
 * The job-mode steps (DESIGN §6): `ingest`, `validate`, `compute <type…>`,
 * `merge <type…>` and `publish`, each with the flags of `run`, sharing the
 * staging area so a scheduler can run and retry them as separate jobs.
 * The logic is in @recsys/core (pipeline/plan.ts, day-steps.ts, jobs/); these are thin wrappers.
 */

/** Flags of every step; `args` holds the `<type…>` of compute and merge. */
const JobFlags = WindowFlags.extend({
  shard: z.string().optional(),
  shardCount: z.string().optional(),
  ...CatalogFlags.shape,
  ...MovePointerBackFlags.shape,
  ...AcceptAnomalyFlags.shape,
  ...WindowDaysFlags.shape,
  args: z.array(z.array(z.string())).optional(),
});
type JobFlagValues = z.infer<typeof JobFlags>;

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
    .option('--shard <i/n>', 'shard i of n (0-based): ingest reads part i of the raw input into n session buckets; validate/compute take the sessions with FNV-1a 32 of the session_id mod n = i from every part')
    .option('--shard-count <n>', 'like --shard, with the index i from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)');
}

/** Splits the variadic and comma-separated `<type…>` arguments. */
function typeArgs(flags: JobFlagValues): string[] {
  return (flags.args?.[0] ?? []).flatMap((a) => parseList('<type>', a));
}

interface StepContext {
  readonly env: PipelineEnv;
  readonly plan: JobPlan;
  readonly logger: Logger;
  readonly json: boolean;
  /** Records a finished day (the `days` of the JSON document), clearing the progress line first. */
  readonly done: (day: { readonly day: string }) => void;
}

/** Resolves shard, types and catalog of one step into core's job options. */
async function jobOptions(step: JobStep, flags: JobFlagValues, config: ResolvedConfig, types: string[] | undefined): Promise<JobOptions> {
  const shard = resolveShard(step === 'merge' ? { shard: flags.shard } : flags, process.env.JOB_COMPLETION_INDEX);
  const selected = types ?? flags.artifacts ?? config.artifactKinds;
  const catalog =
    step === 'compute' && selected.includes('content_sim') ? await catalogSource(flags, config, checkScope({ tenant: flags.tenant, surface: flags.surface }), process.cwd()) : undefined;
  return {
    ...windowOptions(flags),
    types: selected,
    shard,
    shardCount: step === 'merge' && flags.shardCount !== undefined ? parseShardCount('--shard-count', flags.shardCount) : undefined,
    catalog,
    movePointerBack: step === 'publish' && flags.movePointerBack === true,
    acceptAnomaly: flags.acceptAnomaly === true,
    // The window is a property of the artifacts: ingest and validate work on single days.
    windowDays: step === 'compute' || step === 'merge' || step === 'publish' ? (flags.windowDays ?? config.windowDays) : undefined,
  };
}

/**
 * The action of one step: plans, calls `body`, prints the result (human
 * lines, or one JSON document with `--json`); errors go through the common
 * action envelope, like `run`.
 */
function stepAction(step: JobStep, types: ((flags: JobFlagValues) => string[]) | undefined, body: (s: StepContext) => Promise<Record<string, unknown> | void>) {
  return action({
    command: step,
    flags: JobFlags,
    partial: () => ({ days: [] as { day: string }[] }),
    run: async ({ flags, config, logger, json, partial: { days }, onClose }) => {
      const { env, progress } = await interruptiblePipelineEnv(config, logger, json, onClose);
      const plan = await planJob(env, step, await jobOptions(step, flags, config, types?.(flags)));
      logger.info({ run_id: env.identity.runId, step, ...plan.scope, segment: plan.segment, days: plan.days, types: plan.types, shard: plan.shard }, `${step} started`);
      if (!json) {
        const shardText = plan.shard ? ` shard ${plan.shard.index}/${plan.shard.count}` : '';
        out(`recsys-pipelines ${step} ${plan.scope.tenant}/${plan.scope.surface} segment=${plan.segment}${shardText} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'})`);
      }
      const done = (day: { day: string }) => {
        progress.clear();
        days.push(day);
      };
      let extra: Record<string, unknown> | void;
      try {
        extra = await body({ env, plan, logger, json, done });
      } catch (error) {
        if (!(error instanceof Interrupted)) throw error;
        // Say what a retry has left to do: the days before the signal are finished, the rest are not.
        const finished = days.map((d) => d.day);
        const left = plan.days.filter((d) => !finished.includes(d));
        throw error.explained(`${step} finished ${finished.length > 0 ? finished.join(', ') : 'no day'}; not done ${left.length > 0 ? left.join(', ') : 'nothing'} (temporary files were removed)`, { finished, not_done: left });
      }
      if (json) {
        outJson({ ok: true, command: step, run_id: env.identity.runId, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment, ...(plan.shard ? { shard: plan.shard } : {}), days, ...(extra ?? {}) });
      } else if (plan.days.length === 0) {
        out('nothing to do: already up to date');
      }
    },
  });
}

export function ingestCommand(): Command {
  const cmd = jobCommand('ingest', 'job mode: raw events → canonical partitions, quarantine and an ingest report, per UTC day');
  withShardOptions(cmd);
  cmd.action(
    stepAction('ingest', () => [], async ({ env, plan, json, done }) => {
      await ingestJob(env, plan, (d) => {
        done(d);
        if (json) return;
        const c = d.report.counts;
        const shard = c.other_shard !== undefined ? `  other shards ${c.other_shard}` : '';
        out(`  ${d.day}  read ${c.read}  accepted ${c.accepted}  duplicates ${c.duplicates}  rejected ${c.rejected}  out-of-window ${c.out_of_window}  other tenant/surface ${c.other_scope}${shard}`);
        if (d.part && d.shard) {
          // A sharded ingest task reads one part of the raw input and writes one bucket per shard.
          const bytes = d.part.pieces.reduce((sum, p) => sum + p.bytes, 0);
          out(`    part           ${d.shard.index} of ${d.shard.count} (${d.part.mode === 'ranges' ? 'byte ranges' : 'whole objects'}): ${d.part.pieces.length} piece${d.part.pieces.length === 1 ? '' : 's'}, ${bytes} bytes`);
          out(`    buckets        ${d.part.buckets.length} (session hash mod ${d.shard.count}), report ${d.report_uri}`);
        } else out(`    canonical      ${d.report.canonical.uri}`);
        if (d.report.quarantine) out(`    quarantine     ${d.report.quarantine}`);
      });
    }),
  );
  return cmd;
}

export function validateCommand(): Command {
  const cmd = jobCommand('validate', 'job mode: run the canonical validation gates and the volume-anomaly gate on ingested days (exit 3 when one fails)');
  withShardOptions(cmd);
  withAcceptAnomaly(cmd);
  cmd.action(
    stepAction('validate', () => [], async ({ env, plan, json, done }) => {
      await validateJob(env, plan, (d) => {
        done(d);
        if (!json) out(`  ${d.day}  ok  ${d.canonical.events} events  ${d.canonical.sessions} sessions  ${d.canonical.items} items  rejected ${d.counts.rejected}/${d.counts.read} lines`);
      });
    }),
  );
  return cmd;
}

export function computeCommand(): Command {
  const cmd = jobCommand('compute', 'job mode: compute artifacts from canonical partitions and stage them (with --shard: write partial aggregates for merge)');
  cmd.argument('<type...>', 'artifact types: popularity, cooc, implicit, session_seq, content_sim (sharded: popularity, cooc)');
  withShardOptions(cmd);
  withCatalogOptions(cmd);
  withWindowDays(cmd);
  cmd.action(
    stepAction('compute', typeArgs, async ({ env, plan, json, done }) => {
      await computeJob(env, plan, (d) => {
        done(d);
        if (json) return;
        // A shard's compute applies the canonical gates itself (no separate validate step is needed): say what it checked.
        const v = d.validated;
        out(v ? `  ${d.day}  ok  ${v.canonical.events} events  ${v.canonical.sessions} sessions  ${v.canonical.items} items  rejected ${v.counts.rejected}/${v.counts.read} lines` : `  ${d.day}  ${d.events} events`);
        printStaged(d.staged);
        for (const p of d.partials) out(`    ${pad(p.type, 14)} ${pad(`${p.items} items`, 14)} ${pad(`${p.pairs} pairs`, 14)} partial  ${p.uri}`);
      });
    }),
  );
  return cmd;
}

export function mergeCommand(): Command {
  const cmd = jobCommand('merge', 'job mode: combine the partial aggregates of n shards and stage the final artifacts');
  cmd.argument('<type...>', 'artifact types: popularity, cooc');
  cmd.option('--shard-count <n>', 'expected number of shards (default: as recorded in the partials, which must agree)');
  withAcceptAnomaly(cmd);
  withWindowDays(cmd);
  cmd.action(
    stepAction('merge', typeArgs, async ({ env, plan, json, done }) => {
      await mergeJob(env, plan, (d) => {
        done(d);
        if (json) return;
        out(`  ${d.day}  ${d.events} events from ${d.shards} shard${d.shards === 1 ? '' : 's'}`);
        printStaged(d.staged);
      });
    }),
  );
  return cmd;
}

export function publishCommand(): Command {
  const cmd = jobCommand('publish', 'job mode: publish the staged artifacts of each day, pointer last');
  cmd.option('--artifacts <types>', 'comma-separated artifact types to publish (default: config artifact_kinds, else popularity,cooc)');
  withMovePointerBack(cmd);
  withWindowDays(cmd);
  cmd.action(
    stepAction('publish', undefined, async ({ env, plan, json, done }) => {
      const published = await publishJob(
        env,
        plan,
        (d) => {
          done(d);
          if (json) return;
          out(`  ${d.day}`);
          printArtifacts(d.day, d.artifacts);
        },
        killHook(),
      );
      const manifestUri = published.at(-1)?.manifest_uri;
      if (!json && manifestUri) printManifest(manifestUri);
      return { manifest_uri: manifestUri ?? null };
    }),
  );
  return cmd;
}
