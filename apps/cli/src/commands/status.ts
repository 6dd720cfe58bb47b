import { Command } from 'commander';
import { z } from 'zod';
import { collectStatus, DEFAULT_MAX_AGE_MS, EXIT_CODES, formatDuration, parseDuration, renderPrometheus, type StatusReport } from '@recsys/core';
import { action } from '../action.js';
import { OptionalScopeFlags, withCommonOptions, withOptionalScopeOptions, withScope } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';
import { writeFileAtomic } from '../write-file-atomic.js';

const StatusFlags = OptionalScopeFlags.extend({
  maxAge: z.string().transform((value) => parseDuration('--max-age', value)),
  prometheus: z.string().optional(),
  verify: z.boolean().optional(),
}).transform(withScope);

function print(report: StatusReport, registry: string, configFile: string | undefined): void {
  if (report.scopes.length === 0) {
    // Most often the wrong folder or config: say where we looked.
    out(`no manifest under ${registry}/current: nothing is published there (stale)`);
    out(`  looked in the registry of ${configFile === undefined ? 'the embedded default config (./.out, relative to this folder); pass --config for yours' : `--config ${configFile}`}`);
  }
  const maxAge = formatDuration(report.max_age_seconds * 1000);
  for (const s of report.scopes) {
    const state = s.fresh ? 'FRESH' : 'STALE';
    let head: string;
    if (s.data_age_seconds !== undefined) head = `data ${formatDuration(s.data_age_seconds * 1000)} old (window ends ${s.oldest_window_end}; max age ${maxAge})`;
    else head = s.age_seconds !== undefined ? `max age ${maxAge}` : (s.stale_reason ?? '');
    out(`${s.tenant}/${s.surface}  ${state}  ${head}`);
    if (s.age_seconds !== undefined) out(`  manifest updated ${s.updated_at} (${formatDuration(s.age_seconds * 1000)} ago)`);
    if (!s.fresh && s.age_seconds !== undefined && s.stale_reason) out(`  ${s.stale_reason}`);
    for (const a of s.artifacts) {
      const parts = [pad(a.key, 14), short(a.version)];
      if (a.items !== undefined) parts.push(pad(`${a.items} rows`, 10));
      if (a.size_bytes !== undefined) parts.push(pad(`${a.size_bytes} B`, 10));
      if (a.window) parts.push(`window ${a.window.start}..${a.window.end}`);
      if (a.data_age_seconds !== undefined) parts.push(`${a.fresh ? 'fresh' : 'STALE'} ${formatDuration(a.data_age_seconds * 1000)}`);
      if (a.published_at) parts.push(`published ${a.published_at}`);
      parts.push(a.check);
      out(`  ${parts.join('  ')}`);
      if (a.problem) out(`    PROBLEM: ${a.problem} (run \`recsys-pipelines verify\`)`);
    }
    if (s.manifest_lags_history) out('  the manifest lags its history (a publish crashed mid-commit); the next publish or rollback rolls it forward');
    const h = s.last_history;
    if (h) out(`  last change: #${h.seq} ${h.reason} at ${h.at} by ${h.actor.user}@${h.actor.host}${h.message !== undefined ? ` ${JSON.stringify(h.message)}` : ''}`);
  }
  if (report.scopes.some((s) => s.artifacts.length > 0)) {
    out(
      report.verified
        ? 'blobs: verified (parsed and hashed, as `verify` does)'
        : 'blobs: unverified (each exists with the size its version record says; `status --verify` or `verify` recomputes the hashes)',
    );
  }
}

/** Exit code of a report: a served blob with a problem (1) outranks staleness (5). */
export function statusExitCode(report: StatusReport): number {
  if (report.problems > 0) return EXIT_CODES.integrity;
  return report.stale ? EXIT_CODES.stale : 0;
}

export function statusCommand(): Command {
  const cmd = new Command('status').description('freshness of every tenant/surface (or one): data age of the served artifacts vs --max-age; exits 5 when stale, 1 when a served blob is missing or damaged');
  withCommonOptions(cmd);
  withOptionalScopeOptions(cmd)
    .option('--max-age <duration>', 'freshness SLO: the largest data age (now minus the end of the served window) that is still fresh, e.g. 26h, 90m, 2d', `${DEFAULT_MAX_AGE_MS / 3_600_000}h`)
    .option('--verify', 'also parse and hash every served blob (as `verify` does) instead of checking existence and size only')
    .option('--prometheus <file>', 'also write node-exporter textfile metrics to this file (atomically)')
    .addHelpText('after', '\nExit codes: 0 fresh, 5 stale (or nothing published), 1 when a served blob is missing, unreadable or not what its record says (or on runtime errors), 2 on usage errors. Suits cron and Kubernetes probes.');
  cmd.action(
    action({
      command: 'status',
      flags: StatusFlags,
      run: async ({ flags, config, logger, json }) => {
        const env = await opsEnv(config, logger);
        const report = await collectStatus(env, { scope: flags.scope, maxAgeMs: flags.maxAge, verify: flags.verify === true });
        if (flags.prometheus !== undefined) await writeFileAtomic('--prometheus', flags.prometheus, renderPrometheus(report));
        const code = statusExitCode(report);
        if (json) outJson({ ok: code === 0, command: 'status', ...report });
        else print(report, env.areas.registry.location, config.file);
        if (report.stale) logger.warn({ stale: report.scopes.filter((s) => !s.fresh).map((s) => `${s.tenant}/${s.surface}`) }, 'stale artifacts');
        if (report.problems > 0) logger.warn({ problems: report.scopes.flatMap((s) => s.artifacts.filter((a) => a.problem !== undefined).map((a) => `${s.tenant}/${s.surface} ${a.key}: ${a.problem!}`)) }, 'served blobs with problems');
        return code;
      },
    }),
  );
  return cmd;
}
