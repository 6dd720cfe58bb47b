import { Command } from 'commander';
import { z } from 'zod';
import { collectGarbage, DEFAULT_GC_KEEP_HISTORY, parseDuration, type GcReport } from '@recsys/core';
import { action } from '../action.js';
import { intFlag, OptionalScopeFlags, withCommonOptions, withScope } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';

/** Default of `--keep-versions`: a week of daily versions plus a few reruns stay available to `rollback`. */
export const DEFAULT_GC_KEEP_VERSIONS = 10;

const GcFlags = OptionalScopeFlags.extend({
  keepVersions: intFlag('--keep-versions', 0),
  olderThan: z.string().transform((value) => parseDuration('--older-than', value)),
  keepHistory: intFlag('--keep-history', 0),
  dryRun: z.boolean().optional(),
}).transform(withScope);

/**
 * Each kept version is counted once, under the first rule that keeps it
 * (newest, then referenced, then young), so the served version is usually
 * among the newest and "referenced" counts only the older ones still cited.
 */
function keptSummary(k: GcReport['scopes'][number]['kept']): string {
  const total = k.newest + k.referenced + k.young + k.undated;
  const reasons = [
    k.newest > 0 ? `${k.newest} among the newest` : '',
    k.referenced > 0 ? `${k.referenced} referenced by the manifest or history` : '',
    k.young > 0 ? `${k.young} too young` : '',
    k.undated > 0 ? `${k.undated} without a readable publish time` : '',
  ].filter(Boolean);
  return `kept ${total}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}`;
}

function print(report: GcReport): void {
  const verb = report.dry_run ? 'would delete' : 'deleted';
  for (const s of report.scopes) {
    for (const d of s.deleted) {
      out(`${verb} ${s.tenant}/${s.surface} ${pad(d.key ?? d.type, 14)} ${short(d.version)}  ${d.published_at ?? ''}  ${d.size_bytes ?? 0} bytes  ${d.uri ?? ''}`);
    }
    for (const d of s.spared) out(`kept   ${s.tenant}/${s.surface} ${pad(d.key ?? d.type, 14)} ${short(d.version)}  (a publish or rollback started using it while gc ran)`);
    for (const p of s.deleted_parts ?? []) out(`${verb} ${s.tenant}/${s.surface} ingest parts of ${p.day} (${p.parts} parts, ${p.objects} objects, ${p.bytes} bytes): the day is published from its shard partitions`);
    out(`${s.tenant}/${s.surface}: ${s.deleted.length} ${verb}; ${keptSummary(s.kept)}`);
  }
  out(`gc${report.dry_run ? ' (dry run: nothing deleted)' : ''}: ${verb} ${report.deleted_versions} version${report.deleted_versions === 1 ? '' : 's'}, ${report.deleted_bytes} bytes`);
}

export function gcCommand(): Command {
  const cmd = new Command('gc').description('delete published versions nothing needs: unreferenced by the manifest and recent history, beyond the N newest, older than --older-than');
  withCommonOptions(cmd);
  cmd
    .option('--keep-versions <n>', 'keep at least the n newest versions of each artifact type (and segment)', String(DEFAULT_GC_KEEP_VERSIONS))
    .option('--older-than <duration>', 'never delete versions published more recently than this', '30d')
    .option('--keep-history <k>', 'keep every version the newest k history entries reference (previous and next)', String(DEFAULT_GC_KEEP_HISTORY))
    .option('--tenant <tenant>', 'only this tenant (with --surface)')
    .option('--surface <surface>', 'only this surface (with --tenant)')
    .option('--dry-run', 'print what would be deleted, delete nothing');
  cmd.action(
    action({
      command: 'gc',
      flags: GcFlags,
      run: async ({ flags, config, logger, json }) => {
        const report = await collectGarbage(await opsEnv(config, logger), {
          keepVersions: flags.keepVersions,
          keepHistory: flags.keepHistory,
          olderThanMs: flags.olderThan,
          dryRun: flags.dryRun,
          scope: flags.scope,
        });
        if (json) outJson({ ok: true, command: 'gc', ...report });
        else print(report);
      },
    }),
  );
  return cmd;
}
