// The volume-anomaly gate through the built binary (DESIGN §9): a day whose
// accepted events or distinct items leave [median × 0.5, median × 3] of the
// passed days in its 7-day lookback exits 3 and publishes nothing; the day's
// ingest report records the verdict; --accept-anomaly publishes it and the
// history entry says so. With 3, 7 and 10 days of history.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkRegistry, cli, event, readHistory, runJson, snapshot, tempDir, writeConfig, writeRawDay } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];

/** The days 2026-01-01, 02, …: `n` of them. */
const daysFrom1 = (n: number) => Array.from({ length: n }, (_, k) => `2026-01-${String(k + 1).padStart(2, '0')}`);

function setup(config: Record<string, unknown> = {}) {
  const dir = tempDir('recsys-volume-');
  const configPath = writeConfig(dir, config);
  /** A day of `events` distinct events over `items` items, in sessions of 5 events. */
  const day = (d: string, events: number, items: number) =>
    writeRawDay(
      join(dir, 'raw'),
      'demo',
      'home',
      d,
      Array.from({ length: events }, (_, k) => event(`s${Math.floor(k / 5)}`, `i${k % items}`, { ts: new Date(Date.parse(`${d}T00:00:00Z`) + k * 1000).toISOString() })),
    );
  const report = (d: string) => JSON.parse(readFileSync(join(dir, 'out/artifacts/demo/home/_ingest', `${d}.json`), 'utf8')) as { volume_gate?: { outcome: string; history_days: string[]; observed: Record<string, number>; checks: { measure: string; ok: boolean; expected: { min: number; max: number } }[] } };
  const run = (args: string[]) => runJson(['--config', configPath, ...SCOPE, ...args], { cwd: dir });
  const registry = join(dir, 'out/registry');
  return { dir, config: configPath, day, report, run, registry };
}

describe.each([3, 7, 10])('with %i days of history', (n) => {
  const history = daysFrom1(n);
  const next = daysFrom1(n + 1)[n]!;
  /** n normal days (100 events over 20 items), published in one run. */
  async function normal(config: Record<string, unknown> = {}) {
    const s = setup(config);
    for (const d of history) s.day(d, 100, 20);
    const r = await s.run(['--start', history[0]!, '--end', history.at(-1)!]);
    expect(r.code, r.stderr).toBe(0);
    return s;
  }

  test('the history days pass; the first three with insufficient history, then compared', async () => {
    const s = await normal();
    expect(history.map((d) => s.report(d).volume_gate!.outcome)).toEqual(history.map((_, k) => (k < 3 ? 'insufficient_history' : 'pass')));
    s.day(next, 110, 20);
    const r = await s.run(['--start', next, '--end', next]);
    expect(r.code, r.stderr).toBe(0);
    const verdict = s.report(next).volume_gate!;
    expect(verdict.outcome).toBe('pass');
    // Only the passed days of the 7 calendar days before it.
    expect(verdict.history_days).toEqual(history.slice(-7));
    expect(verdict.checks.map((c) => [c.measure, c.expected])).toEqual([
      ['accepted_events', { min: 50, max: 300 }],
      ['distinct_items', { min: 10, max: 60 }],
    ]);
  });

  test.each([
    ['a drop', 49, 20, 'accepted_events 49 outside the expected range [50, 300]'],
    ['a spike', 301, 20, 'accepted_events 301 outside the expected range [50, 300]'],
    ['a distinct-item collapse', 100, 9, 'distinct_items 9 outside the expected range [10, 60]'],
  ])('%s blocks with exit 3, names measure, observed value and range, and publishes nothing', async (_name, events, items, message) => {
    const s = await normal();
    const before = snapshot(join(s.dir, 'out/registry'));
    const objects = snapshot(join(s.dir, 'out/objectstore'));
    s.day(next, events, items);
    const r = await s.run(['--start', next, '--end', next]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.json.error!.message).toContain('validation gate "volume_anomaly" failed');
    expect(r.json.error!.message).toContain(message);
    expect(r.json.error!.message).toContain('--accept-anomaly');
    expect(r.json.days).toEqual([]);
    // No blob, record, pointer move or history entry.
    expect(snapshot(join(s.dir, 'out/registry'))).toEqual(before);
    expect(snapshot(join(s.dir, 'out/objectstore'))).toEqual(objects);
    expect(existsSync(join(s.dir, 'out/artifacts/demo/home/default/popularity', `${next}_${daysFrom1(n + 2)[n + 1]}`))).toBe(false);
    // The day's report records the verdict; a blocked day is not history for later days.
    expect(s.report(next).volume_gate!.outcome).toBe('blocked');

    // Idempotent: the same input blocks again, with the same message and nothing written.
    const again = await s.run(['--start', next, '--end', next]);
    expect(again.code).toBe(3);
    expect(again.json.error!.message).toBe(r.json.error!.message);
    expect(snapshot(join(s.dir, 'out/registry'))).toEqual(before);

    // Accepted: published, the verdict says so, and so does the history entry.
    const accepted = await s.run(['--start', next, '--end', next, '--accept-anomaly']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(s.report(next).volume_gate!.outcome).toBe('accepted');
    const entries = readHistory(s.registry, 'demo', 'home');
    expect(entries).toHaveLength(n + 1);
    expect(entries.at(-1)!.message).toContain(`--accept-anomaly: day ${next} published outside the volume-anomaly range: ${message}`);
    expect((await checkRegistry(s.registry, 'demo', 'home')).history).toHaveLength(n + 1);
    // Re-running the accepted day (same input), with or without the flag, changes nothing:
    // the acceptance holds for the data it was given for.
    for (const flags of [['--accept-anomaly'], []]) {
      const rerun = await s.run(['--start', next, '--end', next, ...flags]);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(s.report(next).volume_gate!.outcome).toBe('accepted');
    }
    expect(readHistory(s.registry, 'demo', 'home')).toHaveLength(n + 1);
    // Other data for that day is judged afresh.
    s.day(next, events === 49 ? 48 : events + 1, items);
    expect((await s.run(['--start', next, '--end', next])).code).toBe(3);
  });
});

describe('volume-anomaly gate settings', () => {
  test('enabled: false publishes an anomalous day and records the verdict "off"', async () => {
    const s = setup({ gates: { volume_anomaly: { enabled: false } } });
    for (const d of daysFrom1(4)) s.day(d, 100, 20);
    s.day('2026-01-05', 5, 2);
    const r = await s.run(['--start', '2026-01-01', '--end', '2026-01-05']);
    expect(r.code, r.stderr).toBe(0);
    expect(s.report('2026-01-05').volume_gate).toMatchObject({ outcome: 'off', observed: { accepted_events: 5, distinct_items: 2 } });
  });

  test('a multi-day run stops at the anomalous day; the days before it stay published', async () => {
    const s = setup();
    for (const d of daysFrom1(4)) s.day(d, 100, 20);
    s.day('2026-01-05', 500, 20);
    s.day('2026-01-06', 100, 20);
    const r = await s.run(['--start', '2026-01-01', '--end', '2026-01-06']);
    expect(r.code).toBe(3);
    expect(r.json.days.map((d) => d.day)).toEqual(daysFrom1(4));
    expect(readdirSync(join(s.dir, 'out/artifacts/demo/home/_ingest')).sort()).toEqual([...daysFrom1(5)].map((d) => `${d}.json`));
  });

  test('--accept-anomaly accepts one day: a run over several days is a usage error', async () => {
    const s = setup();
    for (const d of daysFrom1(2)) s.day(d, 100, 20);
    const r = await s.run(['--start', '2026-01-01', '--end', '2026-01-02', '--accept-anomaly']);
    expect(r.code).toBe(2);
    expect(r.json.error!.message).toContain('--accept-anomaly');
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
  });

  test.each([
    [{ volume_anomaly: { min_ratio: 2 } }, 'gates.volume_anomaly.min_ratio'],
    [{ volume_anomaly: { lookback_days: 2 } }, 'gates.volume_anomaly.min_history_days'],
    [{ volume: {} }, 'gates'],
  ])('config %j is refused naming %s (exit 2)', async (gates, key) => {
    const s = setup({ gates });
    s.day('2026-01-01', 10, 2);
    const r = await cli(['run', '--config', s.config, ...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: s.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(key);
  });

  test('job mode: validate blocks (exit 3) and compute refuses; validate --accept-anomaly lets it through and publish records the acceptance', async () => {
    const s = setup();
    for (const d of daysFrom1(3)) s.day(d, 100, 20);
    expect((await s.run(['--start', '2026-01-01', '--end', '2026-01-03'])).code).toBe(0);
    s.day('2026-01-04', 20, 20);
    const c = ['--config', s.config, ...SCOPE, '--start', '2026-01-04', '--end', '2026-01-04'];
    expect((await cli(['ingest', ...c], { cwd: s.dir })).code).toBe(0);
    const blocked = await cli(['validate', ...c], { cwd: s.dir });
    expect(blocked.code, blocked.stderr).toBe(3);
    expect(blocked.stderr).toContain('accepted_events 20 outside the expected range [50, 300]');
    const refused = await cli(['compute', 'popularity', 'cooc', ...c], { cwd: s.dir });
    expect(refused.code).toBe(3);
    const accepted = await cli(['validate', ...c, '--accept-anomaly'], { cwd: s.dir });
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(s.report('2026-01-04').volume_gate!.outcome).toBe('accepted');
    expect((await cli(['compute', 'popularity', 'cooc', ...c], { cwd: s.dir })).code).toBe(0);
    const published = await cli(['publish', ...c], { cwd: s.dir });
    expect(published.code, published.stderr).toBe(0);
    expect(readHistory(s.registry, 'demo', 'home').at(-1)!.message).toContain('--accept-anomaly: day 2026-01-04 published outside the volume-anomaly range: accepted_events 20 outside the expected range [50, 300]');
  });
});
