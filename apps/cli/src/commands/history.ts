import { Command, Option } from 'commander';
import { z } from 'zod';
import { Registry, readHistory, type HistoryItem } from '@recsys/core';
import { action } from '../action.js';
import { CommonFlags, intFlag, withCommonOptions } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';

const HistoryFlags = CommonFlags.extend({
  tenant: z.string(),
  surface: z.string(),
  limit: intFlag('--limit', 1),
});

function print(scope: { tenant: string; surface: string }, items: HistoryItem[], total: number): void {
  if (items.length === 0) {
    out(`no history for ${scope.tenant}/${scope.surface}: nothing published yet`);
    return;
  }
  out(`${scope.tenant}/${scope.surface}: ${items.length} of ${total} pointer change${total === 1 ? '' : 's'}, newest first`);
  for (const item of items) {
    const who = `${item.actor.user}@${item.actor.host}${item.actor.pid !== undefined ? ` pid ${item.actor.pid}` : ''}`;
    out(`#${item.seq}  ${item.at}  ${pad(item.reason, 8)}  ${who}  run ${item.run_id}${item.message !== undefined ? `  ${JSON.stringify(item.message)}` : ''}`);
    if (item.changes.length === 0) out('      (no pointer moved: the same versions were published again)');
    for (const c of item.changes) {
      const from = c.from ? short(c.from.version) : '∅';
      const to = c.to ? short(c.to.version) : '∅';
      out(`      ${pad(c.key, 14)} ${pad(c.change, 8)} ${from} → ${to}`);
    }
  }
}

export function historyCommand(): Command {
  const cmd = new Command('history').description('pointer changes of a tenant/surface, newest first: seq, time, reason, who, what moved');
  withCommonOptions(cmd);
  cmd
    .addOption(new Option('--tenant <tenant>', 'tenant').makeOptionMandatory())
    .addOption(new Option('--surface <surface>', 'surface').makeOptionMandatory())
    .option('--limit <n>', 'show at most this many entries', '20');
  cmd.action(
    action({
      command: 'history',
      flags: HistoryFlags,
      run: async ({ flags, config, logger, json }) => {
        const env = await opsEnv(config, logger);
        const registry = new Registry(env.areas.registry);
        const scope = { tenant: flags.tenant, surface: flags.surface };
        const items = await readHistory(registry, scope, flags.limit);
        const total = items.length === 0 ? 0 : items[0]!.seq;
        if (json) outJson({ ok: true, command: 'history', tenant: scope.tenant, surface: scope.surface, total, entries: items });
        else print(scope, items, total);
      },
    }),
  );
  return cmd;
}
