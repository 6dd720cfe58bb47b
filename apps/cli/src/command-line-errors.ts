import type { CommanderError, Command } from 'commander';
import { closestKey } from './config/suggest.js';

/**
 * Errors in the command line itself (unknown option, missing flag, bad
 * choice), which commander detects before any action runs. commander's own
 * printing is replaced (see {@link quietCommanderErrors}) so that these read
 * like every other error, are reported precisely, and give `--json` callers
 * their error document too.
 */

/** Makes commander leave the printing of command-line errors to {@link reportCommandLineError}. */
export function quietCommanderErrors(cmd: Command): Command {
  return cmd.configureOutput({ outputError: () => {} });
}

/** Long flags a command accepts (with the program's own). */
function longFlags(cmd: Command | undefined, program: Command): string[] {
  const flags = ['--help', '--version'];
  for (const c of [program, ...(cmd ? [cmd] : [])]) for (const o of c.options) if (o.long) flags.push(o.long);
  return flags;
}

/**
 * The message for a commander error. commander checks required options before
 * unknown ones, so `--surfce home` would be reported as "--surface not
 * specified"; an unknown option in the command line is the real problem and
 * is named instead, with the closest flag.
 */
export function commandLineMessage(error: CommanderError, program: Command, argv: readonly string[]): { command: string; message: string } {
  const name = argv.find((a) => !a.startsWith('-'));
  const cmd = program.commands.find((c) => c.name() === name);
  let message = error.message.replace(/^error: /, '');
  if (error.code === 'commander.missingMandatoryOptionValue' || error.code === 'commander.unknownOption') {
    const known = longFlags(cmd, program);
    const unknown = argv.map((a) => a.split('=')[0]!).find((a) => a.startsWith('--') && a !== '--' && !known.includes(a));
    if (unknown !== undefined) {
      const close = closestKey(unknown.slice(2), known.map((k) => k.slice(2)));
      message = `unknown option '${unknown}'${close ? `; did you mean --${close}?` : ''}`;
    }
  }
  message = message.replace(/\n\(Did you mean (--[a-z-]+)\?\)$/, '; did you mean $1?');
  return { command: cmd?.name() ?? program.name(), message };
}

/** Prints a command-line error (and, with `--json`, its error document); returns the exit code 2. */
export function reportCommandLineError(error: CommanderError, program: Command, argv: readonly string[], writeErr: (line: string) => void, writeOut: (text: string) => void): number {
  // No command at all: commander printed the help; that is the whole answer.
  if (error.code === 'commander.help') return 2;
  const { command, message } = commandLineMessage(error, program, argv);
  writeErr(`recsys-pipelines: ${message}`);
  writeErr(`  (run \`recsys-pipelines ${command === program.name() ? '' : `${command} `}--help\` for usage)`);
  if (argv.includes('--json')) writeOut(JSON.stringify({ ok: false, command, error: { kind: 'usage', exit_code: 2, message } }, null, 2) + '\n');
  return 2;
}
