// Writes dist/cli.cjs.cache, the V8 code cache src/bin.ts compiles the CLI bundle with: the
// package's build runs `run` once on the bundled sample day, in a temporary folder, and has
// bin.js save what V8 compiled by then (the bundle's top level and every function that `run`
// called), so a process of the same Node compiles neither (docs/explanation/performance.md,
// "Round 15: the process start"). A cache for another Node or for other V8 flags is ignored at
// start-up, so this only speeds up, never changes, what a command does.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), 'recsys-code-cache-'));
const out = join(dist, 'cli.cjs.cache');
try {
  const args = ['run', '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01', '--json'];
  execFileSync(process.execPath, [join(dist, 'bin.js'), ...args], { cwd, env: { ...process.env, RECSYS_CODE_CACHE_OUT: `${out}.tmp` }, stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(`${out}.tmp`, out);
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
