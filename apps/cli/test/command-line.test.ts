// Errors in the command line itself: named precisely (an unknown option is
// not "a required option is missing"), one human line plus where to get
// usage, exit 2, and with --json the error document on stdout.
import { describe, expect, test } from 'vitest';
import { cli, tempDir } from './helpers.js';

describe('command-line errors', () => {
  test('an unknown option is reported as unknown, with the closest flag, even when a required one is then missing', async () => {
    const dir = tempDir();
    const r = await cli(['run', '--tenant', 'demo', '--surfce', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("recsys-pipelines: unknown option '--surfce'; did you mean --surface?\n  (run `recsys-pipelines run --help` for usage)\n");
    expect(r.stdout).toBe('');
  });

  test('--json prints the error document for an invalid command line', async () => {
    const dir = tempDir();
    const cases: [string[], string, string][] = [
      [['run', '--json', '--tenant', 'demo', '--surfce', 'home', '--end', '2026-01-01'], 'run', "unknown option '--surfce'; did you mean --surface?"],
      [['run', '--json', '--tenant', 'demo', '--surface', 'home'], 'run', "required option '--end <day>' not specified"],
      [['status', '--json', '--max-agee', '1h'], 'status', "unknown option '--max-agee'; did you mean --max-age?"],
      [['publish', '--json', '--tenant', 'demo', '--surface', 'home', '--end', '2026-01-01', '--log-level', 'loud'], 'publish', "option '--log-level <level>' argument 'loud' is invalid"],
    ];
    for (const [args, command, message] of cases) {
      const r = await cli(args, { cwd: dir });
      expect(r.code, args.join(' ')).toBe(2);
      const doc = JSON.parse(r.stdout) as { ok: boolean; command: string; error: { kind: string; exit_code: number; message: string } };
      expect(doc).toMatchObject({ ok: false, command, error: { kind: 'usage', exit_code: 2 } });
      expect(doc.error.message, args.join(' ')).toContain(message);
      expect(r.stderr).toContain(`recsys-pipelines: ${doc.error.message}`);
    }
  });

  test('an unknown command, and no command at all (help on stderr), exit 2', async () => {
    const dir = tempDir();
    const bogus = await cli(['bogus'], { cwd: dir });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("recsys-pipelines: unknown command 'bogus'");
    const none = await cli([], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: recsys-pipelines');
  });
});
