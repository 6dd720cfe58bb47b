import { Command } from 'commander';
import { z } from 'zod';
import { rollback, type RollbackResult } from '@recsys/core';
import { action } from '../action.js';
import { intFlag, ScopeFlags, withCommonOptions, withScopeOptions } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';

const RollbackFlags = ScopeFlags.extend({
  type: z.string().optional(),
  all: z.boolean().optional(),
  to: z.string().optional(),
  steps: intFlag('--steps', 1).optional(),
  reason: z.string().optional(),
  dryRun: z.boolean().optional(),
});

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
  cmd.action(
    action({
      command: 'rollback',
      flags: RollbackFlags,
      run: async ({ flags, config, logger, json }) => {
        const result = await rollback(await opsEnv(config, logger), {
          tenant: flags.tenant,
          surface: flags.surface,
          segment: flags.segment,
          type: flags.type,
          all: flags.all,
          to: flags.to,
          steps: flags.steps,
          reason: flags.reason,
          dryRun: flags.dryRun,
        });
        if (json) outJson({ ok: true, command: 'rollback', ...result });
        else print(result);
      },
    }),
  );
  return cmd;
}
