#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { handleError } from './handle-error.js';
import { quietClosedPipes } from './output.js';

quietClosedPipes();

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; every other commander error is a usage error (exit 2).
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = handleError(error, undefined, (line) => process.stderr.write(line + '\n'));
  }
}
