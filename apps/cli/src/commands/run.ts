import { Command } from 'commander';
import { checkScope, planRun, runPipeline, type DayResult } from '@recsys/core';
import { action } from '../action.js';
import { catalogSource } from '../catalog.js';
import { CatalogFlags, WindowFlags, windowOptions, withCatalogOptions, withCommonOptions, withScopeOptions, withWindowOptions } from '../options.js';
import { pipelineEnv } from '../wiring.js';
import { out, outJson, printArtifacts, printManifest } from '../output.js';
import { killHook } from '../test-hooks.js';

const RunFlags = WindowFlags.extend(CatalogFlags.shape);

function printDay(day: DayResult): void {
  const c = day.counts;
  out(`  ${day.day}  read ${c.read}  accepted ${c.accepted}  duplicates ${c.duplicates}  rejected ${c.rejected}  out-of-window ${c.out_of_window}  other tenant/surface ${c.other_scope}`);
  if (day.catalog) out(`    catalog        ${day.catalog.items} items for this surface from ${day.catalog.rows} rows (${day.catalog.malformed} malformed)  ${day.catalog.location}`);
  printArtifacts(day.artifacts);
  if (day.quarantine) out(`    quarantine     ${day.quarantine}`);
}

export function runCommand(): Command {
  const cmd = new Command('run').description('ingest → validate → compute → publish, for each UTC day of the window');
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  withWindowOptions(cmd);
  cmd.option('--artifacts <types>', 'comma-separated artifact types: popularity, cooc, implicit, session_seq, content_sim (default: config artifact_kinds, else popularity,cooc)');
  withCatalogOptions(cmd);
  cmd.action(
    action({
      command: 'run',
      flags: RunFlags,
      partial: () => ({ days: [] as DayResult[] }),
      run: async ({ flags, config, logger, json, partial: { days }, onClose }) => {
        const env = await pipelineEnv(config, logger, onClose);
        const types = flags.artifacts ?? config.artifactKinds;
        const catalog = types.includes('content_sim') ? await catalogSource(flags, config, checkScope({ tenant: flags.tenant, surface: flags.surface }), process.cwd()) : undefined;
        const plan = await planRun(env, { ...windowOptions(flags), types, catalog });
        logger.info({ run_id: env.identity.runId, ...plan.scope, segment: plan.segment, days: plan.days, types: plan.types }, 'run started');
        if (!json) out(`recsys-pipelines run ${plan.scope.tenant}/${plan.scope.surface} segment=${plan.segment} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'})`);
        await runPipeline(
          env,
          plan,
          (day) => {
            days.push(day);
            if (!json) printDay(day);
          },
          killHook(),
        );
        const manifestUri = days.at(-1)?.manifest_uri;
        if (json) outJson({ ok: true, command: 'run', run_id: env.identity.runId, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment, days, manifest_uri: manifestUri ?? null });
        else if (manifestUri) printManifest(manifestUri);
        else out('nothing to do: already up to date');
      },
    }),
  );
  return cmd;
}
