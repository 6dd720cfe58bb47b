import { Command } from 'commander';
import { rollback, type RollbackResult } from '@recsys/core';
import { withCommonOptions, withScopeOptions, type CommonOptions } from '../options.js';
import { out, outJson, pad } from '../output.js';
import { intFlag, opsEnv, runAction, short } from './ops-shared.js';

interface RollbackFlags extends CommonOptions {
  tenant: string;
  surface: string;
  segment?: string;
  type?: string;
  all?: boolean;
  to?: string;
  steps?: string;
  reason?: string;
  dryRun?: boolean;
}

function print(result: RollbackResult): void {
  out(`rollback ${result.tenant}/${result.surface}${result.dry_run ? ' (dry run: nothing written)' : ''}`);
  for (const m of result.moves) {
    const window = m.window ? `  window ${m.window.start}..${m.window.end}` : '';
    out(`  ${pad(m.key, 14)} ${short(m.from.version)} → ${short(m.to.version)}${window}  (from ${m.source})`);
  }
  for (const key of result.unchanged) out(`  ${pad(key, 14)} already at the target version: unchanged`);
  if (result.entry) out(`history entry ${result.entry.seq} (reason rollback${result.entry.message !== undefined ? `: ${JSON.stringify(result.entry.message)}` : ''})`);
  else if (!result.dry_run) out('nothing to do: already at the target');
  out(`manifest: ${result.manifest_uri}`);
}

export function rollbackCommand(): Command {
  const cmd = new Command('rollback').description('move artifact pointers back to an earlier, verified version (audited in history)');
  withCommonOptions(cmd);
  withScopeOptions(cmd);
  cmd
    .option('--type <type>', 'artifact type to roll back (popularity, cooc, …)')
    .option('--all', 'roll back every artifact key of the manifest (of --segment, if given)')
    .option('--to <version>', 'target version (full SHA-256 or a unique prefix of at least 6 hex digits); needs --type')
    .option('--steps <n>', 'go back this many pointer changes of each key')
    .option('--reason <text>', 'why: stored in the history entry')
    .option('--dry-run', 'resolve and verify the target, print the plan, write nothing')
    .addHelpText(
      'after',
      `
Examples:
  $ recsys-pipelines rollback --tenant demo --surface home --all --steps 1 --reason "bad upstream data"
  $ recsys-pipelines rollback --tenant demo --surface home --type popularity --to 0ef6b7852e97 --dry-run`,
    );
  cmd.action((flags: RollbackFlags) =>
    runAction('rollback', flags, async (ctx, logger) => {
      const result = await rollback(opsEnv(ctx, logger), {
        tenant: flags.tenant,
        surface: flags.surface,
        segment: flags.segment,
        type: flags.type,
        all: flags.all,
        to: flags.to,
        steps: flags.steps === undefined ? undefined : intFlag('--steps', flags.steps, 1),
        reason: flags.reason,
        dryRun: flags.dryRun,
      });
      if (flags.json) outJson({ ok: true, command: 'rollback', ...result });
      else print(result);
      return 0;
    }),
  );
  return cmd;
}
