import { Command } from 'commander';
import { runCommand } from './commands/run.js';
import { versionCommand } from './commands/version.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

/** Builds the `recsys-pipelines` command tree. */
export function buildProgram(): Command {
  const program = new Command(TOOL_NAME)
    .description('Turn raw exposure events into versioned, validated, rollbackable recommendation artifacts.')
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [runCommand(), versionCommand()]) program.addCommand(cmd.exitOverride());
  return program;
}
