import { Command } from 'commander';
import { z } from 'zod';
import { buildReport, DEFAULT_MAX_AGE_MS, keys, parseDuration, renderReportHtml, REPORT_DEFAULTS, type ReportDocument } from '@recsys/core';
import { action } from '../action.js';
import { intFlag, OptionalScopeFlags, withCommonOptions, withOptionalScopeOptions, withScope } from '../options.js';
import { out, outJson } from '../output.js';
import { commandClock, openAreas } from '../wiring.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { writeFileAtomic } from '../write-file-atomic.js';

const ReportFlags = OptionalScopeFlags.extend({
  out: z.string().optional(),
  nextToManifest: z.boolean().optional(),
  days: intFlag('--days', 1),
  top: intFlag('--top', 1),
  maxAge: z.string().transform((value) => parseDuration('--max-age', value)),
})
  .transform(withScope)
  .superRefine((flags, ctx) => {
    if (flags.out === undefined && !flags.nextToManifest && !flags.json) ctx.addIssue({ code: 'custom', message: 'report needs --out <file> (HTML), --next-to-manifest, or --json (data on stdout)' });
    if (flags.nextToManifest && !flags.scope) ctx.addIssue({ code: 'custom', message: '--next-to-manifest needs --tenant and --surface (the report goes next to that manifest)' });
  });

function summary(doc: ReportDocument): string {
  const stale = doc.scopes.filter((s) => !s.freshness.fresh).map((s) => `${s.tenant}/${s.surface}`);
  return `${doc.scopes.length} tenant/surface${doc.scopes.length === 1 ? '' : 's'}${stale.length > 0 ? `, stale: ${stale.join(', ')}` : doc.scopes.length > 0 ? ', all fresh' : ' (nothing published)'}`;
}

/** `report`: one self-contained HTML file (and `--json`) about what is live. */
export function reportCommand(): Command {
  const cmd = new Command('report').description('write a self-contained HTML report of what is live: freshness, versions, top items, neighbours, history, ingest per day, how to roll back');
  withCommonOptions(cmd);
  withOptionalScopeOptions(cmd);
  cmd
    .option('--out <file>', 'write the HTML report to this file (atomically)')
    .option('--next-to-manifest', 'write the HTML report into the registry as current/<tenant>/<surface>/report.html (needs --tenant and --surface)')
    .option('--days <n>', 'days of ingest shown, ending with the newest ingested or live day', String(REPORT_DEFAULTS.days))
    .option('--top <n>', 'top items shown', String(REPORT_DEFAULTS.top))
    .option('--max-age <duration>', 'freshness SLO, as status --max-age', `${DEFAULT_MAX_AGE_MS / 3_600_000}h`)
    .addHelpText(
      'after',
      `
The report loads nothing from the network (inline CSS and SVG, no scripts):
open it from a file share or attach it to a ticket. --json prints the same
data on stdout. The exit code does not depend on freshness (use status as the
probe); 1/2 on errors.

Examples:
  $ recsys-pipelines report --out report.html
  $ recsys-pipelines report --tenant demo --surface home --days 30 --out demo-home.html
  $ recsys-pipelines report --json > report.json`,
    );
  cmd.action(
    action({
      command: 'report',
      flags: ReportFlags,
      run: async ({ flags, config, logger, json }) => {
        const { scope } = flags;
        const areas = await openAreas(config, logger);
        const doc = await buildReport(
          { areas: { objects: areas.objects, registry: areas.registry, artifacts: areas.artifacts }, clock: commandClock() },
          { scope, days: flags.days, top: flags.top, maxAgeMs: flags.maxAge, limits: config.limits, configArg: flags.config },
        );
        const written: string[] = [];
        if (flags.out !== undefined || flags.nextToManifest) {
          const text = renderReportHtml(doc, { tool: `${TOOL_NAME} ${TOOL_VERSION}` });
          if (flags.out !== undefined) written.push(await writeFileAtomic('--out', flags.out, text));
          if (flags.nextToManifest && scope) {
            const key = keys.manifest(scope).replace(/manifest\.json$/, 'report.html');
            await areas.registry.put(key, text);
            written.push(areas.registry.uri(key));
          }
        }
        if (json) outJson({ ok: true, command: 'report', ...(written.length > 0 ? { written } : {}), ...doc });
        else for (const w of written) out(`report written: ${w} (${summary(doc)})`);
        logger.info({ written, scopes: doc.scopes.length, stale: doc.stale }, 'report');
      },
    }),
  );
  return cmd;
}
