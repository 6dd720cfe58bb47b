#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { handleError } from './handle-error.js';
import { reportCommandLineError } from './command-line-errors.js';
import { quietClosedPipes } from './output.js';

quietClosedPipes();

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; every other commander error is a usage error (exit 2).
    process.exitCode =
      error.exitCode === 0
        ? 0
        : reportCommandLineError(
            error,
            program,
            process.argv.slice(2),
            (line) => process.stderr.write(line + '\n'),
            (text) => process.stdout.write(text),
          );
  } else {
    process.exitCode = handleError(error, undefined, (line) => process.stderr.write(line + '\n'));
  }
}
