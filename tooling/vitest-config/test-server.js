// The server a suite talks to (S3, PostgreSQL), shared by the packages'
// vitest global setups: the one named by an environment variable (CI, a
// developer's own), else the throw-away one its tooling script starts.
//
// Several test runs on one machine (two worktrees, a landing check beside a
// developer's run) share that throw-away server, so each run holds a lease on
// it while it runs: the last run to finish stops it, and only if a test run
// started it (a server someone started by hand is left alone). Leases and the
// start/stop decisions are taken under one flock, so a run that starts while
// another stops waits and then starts the server again.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// $1 script, $2 lease folder, $3 this run's pid. Takes this run's lease without starting the server.
const LEASE = `
set -eu
script=$1 leases=$2 me=$3
mkdir -p "$leases"
live=0
for f in "$leases"/*; do
  [ -e "$f" ] || continue
  if kill -0 "\${f##*/}" 2>/dev/null; then live=1; else rm -f "$f"; fi
done
# Running with no live lease: started by hand, or left by a run that died. Not ours to stop.
if [ "$live" = 0 ] && bash "$script" status >/dev/null 2>&1; then rm -f "$leases/.started-by-tests"; fi
touch "$leases/$me"
`;

// $1 script, $2 lease folder. Starts the server unless it is running; prints the script's `export` lines.
const START = `
set -eu
script=$1 leases=$2
if bash "$script" status >/dev/null 2>&1; then
  bash "$script" start
else
  bash "$script" start
  touch "$leases/.started-by-tests"
fi
`;

// $1 script, $2 lease folder, $3 this run's pid.
const RELEASE = `
set -eu
script=$1 leases=$2 me=$3
rm -f "$leases/$me"
for f in "$leases"/*; do
  [ -e "$f" ] || continue
  kill -0 "\${f##*/}" 2>/dev/null && exit 0
  rm -f "$f"
done
if [ -e "$leases/.started-by-tests" ]; then
  rm -f "$leases/.started-by-tests"
  bash "$script" stop
fi
`;

/**
 * The lease folder of one server instance: the script's name (not its path: every clone and
 * worktree on the machine starts the same instance) and the variables that select the instance.
 */
function leaseDir(script, instance) {
  const vars = Object.entries(instance).sort(([a], [b]) => (a < b ? -1 : 1));
  const name = basename(script, '.sh');
  const id = createHash('sha256').update(JSON.stringify([name, vars])).digest('hex').slice(0, 16);
  return join(tmpdir(), 'recsys-test-servers', `${name}-${id}`);
}

/** Runs `body` (LEASE, START, RELEASE) under the instance's lock; resolves to its stdout. */
async function locked(body, script, instance, what) {
  const leases = leaseDir(script, instance);
  await run('mkdir', ['-p', join(leases, '..')]);
  const args = ['-w', '1800', '-o', `${leases}.lock`, 'bash', '-c', body, 'lease', script, leases, String(process.pid)];
  try {
    const { stdout } = await run('flock', args, { env: { ...process.env, ...instance }, timeout: 1_800_000, maxBuffer: 1 << 20 });
    return stdout;
  } catch (error) {
    throw new Error(`${what}: ${script} failed (needs root on Debian 12): ${error.stderr?.slice(-2000) ?? error.message}`);
  }
}

/** The `export NAME=value` lines of a script's output. */
function parseExports(text) {
  const env = {};
  for (const m of text.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) env[m[1]] = m[2];
  return env;
}

/**
 * Takes this test run's lease on a server instance without starting it (a
 * vitest global setup, for a server its files start on demand with
 * {@link startLeasedTestServer}); resolves to the teardown, which stops the
 * server when this was the last test run using it and a test run started it.
 * @param {{ script: string; what: string; instance: Record<string, string> }} server
 *   `instance`: the variables that select the script's instance (ports, folders).
 * @returns {Promise<() => Promise<void>>}
 */
export async function leaseTestServer({ script, what, instance }) {
  await locked(LEASE, script, instance, `could not lease ${what}`);
  return async () => {
    await locked(RELEASE, script, instance, `could not release ${what}`);
  };
}

/**
 * Starts a leased server instance unless it is running (a test file of a run
 * whose global setup holds the lease; files that ask at once share one
 * start); resolves to its `export` variables.
 * @param {{ script: string; what: string; instance: Record<string, string> }} server
 * @returns {Promise<Record<string, string>>}
 */
export async function startLeasedTestServer({ script, what, instance }) {
  return parseExports(await locked(START, script, instance, `could not start ${what}`));
}

/**
 * Makes sure the server is there and its `export NAME=value` lines are in
 * `process.env`; resolves to the teardown, which stops the server when this
 * was the last test run using it and a test run started it.
 * @param {{ script: string; envVar: string; what: string; envPrefix?: string }} server
 *   `envPrefix`: the variables that select the script's instance (ports, folders), e.g. `PG_TEST_`.
 * @returns {Promise<() => Promise<void>>}
 */
export async function useTestServer({ script, envVar, what, envPrefix }) {
  if (process.env[envVar]) return async () => {};
  const instance = Object.fromEntries(Object.entries(process.env).filter(([name]) => envPrefix !== undefined && name.startsWith(envPrefix)));
  const release = await leaseTestServer({ script, what, instance });
  try {
    Object.assign(process.env, await startLeasedTestServer({ script, what, instance }));
  } catch (error) {
    await release();
    throw error;
  }
  return release;
}
