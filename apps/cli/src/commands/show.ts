import { Command, Option } from 'commander';
import { z } from 'zod';
import { showLive, type ShowResult, type ShownArtifact } from '@recsys/core';
import { action } from '../action.js';
import { CommonFlags, intFlag, withCommonOptions } from '../options.js';
import { out, outJson, pad, short } from '../output.js';
import { opsEnv } from './ops-shared.js';

const ShowFlags = CommonFlags.extend({
  tenant: z.string(),
  surface: z.string(),
  type: z.string().optional(),
  segment: z.string().optional(),
  top: intFlag('--top', 1),
});

const window = (a: ShownArtifact) => (a.window ? `window ${a.window.start.slice(0, 10)}..${a.window.end.slice(0, 10)}` : '');

function printArtifact(a: ShownArtifact): void {
  const head = [a.key, short(a.version), window(a), a.built_at ? `built ${a.built_at}` : '', a.bytes !== undefined ? `${a.bytes} bytes` : ''].filter(Boolean).join('  ');
  out(head);
  if (a.problem) {
    out(`  PROBLEM: ${a.problem} (run \`recsys-pipelines verify\`)`);
    return;
  }
  if (a.rows.length === 0) out('  (no rows)');
  if (a.selection === 'top_items') out('  neighbours of the most exposed items:');
  const width = Math.min(40, Math.max(8, ...a.rows.map((r) => ('item_id' in r ? r.item_id : r.user_id).length)));
  for (const r of a.rows) {
    // JSON.stringify shows ids with spaces, quotes or control characters unambiguously.
    const id = (s: string) => (/^[\x21-\x7e]+$/.test(s) && !s.includes('"') ? s : JSON.stringify(s));
    if ('rank' in r) out(`  ${pad(`#${r.rank}`, 5)} ${pad(id(r.item_id), width)}  ${r.count}`);
    else if ('neighbors' in r) out(`  ${pad(id(r.item_id), width)}  ${r.neighbors.map((n) => `${id(n.item_id)} (${n.count})`).join(', ') || '(none)'}${r.neighbors_total > r.neighbors.length ? `, +${r.neighbors_total - r.neighbors.length} more` : ''}`);
    else if ('user_id' in r) out(`  ${pad(id(r.user_id), width)}  ${r.items.map((n) => `${id(n.item_id)} (${n.score})`).join(', ')}${r.items_total > r.items.length ? `, +${r.items_total - r.items.length} more` : ''}`);
    else out(`  ${pad(id(r.item_id), width)}  ${r.tags.join(', ')}`);
  }
}

function print(result: ShowResult): void {
  out(`${result.tenant}/${result.surface}  live since ${result.updated_at}  (${result.manifest_uri})`);
  for (const a of result.artifacts) {
    out('');
    printArtifact(a);
  }
}

/** `show`: the top rows of the live artifacts, without reading JSON. */
export function showCommand(): Command {
  const cmd = new Command('show').description('print the top rows of the live artifacts of a tenant/surface (streams only the rows shown)');
  withCommonOptions(cmd);
  cmd
    .addOption(new Option('--tenant <tenant>', 'tenant').makeOptionMandatory())
    .addOption(new Option('--surface <surface>', 'surface').makeOptionMandatory())
    .option('--type <type>', 'only this artifact type (popularity, cooc, implicit, session_seq, content_sim)')
    .option('--segment <segment>', 'only this segment ("default" for the plain keys)')
    .option('--top <n>', 'rows per artifact', '10')
    .addHelpText(
      'after',
      `
Popularity shows its top items; cooc shows the neighbours of the most exposed
items when popularity is live too; other types show their first rows.

Examples:
  $ recsys-pipelines show --tenant demo --surface home
  $ recsys-pipelines show --tenant demo --surface home --type popularity --top 20 --json`,
    );
  cmd.action(
    action({
      command: 'show',
      flags: ShowFlags,
      run: async ({ flags, config, logger, json }) => {
        const result = await showLive(await opsEnv(config, logger), { tenant: flags.tenant, surface: flags.surface, type: flags.type, segment: flags.segment, top: flags.top });
        if (json) outJson({ ok: true, command: 'show', ...result });
        else print(result);
      },
    }),
  );
  return cmd;
}
