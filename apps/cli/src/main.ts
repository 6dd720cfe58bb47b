import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { handleError } from './handle-error.js';
import { reportCommandLineError } from './command-line-errors.js';
import { quietClosedPipes } from './output.js';

/** The command line's whole run: parses `argv`, runs the command, sets `process.exitCode`. */
export async function main(argv: readonly string[]): Promise<void> {
  quietClosedPipes();
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other commander error is a usage error (exit 2).
      process.exitCode =
        error.exitCode === 0
          ? 0
          : reportCommandLineError(
              error,
              program,
              argv.slice(2),
              (line) => process.stderr.write(line + '\n'),
              (text) => process.stdout.write(text),
            );
    } else {
      process.exitCode = handleError(error, undefined, (line) => process.stderr.write(line + '\n'));
    }
  }
}
