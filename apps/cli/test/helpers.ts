// Shared helpers of the CLI end-to-end tests: spawn the built binary
// (apps/cli/dist/bin.js) in a temporary folder, write config files, read
// what it produced, and snapshot folder trees to prove what was (not) written.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { spawnCli, type CliResult } from '@recsys/vitest-config/cli-runner';
import { parseArtifact, parseHistoryEntry, parseManifest, verifyArtifactVersion, type ArtifactV1, type HistoryEntryV1, type ManifestV1 } from '@recsys/contracts';

/** The built CLI. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
/** The bundled sample data (raw input of the embedded default config). */
export const SAMPLE_RAW = fileURLToPath(new URL('../sample-data/raw/', import.meta.url));
/** The tiny demo day (sessions s1: A,B; s2: A,C; s3: D). */
export const TINY_FILE = join(SAMPLE_RAW, 'demo/home/exposure.2026-01-01.jsonl');

/** Versions the Go implementation produces for the tiny set (default segment). */
export const GO_VERSIONS = {
  popularity: '0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9',
  cooc: 'b705f3235774c7c07599a4521ef7cbbdd3beeab82993e0f1dea3a60c856ea7d7',
} as const;

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed after the test file. */
export function tempDir(prefix = 'recsys-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export type { CliResult };

export interface CliOptions {
  readonly cwd: string;
  readonly env?: Record<string, string | undefined>;
  /** SIGKILL the process after this many milliseconds. */
  readonly killAfterMs?: number;
  /** SIGKILL the process `afterMs` milliseconds after it first prints a stderr line starting with `line`. */
  readonly killAfterLine?: { readonly line: string; readonly afterMs: number };
}

/**
 * Runs `node dist/bin.js ...args` (an argument array, no shell) and collects
 * its output. Logs default to `warn` so stderr stays small.
 */
export function cli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return spawnCli(BIN, args, { ...options, env: { ...process.env, RECSYS_LOG_LEVEL: 'warn', ...options.env } });
}

/** `run --json` result. */
export interface RunJson {
  ok: boolean;
  command: 'run';
  run_id?: string;
  tenant?: string;
  surface?: string;
  segment?: string;
  manifest_uri?: string | null;
  days: DayJson[];
  error?: { kind: string; exit_code: number; message: string; context?: Record<string, unknown> };
}

export interface DayJson {
  day: string;
  counts: { read: number; accepted: number; duplicates: number; out_of_window: number; other_scope: number; rejected: number; rejected_by_reason: Record<string, number> };
  canonical: { uri: string; sha256: string; bytes: number };
  quarantine?: string;
  artifacts: { type: string; key: string; version: string; uri: string; rows: number; bytes: number; new_blob: boolean; pointer: 'moved' | 'unchanged' | 'kept' | 'moved_back'; live_day?: string }[];
  pointer_moved: boolean;
  manifest_uri: string;
  history_seq: number;
  durations_ms: Record<'ingest' | 'validate' | 'compute' | 'publish' | 'total', number>;
}

/** Runs `run --json ...args`; returns the exit code and the parsed JSON. */
export async function runJson(args: readonly string[], options: CliOptions): Promise<CliResult & { json: RunJson }> {
  const r = await cli(['run', '--json', ...args], options);
  let json: RunJson;
  try {
    json = JSON.parse(r.stdout) as RunJson;
  } catch {
    throw new Error(`run --json did not print JSON (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return { ...r, json };
}

/** Writes `value` as JSON to `dir/name` and returns the path. */
export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

/** A config with every area under `<dir>/out` and raw input from `<dir>/raw`. */
export function writeConfig(dir: string, extra: Record<string, unknown> = {}, name = 'config.json'): string {
  return writeJson(dir, name, { out_dir: './out', raw_events_dir: './raw', ...extra });
}

/** Writes raw lines (strings or objects) to `<rawDir>/<tenant>/<surface>/exposure.<day>.jsonl`. */
export function writeRawDay(rawDir: string, tenant: string, surface: string, day: string, lines: readonly (string | object)[]): string {
  const path = join(rawDir, tenant, surface, `exposure.${day}.jsonl`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join(''));
  return path;
}

/** Copies the tiny demo day into `<dir>/raw`. */
export function copyTiny(dir: string): void {
  const to = join(dir, 'raw/demo/home');
  mkdirSync(to, { recursive: true });
  cpSync(TINY_FILE, join(to, 'exposure.2026-01-01.jsonl'));
}

/** A raw exposure event with defaults. */
export function event(session: string, item: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, ts: '2026-01-01T10:00:00Z', tenant: 'demo', surface: 'home', session_id: session, item_id: item, ...extra };
}

/**
 * Every file, folder and symlink under `dir` → a fingerprint (sha256 of the
 * content for files). Comparing two snapshots shows any write.
 */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const rel = relative(dir, full);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) out[rel] = `link:${readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel + '/'] = 'dir';
        walk(full);
      } else out[rel] = `file:${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** Files (not folders) under `dir`, relative, sorted. */
export function files(dir: string): string[] {
  return Object.keys(snapshot(dir))
    .filter((k) => !k.endsWith('/'))
    .sort();
}

export const readText = (path: string) => readFileSync(path, 'utf8');
export const readUri = (uri: string) => readFileSync(fileURLToPath(uri), 'utf8');
export const readArtifact = (uri: string): ArtifactV1 => parseArtifact(JSON.parse(readUri(uri)));

/** The manifest of a scope under `registryDir`, parsed, or `undefined`. */
export function readManifest(registryDir: string, tenant: string, surface: string): ManifestV1 | undefined {
  const path = join(registryDir, 'current', tenant, surface, 'manifest.json');
  return existsSync(path) ? parseManifest(JSON.parse(readText(path))) : undefined;
}

/** History entries of a scope, by sequence number. */
export function readHistory(registryDir: string, tenant: string, surface: string): HistoryEntryV1[] {
  const dir = join(registryDir, 'history', tenant, surface);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^\d{12}\.json$/.test(n))
    .sort()
    .map((n) => parseHistoryEntry(JSON.parse(readText(join(dir, n)))));
}

/**
 * The registry invariants after any run, complete or killed: history
 * entries are numbered 1..n and chain (`previous` = prior `next`); the
 * manifest, if any, equals the `next` of one of the last two entries (it may
 * lag the log head by one after a crash between the two steps); every URI it
 * holds resolves to a blob whose content hashes to its version (the file
 * name) and matches the manifest key's type.
 */
export async function checkRegistry(registryDir: string, tenant: string, surface: string): Promise<{ manifest: ManifestV1 | undefined; history: HistoryEntryV1[] }> {
  const history = readHistory(registryDir, tenant, surface);
  let previous: Record<string, string> = {};
  history.forEach((entry, i) => {
    if (entry.seq !== i + 1) throw new Error(`history seq ${entry.seq} at position ${i + 1}`);
    if (JSON.stringify(entry.previous) !== JSON.stringify(previous)) throw new Error(`history ${entry.seq} does not chain`);
    previous = entry.next;
  });
  const manifest = readManifest(registryDir, tenant, surface);
  if (manifest) {
    const candidates = history.slice(-2).map((e) => JSON.stringify(e.next));
    if (!candidates.includes(JSON.stringify(manifest.current))) throw new Error(`manifest ${JSON.stringify(manifest.current)} is not the next of one of the last two history entries`);
    for (const [key, uri] of Object.entries(manifest.current)) {
      const artifact = readArtifact(uri);
      const check = await verifyArtifactVersion(artifact);
      if (!check.ok) throw new Error(`${uri} does not hash to its declared version: ${JSON.stringify(check)}`);
      if (!uri.endsWith(`/${check.version}.json`)) throw new Error(`${uri} is not named after its version ${check.version}`);
      if (artifact.artifact_type !== key.split('@')[0]) throw new Error(`${key} points at a ${artifact.artifact_type} blob`);
    }
  } else if (history.length > 1) {
    throw new Error('history has several entries but there is no manifest');
  }
  return { manifest, history };
}

/** The pino JSON log lines on stderr (other lines are skipped). */
export function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Runs the CLI under a pseudo-terminal (util-linux `script`, in Debian's
 * essential bsdutils), so stdout and stderr are TTYs as in an interactive
 * shell. Both streams arrive merged in `output` (CRLF line ends normalised).
 * `RECSYS_LOG_LEVEL` is removed so the terminal default applies.
 */
export function cliTty(args: readonly string[], options: CliOptions): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', ...options.env };
    if (!options.env || !('RECSYS_LOG_LEVEL' in options.env)) delete env.RECSYS_LOG_LEVEL;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, output: output.replace(/\r\n/g, '\n') });
    });
  });
}
