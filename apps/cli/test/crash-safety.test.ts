// Crash safety on the filesystem (DESIGN §5.5): `run` processes are SIGKILLed
// at random points during publish — at each protocol step through the
// RECSYS_TEST_KILL_AT hook (including between the history claim and the
// manifest write, and between the manifest write and the un-pin), and after
// random delays counted from the moment publish begins; every timed kill must
// land inside publish (the RECSYS_TEST_TRACE step lines show it began and did
// not end, and the process died of the SIGKILL), else it is retried with a
// shorter delay — and afterwards:
//   - the manifest is absent, the old one, or the new one (never anything else);
//   - every URI in it resolves to a blob whose recomputed hash is its version;
//   - every blob under its final name is complete (hashes to its file name);
//   - the history chains (1..n, previous = prior next);
//   - a rerun completes and publishes the new versions.
// Trials run in parallel batches of 4. The random seed is printed on failure
// (set RECSYS_CRASH_SEED to replay).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseArtifact, parseVersionRecord, verifyArtifactVersion } from '@recsys/contracts';
import { seededRandom } from '@recsys/vitest-config/seeded-random';
import { checkRegistry, cli, copyTiny, runJson, tempDir, writeConfig, writeRawDay, type CliResult } from './helpers.js';

const SEED = Number(process.env.RECSYS_CRASH_SEED ?? Date.now() % 2 ** 31);
const random = seededRandom(SEED);

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
  /** Hook trials: the RECSYS_TEST_KILL_AT point. */
  readonly point?: string;
  /** Timed trials: the first delay after publish begins. */
  readonly killAfterMs?: number;
}

const TRACE = 'recsys-test-step ';
/** The publish steps a process printed before it died. */
const stepsOf = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith(TRACE)).map((l) => l.slice(TRACE.length));
/** Hook points at or after the history claim: the new entry exists when they kill. */
const CLAIMED_POINTS = new Set(['claimed', 'committed']);

async function inBatches<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

describe(`crash safety (seed ${SEED})`, () => {
  let template: string;
  let oldVersions: Record<string, string>;
  let newVersions: Record<string, string>;
  let publishMs: number;

  beforeAll(async () => {
    // The template: day 1 published (the "old" manifest), day 2's raw input waiting.
    template = tempDir('recsys-crash-template-');
    copyTiny(template);
    writeConfig(template);
    writeRawDay(join(template, 'raw'), 'demo', 'home', '2026-01-02', day2Lines());
    const day1 = await runJson(['--config', join(template, 'config.json'), '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: template });
    expect(day1.code, day1.stderr).toBe(0);
    oldVersions = versionsOf(JSON.parse(readFileSync(join(template, 'out/registry/current/demo/home/manifest.json'), 'utf8')).current)!;
    // The reference: day 2 published without interruption, 4 at once like the trials.
    const references = await Promise.all(Array.from({ length: 4 }, () => copyOf(template)).map((dir) => runJson(['--config', join(dir, 'config.json'), ...DAY2], { cwd: dir })));
    const day2 = references[0]!;
    for (const r of references) expect(r.code, r.stderr).toBe(0);
    // How long publishing (staging + publish) takes with the trials' parallelism: the range of the kill delays.
    publishMs = Math.max(...references.map((r) => r.json.days[0]!.durations_ms.publish));
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

  test('70+ SIGKILLed publishes leave a consistent registry, and a rerun completes', { timeout: 1_800_000 }, async () => {
    const points = ['begin', 'blob', 'blob:popularity', 'blob:cooc', 'readback:popularity', 'readback:cooc', 'record:popularity', 'record:cooc', 'pointer', 'claimed', 'committed'];
    const trials: Trial[] = [];
    for (let round = 0; round < 4; round++) {
      for (const point of points) trials.push({ name: `hook ${point}${round % 2 ? ' (fresh)' : ''}`, fromOld: round % 2 === 0, point });
    }
    for (let i = 0; i < 28; i++) {
      // Delays count from the moment publish begins, spread over a whole (uninterrupted) publish.
      const ms = Math.round(random() * publishMs);
      trials.push({ name: `timed kill ${ms} ms into publish${i % 4 < 2 ? '' : ' (fresh)'}`, fromOld: i % 4 < 2, killAfterMs: ms });
    }
    expect(trials.length).toBeGreaterThanOrEqual(70);

    const outcomes: Record<string, number> = {};
    const landedAfter: Record<string, number> = {};
    let retries = 0;
    await inBatches(trials, 4, async (trial) => {
      let dir = '';
      let crashed: CliResult | undefined;
      let where = '';
      for (let attempt = 0, delay = trial.killAfterMs ?? 0; ; attempt++, delay = Math.floor(delay / 2)) {
        dir = trial.fromOld ? copyOf(template) : fresh();
        where = `${trial.name}${attempt ? ` (attempt ${attempt + 1}, ${delay} ms)` : ''} [seed ${SEED}] in ${dir}`;
        const env = trial.point ? { RECSYS_TEST_KILL_AT: trial.point } : { RECSYS_TEST_TRACE: '1' };
        crashed = await cli(['run', '--config', join(dir, 'config.json'), ...DAY2], { cwd: dir, env, ...(trial.point ? {} : { killAfterLine: { line: `${TRACE}begin`, afterMs: delay } }) });
        if (trial.point) break;
        const steps = stepsOf(crashed.stderr);
        // Landed inside publish: it began, never ended, and the process died of our SIGKILL (no clean exit).
        if (steps.includes('begin') && !steps.includes('end') && crashed.signal === 'SIGKILL') {
          landedAfter[steps.at(-1)!] = (landedAfter[steps.at(-1)!] ?? 0) + 1;
          break;
        }
        expect(crashed.signal === 'SIGKILL' || crashed.code === 0, `${where}: ${crashed.stderr}`).toBe(true);
        // The kill came after publish ended (or the run finished first): retry with a shorter delay.
        expect(attempt, `${where}: no kill landed inside publish in ${attempt + 1} attempts`).toBeLessThan(8);
        retries++;
      }
      const out = join(dir, 'out');
      const config = join(dir, 'config.json');
      expect(crashed.signal, `${where}: the kill must land inside publish (exit ${crashed.code}): ${crashed.stderr}`).toBe('SIGKILL');

      const after = await checkRegistry(join(out, 'registry'), 'demo', 'home').catch((e: Error) => {
        throw new Error(`${where}: ${e.message}`);
      });
      const versions = versionsOf(after.manifest?.current);
      const state = versions === undefined ? 'absent' : JSON.stringify(versions) === JSON.stringify(newVersions) ? 'new' : JSON.stringify(versions) === JSON.stringify(oldVersions) ? 'old' : 'other';
      expect(state, `${where}: manifest ${JSON.stringify(versions)}`).not.toBe('other');
      if (trial.fromOld) expect(state, where).not.toBe('absent');
      else expect(state, where).not.toBe('old');
      if (trial.point === 'claimed') {
        // Killed between the history claim and the manifest write: the manifest lags the new entry.
        expect(state, where).toBe(trial.fromOld ? 'old' : 'absent');
        expect(versionsOf(after.history.at(-1)!.next), where).toEqual(newVersions);
      } else if (trial.point === 'committed') {
        // Killed after the manifest write, before the un-pin: served, and the pin is left to expire.
        expect(state, where).toBe('new');
        expect(safeList(join(out, 'registry/gc/demo/home/pins')).length, where).toBeGreaterThan(0);
      } else if (trial.point) {
        expect(state, where).not.toBe('new');
        expect(after.history.length, where).toBe(trial.fromOld ? 1 : 0);
      }
      await checkStoredObjects(out);
      const kind = trial.point ? (CLAIMED_POINTS.has(trial.point) ? `hook-${trial.point}` : 'hook') : 'timed';
      outcomes[`${kind}:${state}`] = (outcomes[`${kind}:${state}`] ?? 0) + 1;

      const rerun = await runJson(['--config', config, ...DAY2], { cwd: dir });
      expect(rerun.code, `${where}: rerun: ${rerun.stderr}`).toBe(0);
      const final = await checkRegistry(join(out, 'registry'), 'demo', 'home');
      expect(versionsOf(final.manifest!.current), where).toEqual(newVersions);
      expect(final.history.at(-1)!.next, where).toEqual(final.manifest!.current);
      await checkStoredObjects(out);
      expect(existsSync(join(out, 'registry/current/demo/home/manifest.json')), where).toBe(true);
    });
    // Hooks before the claim keep the old/absent manifest; `claimed` leaves it lagging; `committed` has moved it.
    expect(outcomes['hook:new'] ?? 0).toBe(0);
    expect((outcomes['hook:old'] ?? 0) + (outcomes['hook:absent'] ?? 0)).toBe((points.length - CLAIMED_POINTS.size) * 4);
    expect((outcomes['hook-claimed:old'] ?? 0) + (outcomes['hook-claimed:absent'] ?? 0)).toBe(4);
    expect(outcomes['hook-committed:new'] ?? 0).toBe(4);
    const timed = Object.entries(outcomes).filter(([k]) => k.startsWith('timed:')).reduce((n, [, v]) => n + v, 0);
    expect(timed).toBe(28);
    // The figures for the record (issue 11): trials, where the timed kills landed, torn pointers (none: checked above).
    console.log(JSON.stringify({ seed: SEED, trials: trials.length, hook_points: points, outcomes, timed_kills_landed_after_step: landedAfter, timed_retries: retries, torn_pointers: 0 }));
  });
});
