import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { z } from 'zod';
import { collectStatus, DEFAULT_MAX_AGE_MS, EXIT_CODES, formatDuration, parseDuration, renderPrometheus, RecsysError, type StatusReport } from '@recsys/core';
import { action } from '../action.js';
import { OptionalScopeFlags, withCommonOptions, withOptionalScopeOptions, withScope } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';

const StatusFlags = OptionalScopeFlags.extend({
  maxAge: z.string().transform((value) => parseDuration('--max-age', value)),
  prometheus: z.string().optional(),
}).transform(withScope);

/**
 * Writes the node-exporter textfile atomically: the collector must never read
 * a half-written file, so write a temp file beside it, fsync, rename.
 */
async function writeTextfile(file: string, text: string): Promise<void> {
  const path = resolve(file);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new RecsysError('runtime', `cannot write --prometheus ${path}: ${(error as Error).message}`, { file: path }, { cause: error });
  }
}

function print(report: StatusReport): void {
  if (report.scopes.length === 0) out('no manifest in the registry: nothing is published (stale)');
  for (const s of report.scopes) {
    const state = s.fresh ? 'FRESH' : 'STALE';
    const age = s.age_seconds !== undefined ? `updated ${s.updated_at} (${formatDuration(s.age_seconds * 1000)} ago, max age ${formatDuration(report.max_age_seconds * 1000)})` : (s.stale_reason ?? '');
    out(`${s.tenant}/${s.surface}  ${state}  ${age}`);
    if (!s.fresh && s.age_seconds !== undefined && s.stale_reason) out(`  ${s.stale_reason}`);
    for (const a of s.artifacts) {
      const parts = [pad(a.key, 14), short(a.version)];
      if (a.items !== undefined) parts.push(pad(`${a.items} rows`, 10));
      if (a.window) parts.push(`window ${a.window.start}..${a.window.end}`);
      if (a.published_at) parts.push(`published ${a.published_at}`);
      out(`  ${parts.join('  ')}`);
      if (a.problem) out(`    PROBLEM: ${a.problem} (run \`recsys-pipelines verify\`)`);
    }
    if (s.manifest_lags_history) out('  the manifest lags its history (a publish crashed mid-commit); the next publish or rollback rolls it forward');
    const h = s.last_history;
    if (h) out(`  last change: #${h.seq} ${h.reason} at ${h.at} by ${h.actor.user}@${h.actor.host}${h.message !== undefined ? ` ${JSON.stringify(h.message)}` : ''}`);
  }
}

export function statusCommand(): Command {
  const cmd = new Command('status').description('freshness of every tenant/surface (or one): manifest age vs --max-age, served versions; exits 5 when stale');
  withCommonOptions(cmd);
  withOptionalScopeOptions(cmd)
    .option('--max-age <duration>', 'freshness SLO, e.g. 26h, 90m, 2d', `${DEFAULT_MAX_AGE_MS / 3_600_000}h`)
    .option('--prometheus <file>', 'also write node-exporter textfile metrics to this file (atomically)')
    .addHelpText('after', '\nExit codes: 0 fresh, 5 stale (or nothing published), 1/2 on errors. Suits cron and Kubernetes probes.');
  cmd.action(
    action({
      command: 'status',
      flags: StatusFlags,
      run: async ({ flags, config, logger, json }) => {
        const report = await collectStatus(await opsEnv(config, logger), { scope: flags.scope, maxAgeMs: flags.maxAge });
        if (flags.prometheus !== undefined) await writeTextfile(flags.prometheus, renderPrometheus(report));
        if (json) outJson({ ok: !report.stale, command: 'status', ...report });
        else print(report);
        if (report.stale) logger.warn({ stale: report.scopes.filter((s) => !s.fresh).map((s) => `${s.tenant}/${s.surface}`) }, 'stale artifacts');
        return report.stale ? EXIT_CODES.stale : 0;
      },
    }),
  );
  return cmd;
}
