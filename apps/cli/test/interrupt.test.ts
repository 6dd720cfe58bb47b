// SIGINT/SIGTERM stop a run cleanly: the day being ingested is abandoned and
// its temporary files removed, the days before it stay published, the
// message says which days were and were not published, and the exit code is
// 130 (SIGINT) or 143 (SIGTERM). No timing: RECSYS_TEST_STALL_INGEST holds
// day 2's ingest until the signal arrives.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN, copyTiny, event, files, readHistory, readManifest, tempDir, writeConfig, writeRawDay } from './helpers.js';

function interruptedRun(dir: string, config: string, signal: 'SIGINT' | 'SIGTERM', extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', '--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-03', ...extra], {
      cwd: dir,
      env: { ...process.env, RECSYS_LOG_LEVEL: 'error', RECSYS_TEST_STALL_INGEST: '2026-01-02' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (d.includes('stalled ingest of 2026-01-02')) child.kill(signal);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function workspace() {
  const dir = tempDir();
  copyTiny(dir);
  for (const day of ['2026-01-02', '2026-01-03']) writeRawDay(join(dir, 'raw'), 'demo', 'home', day, [event('s1', 'A', { ts: `${day}T10:00:00Z` }), event('s1', 'B', { ts: `${day}T10:00:01Z` })]);
  return { dir, config: writeConfig(dir) };
}

describe('signals', () => {
  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s during a day: earlier days stay published, no temp files, says what was and was not published, exit %i', async (signal, code) => {
    const { dir, config } = workspace();
    const r = await interruptedRun(dir, config, signal);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`recsys-pipelines: interrupted by ${signal}: published 2026-01-01; not published 2026-01-02, 2026-01-03 (their pointers did not move; temporary files were removed)`);
    expect(r.stdout).toContain('2026-01-01  read 5');
    expect(r.stdout).not.toContain('2026-01-02  read');
    const written = files(join(dir, 'out'));
    expect(written.filter((f) => f.includes('.tmp') || f.endsWith('.partial'))).toEqual([]);
    expect(written).not.toContain('canonical/demo/home/exposures/2026-01-02.jsonl');
    expect(readHistory(join(dir, 'out/registry'), 'demo', 'home')).toHaveLength(1);
    expect(readManifest(join(dir, 'out/registry'), 'demo', 'home')!.current.popularity).toContain('/popularity/');
  });

  test('--json: the error document names the signal and the days not published', async () => {
    const { dir, config } = workspace();
    const r = await interruptedRun(dir, config, 'SIGINT', ['--json']);
    expect(r.code).toBe(130);
    const doc = JSON.parse(r.stdout) as { ok: boolean; error: { kind: string; exit_code: number; context: { signal: string; not_published: string[] } }; days: { day: string }[] };
    expect(doc).toMatchObject({ ok: false, error: { kind: 'interrupted', exit_code: 130, context: { signal: 'SIGINT', not_published: ['2026-01-02', '2026-01-03'] } } });
    expect(doc.days.map((d) => d.day)).toEqual(['2026-01-01']);
  });
});
