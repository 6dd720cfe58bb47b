import { Command } from 'commander';
import { z } from 'zod';
import { action } from '../action.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { out, outJson } from '../output.js';

export function versionCommand(): Command {
  const cmd = new Command('version').description('print the version').option('--json', 'print JSON');
  return cmd.action(
    action({
      command: 'version',
      flags: z.object({ json: z.boolean().optional() }),
      run: async ({ json }) => {
        if (json) outJson({ name: TOOL_NAME, version: TOOL_VERSION, node: process.version });
        else out(`${TOOL_NAME} ${TOOL_VERSION}`);
      },
    }),
  );
}
