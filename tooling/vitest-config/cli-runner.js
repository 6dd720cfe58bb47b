// Spawning the built CLI from the suites of several packages (apps/cli, and
// the end-to-end suites of storage-s3 and storage-pg), and their temp folders.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A `tempDir()` whose folders are removed after the suite (file).
 * @param {string} prefix
 */
export function tempDirs(prefix) {
  const made = [];
  afterAll(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

/**
 * Runs `node [nodeArgs] <bin> <args>` (an argument array, no shell) to
 * completion, collecting its output. For crash tests it can SIGKILL the
 * process `killAfterMs` after the start, or `killAfterLine.afterMs` after it
 * first prints a stderr line starting with `killAfterLine.line`.
 * @param {string} bin
 * @param {readonly string[]} args
 * @param {{ cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: readonly string[]; killAfterMs?: number; killAfterLine?: { line: string; afterMs: number } }} options `env` is the whole environment
 */
export function spawnCli(bin, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), bin, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    let lineTimer;
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      const after = options.killAfterLine;
      if (after && lineTimer === undefined && (stderr.startsWith(after.line) || stderr.includes(`\n${after.line}`))) {
        lineTimer = setTimeout(() => child.kill('SIGKILL'), after.afterMs);
      }
    });
    const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lineTimer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
