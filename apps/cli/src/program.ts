import { Command } from 'commander';
import { runCommand } from './commands/run.js';
import { computeCommand, ingestCommand, mergeCommand, publishCommand, validateCommand } from './commands/jobs.js';
import { versionCommand } from './commands/version.js';
import { rollbackCommand } from './commands/rollback.js';
import { historyCommand } from './commands/history.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import { gcCommand } from './commands/gc.js';
import { showCommand } from './commands/show.js';
import { reportCommand } from './commands/report.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';

/** Builds the `recsys-pipelines` command tree. */
export function buildProgram(): Command {
  const program = new Command(TOOL_NAME)
    .description('Turn raw exposure events into versioned, validated, rollbackable recommendation artifacts.')
    .version(TOOL_VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [runCommand(), ingestCommand(), validateCommand(), computeCommand(), mergeCommand(), publishCommand(), rollbackCommand(), statusCommand(), historyCommand(), verifyCommand(), gcCommand(), showCommand(), reportCommand(), versionCommand()]) program.addCommand(cmd.exitOverride());
  return program;
}
