import { Command } from 'commander';
import { z } from 'zod';
import { checkScope, planRun, runPipeline, type DayResult, type RunPlan, type SkippedDay } from '@recsys/core';
import { action } from '../action.js';
import { catalogSource } from '../catalog.js';
import {
  AcceptAnomalyFlags,
  CatalogFlags,
  MovePointerBackFlags,
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
import { interruptiblePipelineEnv } from '../wiring.js';
import { out, outJson, printArtifacts, printManifest } from '../output.js';
import { killHook } from '../test-hooks.js';
import { signalsLine } from './signals.js';
import { Interrupted } from '../interrupt.js';

const RunFlags = WindowFlags.extend(CatalogFlags.shape)
  .extend(MovePointerBackFlags.shape)
  .extend(AcceptAnomalyFlags.shape)
  .extend(WindowDaysFlags.shape)
  .extend({ skipEmptyDays: z.boolean().optional(), republishAffected: z.boolean().optional() });

function printDay(day: DayResult): void {
  const c = day.counts;
  out(`  ${day.day}  read ${c.read}  accepted ${c.accepted}  duplicates ${c.duplicates}  rejected ${c.rejected}  out-of-window ${c.out_of_window}  other tenant/surface ${c.other_scope}  (${(day.durations_ms.total / 1000).toFixed(1)} s)`);
  if (day.catalog) out(`    catalog        ${day.catalog.items} items for this surface from ${day.catalog.rows} rows (${day.catalog.malformed} malformed)  ${day.catalog.location}`);
  printArtifacts(day.day, day.artifacts);
  if (day.quarantine) out(`    quarantine     ${day.quarantine}`);
  if (day.signals) out(signalsLine(day.signals));
}

/** Says exactly what is live after a signal: the days before it are published, the rest are not. */
function explainInterrupt(error: Interrupted, plan: RunPlan | undefined, days: readonly DayResult[]): Interrupted {
  const done = days.map((d) => d.day);
  const notDone = (plan?.days ?? []).filter((d) => !done.includes(d));
  return error.explained(
    `published ${done.length > 0 ? done.join(', ') : 'nothing'}; not published ${notDone.length > 0 ? notDone.join(', ') : 'nothing'} (their pointers did not move; temporary files were removed)`,
    { published: done, not_published: notDone },
  );
}

export function runCommand(): Command {
  const cmd = new Command('run').description('ingest → validate → compute → publish, for each UTC day of the window');
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  withWindowOptions(cmd);
  cmd.option('--artifacts <types>', 'comma-separated artifact types: popularity, cooc, implicit, session_seq, content_sim (default: config artifact_kinds, else popularity,cooc)');
  withCatalogOptions(cmd);
  withMovePointerBack(cmd);
  withAcceptAnomaly(cmd);
  withWindowDays(cmd);
  cmd.option('--republish-affected', 'with --incremental: also re-run the published days whose raw input changed since they were ingested (late data) and every window containing them, oldest first');
  cmd.option('--skip-empty-days', 'backfills: skip days with no raw input or no events for the tenant/surface (listed in the summary and --json as skipped_days) instead of stopping at the first');
  cmd.action(
    action({
      command: 'run',
      flags: RunFlags,
      partial: () => ({ days: [] as DayResult[] }) as { days: DayResult[]; skipped_days?: SkippedDay[] },
      run: async ({ flags, config, logger, json, partial, onClose }) => {
        const { days } = partial;
        const skipped: SkippedDay[] = [];
        if (flags.skipEmptyDays) partial.skipped_days = skipped;
        const { env, progress } = await interruptiblePipelineEnv(config, logger, json, onClose);
        const types = flags.artifacts ?? config.artifactKinds;
        const catalog = types.includes('content_sim') ? await catalogSource(flags, config, checkScope({ tenant: flags.tenant, surface: flags.surface }), process.cwd()) : undefined;
        const plan = await planRun(env, {
          ...windowOptions(flags),
          types,
          catalog,
          movePointerBack: flags.movePointerBack,
          skipEmptyDays: flags.skipEmptyDays,
          acceptAnomaly: flags.acceptAnomaly,
          windowDays: flags.windowDays ?? config.windowDays,
          republishAffected: flags.republishAffected,
        });
        logger.info({ run_id: env.identity.runId, ...plan.scope, segment: plan.segment, days: plan.days, types: plan.types }, 'run started');
        const skippedText = plan.skipped && plan.skipped.length > 0 ? `, ${plan.skipped.length} without raw input skipped` : '';
        if (!json) out(`recsys-pipelines run ${plan.scope.tenant}/${plan.scope.surface} segment=${plan.segment} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'}${skippedText})`);
        if (!json && plan.lateData && plan.lateData.changed.length > 0) {
          out(`  late data: raw input changed since publish for ${plan.lateData.changed.map((c) => c.day).join(', ')}; affected published days: ${plan.lateData.affected.join(', ')}`);
          out(plan.republished ? `  re-running ${plan.republished.join(', ')} (--republish-affected), oldest first` : '  re-run them with --republish-affected');
        }
        try {
          await runPipeline(
            env,
            plan,
            (day) => {
              days.push(day);
              progress.clear();
              if (!json) printDay(day);
            },
            killHook(),
            (skip) => {
              progress.clear();
              skipped.push(skip);
              if (!json) out(`  ${skip.day}  skipped (--skip-empty-days): ${skip.detail}`);
            },
          );
        } catch (error) {
          progress.clear();
          throw error instanceof Interrupted ? explainInterrupt(error, plan, days) : error;
        }
        const manifestUri = days.at(-1)?.manifest_uri;
        if (json) {
          const late = plan.lateData ? { late_data: { ...plan.lateData, republished: plan.republished ?? [] } } : {};
          outJson({ ok: true, command: 'run', run_id: env.identity.runId, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment, days, ...(flags.skipEmptyDays ? { skipped_days: skipped } : {}), ...late, manifest_uri: manifestUri ?? null });
        } else if (manifestUri) printManifest(manifestUri);
        else if (skipped.length > 0) out('nothing published: every day was skipped');
        else out('nothing to do: already up to date');
      },
    }),
  );
  return cmd;
}
