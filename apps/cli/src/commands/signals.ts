import { Command } from 'commander';
import { DEFAULT_SEGMENT } from '@recsys/contracts';
import {
  ConfigError,
  assertComputable,
  checkPathSegment,
  checkScope,
  dayWindow,
  loadCatalog,
  resolveWindowDays,
  signalsJob,
  signalsSkipReason,
  type DaySignalsReport,
} from '@recsys/core';
import { action } from '../action.js';
import { catalogSource } from '../catalog.js';
import { CatalogFlags, WindowFlags, withCatalogOptions, withCommonOptions, withScopeOptions, withWindowOptions } from '../options.js';
import { pipelineEnv } from '../wiring.js';
import { out, outJson } from '../output.js';

/*
 * `signals` (DESIGN §8.2): the job step that writes the service's signal
 * tables from staged (or else published) artifacts, so a scheduler can run
 * it after `publish`. `run` does the same after each published day when
 * `db.dsn` is set.
 */

const SignalsFlags = WindowFlags.extend(CatalogFlags.shape);

/** One human line per day. */
export function signalsLine(report: DaySignalsReport): string {
  if (!report.written) return `    signals        skipped: ${report.skipped ?? 'nothing to write'}`;
  const r = report.rows ?? {};
  const parts = [
    r.popularity_rows !== undefined ? `item_popularity_daily ${r.popularity_rows}` : undefined,
    r.covisit_rows !== undefined ? `item_covisit_daily ${r.covisit_rows}` : undefined,
    r.tag_rows !== undefined ? `item_tags ${r.tag_rows}` : undefined,
  ].filter((p) => p !== undefined);
  return `    signals        ${parts.join('  ')} rows${r.tenant_created ? '  (tenant created)' : ''}  ${report.location}`;
}

export function signalsCommand(): Command {
  const cmd = new Command('signals').description("job mode: write the service's signal tables (item_popularity_daily, item_covisit_daily, item_tags) from staged or published artifacts, one transaction per day");
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  withWindowOptions(cmd);
  cmd.option('--artifacts <types>', 'which signal tables to write, by artifact type: popularity, cooc, content_sim (item_tags, from the catalog) (default: config artifact_kinds, else popularity,cooc)');
  withCatalogOptions(cmd);
  cmd.action(
    action({
      command: 'signals',
      flags: SignalsFlags,
      partial: () => ({ days: [] as DaySignalsReport[] }),
      run: async ({ flags, config, logger, json, partial: { days }, onClose }) => {
        const env = await pipelineEnv(config, logger, onClose);
        const sink = env.signals;
        if (!sink) throw new ConfigError('db.dsn', "required by signals: the service's database to write the signal tables to");
        const scope = checkScope({ tenant: flags.tenant, surface: flags.surface });
        const segment = checkPathSegment('segment', flags.segment ?? DEFAULT_SEGMENT);
        const types = assertComputable(flags.artifacts ?? config.artifactKinds);
        const plan = { scope, segment, days: await resolveWindowDays(env, scope, { start: flags.start, end: flags.end, incremental: flags.incremental }), types };
        const skipped = signalsSkipReason(segment);
        const source = types.includes('content_sim') && !skipped ? await catalogSource(flags, config, scope, process.cwd()) : undefined;
        const catalog = source ? await loadCatalog(source, env.sha256) : undefined;
        logger.info({ run_id: env.identity.runId, step: 'signals', ...scope, segment, days: plan.days, location: sink.location }, 'signals started');
        if (!json) out(`recsys-pipelines signals ${scope.tenant}/${scope.surface} segment=${segment} (${plan.days.length} day${plan.days.length === 1 ? '' : 's'}) → ${sink.location}`);
        await signalsJob(env, plan, sink, { catalog, dayWindow }, (report) => {
          days.push(report);
          if (!json) out(`  ${report.day}\n${signalsLine(report)}`);
        });
        if (json) outJson({ ok: true, command: 'signals', run_id: env.identity.runId, tenant: scope.tenant, surface: scope.surface, segment, location: sink.location, ...(skipped ? { skipped } : {}), days });
        else if (plan.days.length === 0) out('nothing to do: no days in the window');
      },
    }),
  );
  return cmd;
}
