// Helpers of the suites that run the built CLI (apps/cli/dist/bin.js) against the test PostgreSQL.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnCli, tempDirs, type CliResult } from '@recsys/vitest-config/cli-runner';
import { seededRandom } from '@recsys/vitest-config/seeded-random';
import type { ExposureRow } from './pg-env.js';

export const BIN = fileURLToPath(new URL('../../../apps/cli/dist/bin.js', import.meta.url));

/** A temp folder, removed after the suite. */
export const tempDir = tempDirs('recsys-pg-cli-');

export type { CliResult };

/** Every CLI output of this suite, to check that no password ever appears in it. */
export const outputs: string[] = [];

/** Runs the CLI to completion with a fixed clock. */
export async function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  const result = await spawnCli(BIN, args, { cwd: options.cwd, env: { ...process.env, RECSYS_TEST_NOW: '2026-03-01T00:00:00Z', RECSYS_LOG_LEVEL: 'info', ...options.env } });
  outputs.push(result.stdout, result.stderr);
  return result;
}

export function jsonOf<T = Record<string, unknown>>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr.slice(-3000)}`);
  }
}

let configs = 0;

/** Writes a config file of its own (never overwriting an earlier one) into `dir`. */
export function writeConfig(dir: string, config: unknown): string {
  const file = join(dir, `recsys-${++configs}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Files under a folder, relative, sorted. */
export function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p.slice(root.length + 1));
    }
  };
  try {
    walk(root);
  } catch {
    return [];
  }
  return out.sort();
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}


/** One served response: a row of exposure_events and its raw events. */
export interface Served {
  /** `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, as PostgreSQL prints it in UTC. */
  readonly occurredAt: string;
  readonly sessionId: string;
  readonly requestId: string;
  readonly items: readonly string[];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** PostgreSQL prints a timestamptz's fraction without trailing zeros. */
function pgTime(day: string, secondOfDay: number, micros: number): string {
  const hh = Math.floor(secondOfDay / 3600);
  const mm = Math.floor((secondOfDay % 3600) / 60);
  const ss = secondOfDay % 60;
  const frac = micros === 0 ? '' : `.${pad(micros, 6)}`.replace(/0+$/, '');
  return `${day} ${pad(hh)}:${pad(mm)}:${pad(ss)}${frac}+00`;
}

/** Responses of a day: sessions of 1–3 requests of 2–4 items from a small skewed catalog, with microsecond times. */
export function servedDay(day: string, seed: number, sessions = 60): Served[] {
  const rnd = seededRandom(seed);
  const out: Served[] = [];
  for (let s = 0; s < sessions; s++) {
    const requests = 1 + Math.floor(rnd() * 3);
    for (let r = 0; r < requests; r++) {
      const n = 2 + Math.floor(rnd() * 3);
      const items = new Set<string>();
      while (items.size < n) items.add(`item-${pad(Math.floor(rnd() * rnd() * 25))}`);
      const second = Math.floor(rnd() * 86400);
      const micros = Math.floor(rnd() * 1_000_000);
      out.push({ occurredAt: pgTime(day, second, micros), sessionId: `${day}-s${s}`, requestId: uuidOf(seed, s * 10 + r), items: [...items] });
    }
  }
  // Edges of the day, to the microsecond (the month boundary when the day is the last or first of a month).
  out.push({ occurredAt: pgTime(day, 0, 1), sessionId: `${day}-edge`, requestId: uuidOf(seed, 9998), items: ['item-00', 'item-01'] });
  out.push({ occurredAt: pgTime(day, 86399, 999999), sessionId: `${day}-edge`, requestId: uuidOf(seed, 9999), items: ['item-01', 'item-02'] });
  return out.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
}

function uuidOf(seed: number, n: number): string {
  return `${pad(seed, 8)}-0000-4000-8000-${pad(n, 12)}`;
}

export function toRows(served: readonly Served[], tenantId: string, surface: string): ExposureRow[] {
  return served.map((s) => ({
    tenantId,
    occurredAt: s.occurredAt,
    surface,
    sessionId: s.sessionId,
    requestId: s.requestId,
    response: JSON.stringify({ items: s.items.map((item_id, rank) => ({ item_id, rank, score: 1 / (rank + 1) })) }),
  }));
}

/** The same responses as raw JSON Lines, one event per item, in (occurred_at, id) order. */
export function writeJsonl(rawDir: string, tenant: string, surface: string, day: string, served: readonly Served[]): void {
  const lines = served.flatMap((s) =>
    s.items.map((item_id, rank) => JSON.stringify({ v: 1, ts: s.occurredAt.replace(' ', 'T').replace(/\+00$/, 'Z'), tenant, surface, session_id: s.sessionId, item_id, request_id: s.requestId, rank })),
  );
  const file = join(rawDir, tenant, surface, `exposure.${day}.jsonl`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, lines.join('\n') + '\n');
}
