// Crash safety on the filesystem (DESIGN §5.5): `run` processes are SIGKILLed
// at random points during publish — at each protocol step through the
// RECSYS_TEST_KILL_AT hook, and after random delays — and afterwards:
//   - the manifest is absent, the old one, or the new one (never anything else);
//   - every URI in it resolves to a blob whose recomputed hash is its version;
//   - every blob under its final name is complete (hashes to its file name);
//   - the history chains (1..n, previous = prior next);
//   - a rerun completes and publishes the new versions.
// Trials run in parallel batches of 4. The random seed is printed on failure
// (set RECSYS_CRASH_SEED to replay).
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseArtifact, parseVersionRecord, verifyArtifactVersion } from '@recsys/contracts';
import { checkRegistry, cli, copyTiny, runJson, tempDir, writeConfig, writeRawDay, type CliResult } from './helpers.js';

const SEED = Number(process.env.RECSYS_CRASH_SEED ?? Date.now() % 2 ** 31);
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = mulberry32(SEED);

const DAY2 = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-02', '--end', '2026-01-02'];

/** A second day with a few hundred events, so compute and publish take a moment. */
function day2Lines(): object[] {
  const lines: object[] = [];
  for (let s = 0; s < 120; s++) {
    for (let k = 0; k < 4; k++) {
      lines.push({ v: 1, ts: `2026-01-02T${String(s % 24).padStart(2, '0')}:00:0${k}Z`, tenant: 'demo', surface: 'home', session_id: `s${s}`, item_id: `item-${(s * 7 + k * 13) % 97}` });
    }
  }
  return lines;
}

const versionOf = (uri: string) => /\/([0-9a-f]{64})\.json$/.exec(uri)![1]!;
/** manifest key → version, keys sorted (so that equal maps stringify equally). */
const versionsOf = (current: Record<string, string> | undefined) =>
  current
    ? Object.fromEntries(
        Object.entries(current)
          .map(([k, u]) => [k, versionOf(u)] as const)
          .sort(([a], [b]) => (a < b ? -1 : 1)),
      )
    : undefined;

/** Every blob and record on disk is complete: blobs hash to their file name, records parse. */
async function checkStoredObjects(out: string): Promise<void> {
  for (const type of ['popularity', 'cooc']) {
    const blobDir = join(out, 'objectstore/demo/home', type);
    for (const name of safeList(blobDir).filter((n) => !n.startsWith('.'))) {
      const check = await verifyArtifactVersion(parseArtifact(JSON.parse(readFileSync(join(blobDir, name), 'utf8'))));
      expect(check.ok && `${check.version}.json`, `${blobDir}/${name}`).toBe(name);
    }
    const recordDir = join(out, 'registry/records/demo/home', type);
    for (const name of safeList(recordDir).filter((n) => !n.startsWith('.'))) {
      expect(parseVersionRecord(JSON.parse(readFileSync(join(recordDir, name), 'utf8'))).version + '.json').toBe(name);
    }
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

interface Trial {
  readonly name: string;
  readonly fromOld: boolean;
  readonly env?: Record<string, string>;
  readonly killAfterMs?: number;
}

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe(`crash safety (seed ${SEED})`, () => {
  let template: string;
  let oldVersions: Record<string, string>;
  let newVersions: Record<string, string>;
  let referenceMs: number;

  beforeAll(async () => {
    // The template: day 1 published (the "old" manifest), day 2's raw input waiting.
    template = tempDir('recsys-crash-template-');
    copyTiny(template);
    writeConfig(template);
    writeRawDay(join(template, 'raw'), 'demo', 'home', '2026-01-02', day2Lines());
    const day1 = await runJson(['--config', join(template, 'config.json'), '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: template });
    expect(day1.code, day1.stderr).toBe(0);
    oldVersions = versionsOf(JSON.parse(readFileSync(join(template, 'out/registry/current/demo/home/manifest.json'), 'utf8')).current)!;
    // The reference: day 2 published without interruption, timed with the
    // trials' parallelism (4 at once) so that random kill delays spread over a
    // whole run.
    const started = performance.now();
    const references = await Promise.all(Array.from({ length: 4 }, () => copyOf(template)).map((dir) => runJson(['--config', join(dir, 'config.json'), ...DAY2], { cwd: dir })));
    referenceMs = performance.now() - started;
    const day2 = references[0]!;
    for (const r of references) expect(r.code, r.stderr).toBe(0);
    newVersions = versionsOf(Object.fromEntries(day2.json.days[0]!.artifacts.map((a) => [a.key, a.uri])))!;
    expect(newVersions).not.toEqual(oldVersions);
  });

  function copyOf(dir: string): string {
    const to = tempDir('recsys-crash-');
    cpSync(dir, to, { recursive: true });
    return to;
  }

  /** A fresh folder with day 2's raw input and no previous publish. */
  function fresh(): string {
    const dir = tempDir('recsys-crash-');
    mkdirSync(join(dir, 'raw'));
    writeConfig(dir);
    writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-02', day2Lines());
    return dir;
  }

  test('50+ SIGKILLed publishes leave a consistent registry, and a rerun completes', async () => {
    const points = ['blob', 'blob:popularity', 'blob:cooc', 'readback:popularity', 'readback:cooc', 'record:popularity', 'record:cooc', 'pointer'];
    const trials: Trial[] = [];
    for (let round = 0; round < 4; round++) {
      for (const point of points) trials.push({ name: `hook ${point}${round % 2 ? ' (fresh)' : ''}`, fromOld: round % 2 === 0, env: { RECSYS_TEST_KILL_AT: point } });
    }
    for (let i = 0; i < 28; i++) {
      // Half of the delays land in the last half of a normal run, where publishing happens.
      const ms = Math.round(i % 2 ? random() * referenceMs * 1.2 : referenceMs * (0.5 + random() * 0.7));
      trials.push({ name: `timed kill after ${ms} ms${i % 4 < 2 ? '' : ' (fresh)'}`, fromOld: i % 4 < 2, killAfterMs: ms });
    }
    expect(trials.length).toBeGreaterThanOrEqual(50);

    const outcomes: Record<string, number> = {};
    await inBatches(trials, 4, async (trial) => {
      const dir = trial.fromOld ? copyOf(template) : fresh();
      const out = join(dir, 'out');
      const config = join(dir, 'config.json');
      const where = `${trial.name} [seed ${SEED}] in ${dir}`;
      const crashed: CliResult = await cli(['run', '--config', config, ...DAY2], { cwd: dir, ...(trial.env ? { env: trial.env } : {}), ...(trial.killAfterMs !== undefined ? { killAfterMs: trial.killAfterMs } : {}) });
      if (trial.env) expect(crashed.signal, `${where}: the hook must kill the process (exit ${crashed.code}): ${crashed.stderr}`).toBe('SIGKILL');
      else expect(crashed.signal === 'SIGKILL' || crashed.code === 0, `${where}: ${crashed.stderr}`).toBe(true);

      const after = await checkRegistry(join(out, 'registry'), 'demo', 'home').catch((e: Error) => {
        throw new Error(`${where}: ${e.message}`);
      });
      const versions = versionsOf(after.manifest?.current);
      const state = versions === undefined ? 'absent' : JSON.stringify(versions) === JSON.stringify(newVersions) ? 'new' : JSON.stringify(versions) === JSON.stringify(oldVersions) ? 'old' : 'other';
      expect(state, `${where}: manifest ${JSON.stringify(versions)}`).not.toBe('other');
      if (trial.fromOld) expect(state, where).not.toBe('absent');
      else expect(state, where).not.toBe('old');
      if (crashed.code === 0) expect(state, where).toBe('new');
      await checkStoredObjects(out);
      outcomes[`${trial.env ? 'hook' : 'timed'}:${state}`] = (outcomes[`${trial.env ? 'hook' : 'timed'}:${state}`] ?? 0) + 1;

      const rerun = await runJson(['--config', config, ...DAY2], { cwd: dir });
      expect(rerun.code, `${where}: rerun: ${rerun.stderr}`).toBe(0);
      const final = await checkRegistry(join(out, 'registry'), 'demo', 'home');
      expect(versionsOf(final.manifest!.current), where).toEqual(newVersions);
      expect(final.history.at(-1)!.next, where).toEqual(final.manifest!.current);
      await checkStoredObjects(out);
    });
    // The hook kills before the pointer moves, so those trials keep the old/absent manifest.
    expect(outcomes['hook:new'] ?? 0).toBe(0);
    expect((outcomes['hook:old'] ?? 0) + (outcomes['hook:absent'] ?? 0)).toBe(points.length * 4);
  });
});
