import { Command } from 'commander';
import { runCommand } from './commands/run.js';
import { computeCommand, ingestCommand, mergeCommand, publishCommand, validateCommand } from './commands/jobs.js';
import { versionCommand } from './commands/version.js';
import { rollbackCommand } from './commands/rollback.js';
import { historyCommand } from './commands/history.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import { gcCommand } from './commands/gc.js';
import { signalsCommand } from './commands/signals.js';
import { showCommand } from './commands/show.js';
import { reportCommand } from './commands/report.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { quietCommanderErrors } from './command-line-errors.js';

/**
 * Builds the `recsys-pipelines` command tree. Adding a command is one file in
 * `commands/`: declare its flags with commander (`withCommonOptions`, …), their
 * zod schema (`CommonFlags.extend({...})` from options.ts) and pass its body to
 * `action()` (action.ts), which loads the config, maps errors to exit codes and
 * prints the `--json` error document; then list it below.
 */
export function buildProgram(): Command {
  const program = new Command(TOOL_NAME)
    .description('Turn raw exposure events into versioned, validated, rollbackable recommendation artifacts.')
    .version(TOOL_VERSION, '-V, --version')
    .exitOverride();
  // Command-line errors are printed by bin.ts (command-line-errors.ts), like every other error.
  quietCommanderErrors(program);
  for (const cmd of [runCommand(), ingestCommand(), validateCommand(), computeCommand(), mergeCommand(), publishCommand(), signalsCommand(), rollbackCommand(), statusCommand(), historyCommand(), verifyCommand(), gcCommand(), showCommand(), reportCommand(), versionCommand()]) program.addCommand(quietCommanderErrors(cmd.exitOverride()));
  return program;
}
