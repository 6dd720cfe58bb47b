import { Command } from 'commander';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { out, outJson } from '../output.js';

export function versionCommand(): Command {
  return new Command('version')
    .description('print the version')
    .option('--json', 'print JSON')
    .action((flags: { json?: boolean }) => {
      if (flags.json) outJson({ name: TOOL_NAME, version: TOOL_VERSION, node: process.version });
      else out(`${TOOL_NAME} ${TOOL_VERSION}`);
    });
}
