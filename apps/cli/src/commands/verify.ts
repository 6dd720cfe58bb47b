import { Command } from 'commander';
import { verifyRegistry, type VerifyReport } from '@recsys/core';
import { action } from '../action.js';
import { OptionalScopeFlags, withCommonOptions, withOptionalScopeOptions, withScope } from '../options.js';
import { out, outJson } from '../output.js';
import { opsEnv } from './ops-shared.js';

const VerifyFlags = OptionalScopeFlags.transform(withScope);

function print(report: VerifyReport): void {
  if (report.scopes.length === 0) out('registry is empty: nothing to verify');
  for (const s of report.scopes) {
    const collected = s.collected > 0 ? ` (${s.collected} history reference${s.collected === 1 ? '' : 's'} to blobs collected by gc)` : '';
    out(`${s.tenant}/${s.surface}: ${s.manifest ? 'manifest' : 'no manifest'}, ${s.records} version records, ${s.history_entries} history entries, ${s.blobs} blobs checked${collected}`);
  }
  for (const p of report.problems) out(`PROBLEM ${p.kind}  ${p.tenant}/${p.surface} ${p.where}: ${p.message}`);
  out(report.ok ? 'verify: OK' : `verify: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`);
}

export function verifyCommand(): Command {
  const cmd = new Command('verify').description('check that every manifest pointer, version record and history entry resolves to a blob whose hash matches; exits 1 on any problem');
  withCommonOptions(cmd);
  withOptionalScopeOptions(cmd);
  cmd.action(
    action({
      command: 'verify',
      flags: VerifyFlags,
      run: async ({ flags, config, logger, json }) => {
        const report = await verifyRegistry(await opsEnv(config, logger), { scope: flags.scope });
        if (json) outJson({ command: 'verify', ...report });
        else print(report);
        for (const p of report.problems) logger.error({ kind: p.kind, tenant: p.tenant, surface: p.surface, where: p.where, uri: p.uri }, p.message);
        return report.ok ? 0 : 1;
      },
    }),
  );
  return cmd;
}
