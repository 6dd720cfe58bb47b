// What a person at a terminal sees (under a pseudo-terminal): errors are one
// human line plus a hint, the JSON log line with the stack only at debug;
// without a terminal the JSON error log is unchanged.
import { describe, expect, test } from 'vitest';
import { cli, cliTty, logLines, tempDir } from './helpers.js';

/** The escape character of the terminal control sequences (kept out of regex literals). */
const ESC = String.fromCharCode(27);

const BAD_DATE = ['run', '--tenant', 'demo', '--surface', 'home', '--start', '2026-02-30', '--end', '2026-03-01'];

describe('errors on a terminal', () => {
  test('only the human message and a hint; no JSON line, no stack', async () => {
    const dir = tempDir();
    const r = await cliTty(BAD_DATE, { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.output).toBe('recsys-pipelines: --start 2026-02-30 is not a calendar date (2026-02 has 28 days)\n  hint: run with --help for usage\n');
  });

  test('--log-level debug shows the JSON error line with its stack', async () => {
    const dir = tempDir();
    const r = await cliTty([...BAD_DATE, '--log-level', 'debug'], { cwd: dir });
    expect(r.code).toBe(2);
    const json = logLines(r.output).find((l) => l.msg === '--start 2026-02-30 is not a calendar date (2026-02 has 28 days)');
    expect(json).toMatchObject({ level: 20, kind: 'usage', exit_code: 2 });
    expect(String((json!.err as { stack: string }).stack)).toContain('UsageError');
  });

  test('not a terminal: the JSON error line (level error, with the stack) and the human line, no hint', async () => {
    const dir = tempDir();
    const r = await cli(BAD_DATE, { cwd: dir, env: { RECSYS_LOG_LEVEL: 'info' } });
    expect(r.code).toBe(2);
    const json = logLines(r.stderr).find((l) => l.level === 50);
    expect(json).toMatchObject({ kind: 'usage', exit_code: 2, msg: '--start 2026-02-30 is not a calendar date (2026-02 has 28 days)' });
    expect(String((json!.err as { stack: string }).stack)).toContain('UsageError');
    expect(r.stderr).toContain('\nrecsys-pipelines: --start 2026-02-30 is not a calendar date');
    expect(r.stderr).not.toContain('hint:');
  });
});

describe('progress on a terminal', () => {
  test('phases, bytes/lines read and elapsed time are drawn in place; the summary has blob sizes and the day time; never with --json', async () => {
    const dir = tempDir();
    const day = ['run', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];
    const r = await cliTty(day, { cwd: dir });
    expect(r.code, r.output).toBe(0);
    for (const phase of ['ingest', 'validate', 'compute', 'stage', 'publish']) expect(r.output).toMatch(new RegExp(`\\r${ESC}\\[K {2}2026-01-01 {2}${phase}…`));
    expect(r.output).toMatch(new RegExp(`\\r${ESC}\\[K {2}2026-01-01 {2}ingest {2}\\d+ B read {2}5 lines .*B/s`));
    expect(r.output).toMatch(/2026-01-01 {2}read 5 {2}accepted 5 .*\(\d+\.\d s\)/);
    expect(r.output).toMatch(/popularity +0ef6b7852e97 {2}4 rows +476 B +new blob +live/);
    const json = await cliTty([...day, '--json'], { cwd: tempDir() });
    expect(json.code).toBe(0);
    expect(json.output).not.toContain('\x1b[K');
    expect(() => JSON.parse(json.output)).not.toThrow();
  });

  test('not a terminal: no progress at all', async () => {
    const dir = tempDir();
    const r = await cli(['run', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir, env: { RECSYS_LOG_LEVEL: 'silent' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('\x1b');
  });
});
