import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { checkScope, planRun, runPipeline, type DayResult, type SkippedDay } from '@recsys/core';
import { catalogSource } from '../catalog.js';
import { commandContext, loggerFor, parseList, windowDaysOf, withAcceptAnomaly, withCommonOptions, withMovePointerBack, withScopeOptions, withWindowDays, withWindowOptions, type WindowFlags, windowOptions } from '../options.js';
import { describeError, handleError } from '../handle-error.js';
import { pipelineEnv } from '../wiring.js';
import { out, outJson, printPublishedArtifacts } from '../output.js';
import { killHook } from '../test-hooks.js';
import { signalsLine } from './signals.js';
import { Interrupted, interruptOnSignals, terminalProgress } from '../interrupt.js';

interface RunFlags extends WindowFlags {
  movePointerBack?: boolean;
  acceptAnomaly?: boolean;
  windowDays?: string;
  republishAffected?: boolean;
  skipEmptyDays?: boolean;
  catalog?: string;
  catalogFormat?: string;
}

function printDay(day: DayResult): void {
  const c = day.counts;
  out(`  ${day.day}  read ${c.read}  accepted ${c.accepted}  duplicates ${c.duplicates}  rejected ${c.rejected}  out-of-window ${c.out_of_window}  other tenant/surface ${c.other_scope}  (${(day.durations_ms.total / 1000).toFixed(1)} s)`);
  if (day.catalog) out(`    catalog        ${day.catalog.items} items for this surface from ${day.catalog.rows} rows (${day.catalog.malformed} malformed)  ${day.catalog.location}`);
  printPublishedArtifacts(day.day, day.artifacts);
  if (day.quarantine) out(`    quarantine     ${day.quarantine}`);
  if (day.signals) out(signalsLine(day.signals));
}

export function runCommand(): Command {
  const cmd = new Command('run').description('ingest → validate → compute → publish, for each UTC day of the window');
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  withWindowOptions(cmd);
  cmd.option('--artifacts <types>', 'comma-separated artifact types: popularity, cooc, implicit, session_seq, content_sim (default: config artifact_kinds, else popularity,cooc)');
  cmd.option('--catalog <file>', 'item catalog for content_sim, CSV or JSONL (default: config catalog.path)');
  cmd.option('--catalog-format <format>', 'catalog format, csv or jsonl (default: from the file extension)');
  withMovePointerBack(cmd);
  withAcceptAnomaly(cmd);
  withWindowDays(cmd);
  cmd.option('--republish-affected', 'with --incremental: also re-run the published days whose raw input changed since they were ingested (late data) and every window containing them, oldest first');
  cmd.option('--skip-empty-days', 'backfills: skip days with no raw input or no events for the tenant/surface (listed in the summary and --json as skipped_days) instead of stopping at the first');
  cmd.action(async (flags: RunFlags) => {
    const logger = loggerFor(flags);
    const interrupt = interruptOnSignals();
    const progress = terminalProgress(interrupt.signal, process.stderr.isTTY === true && !flags.json);
    const days: DayResult[] = [];
    const skipped: SkippedDay[] = [];
    let plan;
    try {
      const ctx = await commandContext(flags, logger);
      const env = { ...pipelineEnv(ctx.config, logger), progress, signal: interrupt.signal };
      const types = flags.artifacts ? parseList('--artifacts', flags.artifacts) : ctx.config.artifactKinds;
      const catalog = types.includes('content_sim') ? await catalogSource(flags, ctx.config, checkScope({ tenant: flags.tenant, surface: flags.surface }), process.cwd()) : undefined;
      plan = await planRun(env, {
        ...windowOptions(flags),
        types,
        catalog,
        movePointerBack: flags.movePointerBack,
        skipEmptyDays: flags.skipEmptyDays,
        acceptAnomaly: flags.acceptAnomaly,
        windowDays: windowDaysOf(flags.windowDays, ctx.config),
        republishAffected: flags.republishAffected,
      });
      logger.info({ run_id: env.identity.runId, ...plan.scope, segment: plan.segment, days: plan.days, types: plan.types }, 'run started');
      const skippedText = plan.skipped && plan.skipped.length > 0 ? `, ${plan.skipped.length} without raw input skipped` : '';
      if (!flags.json) out(`recsys-pipelines run ${plan.scope.tenant}/${plan.scope.surface} segment=${plan.segment} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'}${skippedText})`);
      if (!flags.json && plan.lateData && plan.lateData.changed.length > 0) {
        out(`  late data: raw input changed since publish for ${plan.lateData.changed.map((c) => c.day).join(', ')}; affected published days: ${plan.lateData.affected.join(', ')}`);
        out(plan.republished ? `  re-running ${plan.republished.join(', ')} (--republish-affected), oldest first` : '  re-run them with --republish-affected');
      }
      await runPipeline(
        env,
        plan,
        (day) => {
          days.push(day);
          progress.clear();
          if (!flags.json) printDay(day);
        },
        killHook(),
        (skip) => {
          progress.clear();
          skipped.push(skip);
          if (!flags.json) out(`  ${skip.day}  skipped (--skip-empty-days): ${skip.detail}`);
        },
      );
      const manifestUri = days.at(-1)?.manifest_uri;
      if (flags.json) {
        const late = plan.lateData ? { late_data: { ...plan.lateData, republished: plan.republished ?? [] } } : {};
        outJson({ ok: true, command: 'run', run_id: env.identity.runId, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment, days, ...(flags.skipEmptyDays ? { skipped_days: skipped } : {}), ...late, manifest_uri: manifestUri ?? null });
      } else if (manifestUri) {
        out(`manifest: ${manifestUri.startsWith('file://') ? fileURLToPath(manifestUri) : manifestUri}`);
      } else if (skipped.length > 0) {
        out(`nothing published: every day was skipped`);
      } else {
        out('nothing to do: already up to date');
      }
    } catch (error) {
      progress.clear();
      if (error instanceof Interrupted) {
        // Say exactly what is live now: the days before the signal are published, the rest are not.
        const done = days.map((d) => d.day);
        const notDone = (plan?.days ?? []).filter((d) => !done.includes(d));
        const message = `${error.message}: published ${done.length > 0 ? done.join(', ') : 'nothing'}; not published ${notDone.length > 0 ? notDone.join(', ') : 'nothing'} (their pointers did not move; temporary files were removed)`;
        logger.warn({ signal: error.signalName, published: done, not_published: notDone }, message);
        process.stderr.write(`recsys-pipelines: ${message}\n`);
        process.exitCode = error.exitCode;
        if (flags.json) outJson({ ok: false, command: 'run', error: { kind: 'interrupted', exit_code: error.exitCode, message, context: { signal: error.signalName, not_published: notDone } }, days });
        return;
      }
      process.exitCode = handleError(error, logger, (line) => process.stderr.write(line + '\n'));
      if (flags.json) {
        const d = describeError(error);
        outJson({ ok: false, command: 'run', error: { kind: d.kind, exit_code: d.exitCode, message: d.message, ...(d.context ? { context: d.context } : {}) }, days, ...(flags.skipEmptyDays ? { skipped_days: skipped } : {}) });
      }
    } finally {
      interrupt.dispose();
    }
  });
  return cmd;
}
