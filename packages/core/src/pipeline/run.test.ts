import { describe, expect, test } from 'vitest';
import { DEFAULT_LIMITS, RecsysError, planRun, resolveLimits, silentLogger, systemClock, type LimitsConfig, type ObjectStorage, type PipelineEnv, type RunOptions } from '../internal.js';

/**
 * A storage that records every call and answers only `get` (from `objects`).
 * planRun must reject bad input before touching any storage at all.
 */
function recordingStorage(objects: Record<string, string> = {}): ObjectStorage & { calls: string[] } {
  const calls: string[] = [];
  return new Proxy({} as ObjectStorage & { calls: string[] }, {
    get(_target, prop) {
      if (prop === 'calls') return calls;
      if (prop === 'location') return 'memory://test';
      if (prop === 'then') return undefined;
      return (...args: unknown[]) => {
        calls.push(`${String(prop)}(${args.map((a) => JSON.stringify(a)).join(', ')})`);
        if (prop === 'get') {
          const value = objects[args[0] as string];
          return Promise.resolve(value === undefined ? undefined : new TextEncoder().encode(value));
        }
        if (prop === 'uri') return `memory://test/${String(args[0])}`;
        if (prop === 'stat') return Promise.resolve(objects[args[0] as string] === undefined ? undefined : { key: args[0], size: objects[args[0] as string]!.length });
        return Promise.reject(new Error(`unexpected storage call ${String(prop)}`));
      };
    },
  });
}

function env(limits: LimitsConfig = {}, checkpoints = recordingStorage()) {
  // A flat raw file: every day has raw input (planRun checks that before any day runs).
  const other = recordingStorage({ 'exposure.jsonl': '' });
  const areas = { raw: other, canonical: other, quarantine: other, artifacts: other, objects: other, registry: other, checkpoints };
  const e = { areas, limits: resolveLimits(limits), clock: systemClock, logger: silentLogger, identity: { runId: 'r', host: 'h', user: 'u', tool: { name: 't', version: '0' } }, sha256: () => ({ update() {}, digest: () => '' }) };
  return { env: e as unknown as PipelineEnv, calls: () => [...other.calls, ...checkpoints.calls] };
}

const base: RunOptions = { tenant: 'demo', surface: 'home', start: '2026-01-01', end: '2026-01-03', types: ['popularity', 'cooc'] };

async function failure(promise: Promise<unknown>): Promise<RecsysError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(RecsysError.isInstance(error), String(error)).toBe(true);
  return error as RecsysError;
}

describe('planRun', () => {
  test('resolves the inclusive day range, the default segment and the types', async () => {
    const { env: e } = env();
    expect(await planRun(e, base)).toMatchObject({ scope: { tenant: 'demo', surface: 'home' }, segment: 'default', types: ['popularity', 'cooc'], days: ['2026-01-01', '2026-01-02', '2026-01-03'], incremental: false });
    expect((await planRun(e, { ...base, start: '2024-02-28', end: '2024-03-01' })).days).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect((await planRun(e, { ...base, types: ['cooc', 'cooc'] })).types).toEqual(['cooc']);
  });

  const unsafe = ['..', '.', 'a/b', '%2e%2e', '', 'x'.repeat(300), 'a\0b', 'a\\b', ' a', 'é'];
  test.each(['tenant', 'surface', 'segment'] as const)('rejects every unsafe %s as a usage error before any storage call', async (field) => {
    for (const value of unsafe) {
      const { env: e, calls } = env();
      const error = await failure(planRun(e, { ...base, [field]: value }));
      expect(error.kind, JSON.stringify(value)).toBe('usage');
      expect(error.exitCode).toBe(2);
      expect(error.message).toContain(field);
      expect(calls()).toEqual([]);
    }
  });

  test('a 128-character segment is fine, 129 is not', async () => {
    const { env: e } = env();
    expect((await planRun(e, { ...base, tenant: 't'.repeat(128) })).scope.tenant).toHaveLength(128);
    expect((await failure(planRun(e, { ...base, tenant: 't'.repeat(129) }))).kind).toBe('usage');
  });

  test.each([
    ['--start after --end', { start: '2026-01-05', end: '2026-01-01' }, '--start'],
    ['a bad --start', { start: '2026-13-01' }, '--start'],
    ['a bad --end', { end: '2026-02-30' }, '--end'],
    ['no --start without --incremental', { start: undefined }, '--start'],
    ['an unknown artifact type', { types: ['popularity', 'bogus'] }, 'bogus'],
    ['no artifact types', { types: [] }, 'no artifact types'],
  ] as [string, Partial<RunOptions>, string][])('%s is a usage error naming it', async (_name, change, needle) => {
    const { env: e, calls } = env();
    const error = await failure(planRun(e, { ...base, ...change }));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain(needle);
    expect(calls()).toEqual([]);
  });

  test('days without any raw input are a usage error naming them and the setting, unless skipped', async () => {
    const { env: e } = env();
    const raw = recordingStorage({ 'demo/home/exposure.2026-01-02.jsonl': '{}' });
    const noFlat = { ...e, areas: { ...e.areas, raw }, rawSourceKey: 'raw_events_dir' } as PipelineEnv;
    const error = await failure(planRun(noFlat, base));
    expect(error.kind).toBe('usage');
    expect(error.message).toContain('no raw input for 2026-01-01, 2026-01-03 under memory://test/demo/home (raw_events_dir)');
    expect(error.message).toContain('--skip-empty-days');
    const plan = await planRun(noFlat, { ...base, skipEmptyDays: true });
    expect(plan.days).toEqual(['2026-01-02']);
    expect(plan.skipped!.map((s) => [s.day, s.reason])).toEqual([
      ['2026-01-01', 'no_raw_input'],
      ['2026-01-03', 'no_raw_input'],
    ]);
  });

  test('a range longer than limits.max_days_backfill trips the limit (exit 4)', async () => {
    const { env: e } = env({ max_days_backfill: 2 });
    const error = await failure(planRun(e, base));
    expect(error.kind).toBe('limit');
    expect(error.exitCode).toBe(4);
    expect(error.context).toMatchObject({ limit: 'max_days_backfill', observed: 3, allowed: 2, config_key: 'limits.max_days_backfill' });
    const { env: ok } = env({ max_days_backfill: 3 });
    expect((await planRun(ok, base)).days).toHaveLength(3);
    expect(DEFAULT_LIMITS.max_days_backfill).toBe(90);
  });

  describe('--incremental', () => {
    test('the first run needs --start', async () => {
      const { env: e } = env();
      const error = await failure(planRun(e, { ...base, start: undefined, incremental: true }));
      expect(error.kind).toBe('usage');
      expect(error.message).toContain('--start');
      expect((await planRun(e, { ...base, incremental: true })).days).toEqual(['2026-01-01', '2026-01-02', '2026-01-03']);
    });

    test('starts the day after the checkpoint and ignores --start; nothing to do when caught up', async () => {
      const checkpoint = JSON.stringify({ v: 1, tenant: 'demo', surface: 'home', last_completed_day: '2026-01-02', updated_at: '2026-01-03T00:00:00Z' });
      const { env: e } = env({}, recordingStorage({ 'demo/home.json': checkpoint }));
      expect(await planRun(e, { ...base, incremental: true })).toMatchObject({ days: ['2026-01-03'], incremental: true });
      expect((await planRun(e, { ...base, start: undefined, end: '2026-01-02', incremental: true })).days).toEqual([]);
    });
  });
});

describe('resolveLimits', () => {
  test.each([
    ['absent → default', {}, 'max_items_per_session', 1000],
    ['0 → default for counts (Go zero value)', { max_items_per_session: 0 }, 'max_items_per_session', 1000],
    ['a value is used', { max_items_per_session: 3 }, 'max_items_per_session', 3],
    ['max_*_per_run default to unlimited', {}, 'max_events_per_run', Infinity],
    ['the ratio defaults to 0.001', {}, 'max_bad_event_ratio', 0.001],
    ['a ratio of 0 is a real value', { max_bad_event_ratio: 0 }, 'max_bad_event_ratio', 0],
    ['max_days_backfill defaults to 90', {}, 'max_days_backfill', 90],
    ['max_neighbors_per_item defaults to 50 (the Go implementation)', {}, 'max_neighbors_per_item', 50],
    ['max_neighbors_per_item 0 means the default', { max_neighbors_per_item: 0 }, 'max_neighbors_per_item', 50],
    ['max_items_per_artifact defaults to 1000 (the Go implementation)', {}, 'max_items_per_artifact', 1000],
    ['max_items_per_artifact 0 means the default', { max_items_per_artifact: 0 }, 'max_items_per_artifact', 1000],
    ['max_artifact_bytes defaults to the service limit', {}, 'max_artifact_bytes', 10_000_000],
    ['max_artifact_bytes 0 means no limit', { max_artifact_bytes: 0 }, 'max_artifact_bytes', Infinity],
    ['max_artifact_bytes set', { max_artifact_bytes: 5 }, 'max_artifact_bytes', 5],
    ['min_cooc_support defaults to 1', {}, 'min_cooc_support', 1],
    ['max_items_per_user defaults to 200', {}, 'max_items_per_user', 200],
  ] as [string, LimitsConfig, keyof typeof DEFAULT_LIMITS, number][])('%s', (_name, config, key, expected) => {
    expect(resolveLimits(config)[key]).toBe(expected);
  });
});
