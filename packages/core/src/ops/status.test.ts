import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { collectStatus, renderPrometheus, type StatusReport } from './status.js';
import { cooc, popularity, publish, scope, testEnv } from '../testing/fixtures.js';
import { dayWindow } from '../days.js';

const HOUR = 3_600_000;

describe('collectStatus', () => {
  test('fresh right after a publish: versions, windows, rows, last history entry', async () => {
    const env = testEnv();
    const p = popularity(env, { A: 2, B: 1, C: 1 });
    const c = cooc(env, ['A', 'B']);
    await publish(env, [p, c]);
    env.testClock.advance(HOUR);
    const report = await collectStatus(env, { maxAgeMs: 26 * HOUR });
    expect(report.stale).toBe(false);
    expect(report.scopes).toHaveLength(1);
    const s = report.scopes[0]!;
    expect(s).toMatchObject({ tenant: 'demo', surface: 'home', fresh: true, age_seconds: 3600, manifest_exists: true, manifest_lags_history: false, last_history: { seq: 1, reason: 'publish' } });
    expect(s.artifacts.map((a) => [a.key, a.version, a.items, a.window])).toEqual([
      ['cooc', c.version, 2, dayWindow('2026-01-01')],
      ['popularity', p.version, 3, dayWindow('2026-01-01')],
    ]);
    expect(s.artifacts[0]!.published_at).toBe('2026-01-10T00:00:00.000Z');
  });

  test('stale past the max age; exactly at it still fresh', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 1 })]);
    env.testClock.advance(26 * HOUR);
    expect((await collectStatus(env, { maxAgeMs: 26 * HOUR })).stale).toBe(false);
    env.testClock.advance(1000);
    const report = await collectStatus(env, { maxAgeMs: 26 * HOUR });
    expect(report.stale).toBe(true);
    expect(report.scopes[0]!.stale_reason).toMatch(/more than the max age of 93600 s/);
  });

  test('a requested scope without a manifest is stale; without a scope only existing manifests are listed', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 1 })]);
    const missing = await collectStatus(env, { scope: { tenant: 'demo', surface: 'search' } });
    expect(missing.stale).toBe(true);
    expect(missing.scopes[0]).toMatchObject({ manifest_exists: false, fresh: false, stale_reason: 'no manifest: nothing published' });
    expect((await collectStatus(env)).scopes.map((s) => `${s.tenant}/${s.surface}`)).toEqual(['demo/home']);
    // A registry with nothing in it serves nothing: stale.
    expect(await collectStatus(testEnv())).toMatchObject({ stale: true, scopes: [] });
  });

  test('flags a manifest that lags history and a served blob that is gone', async () => {
    const env = testEnv();
    const p = popularity(env, { A: 1 });
    const first = await publish(env, [p]);
    const entry = { ...first.commit.entry, seq: 2, previous: first.commit.entry.next, next: {} };
    await env.registryStorage.putIfAbsent(keys.history(scope, 2), JSON.stringify(entry));
    env.objects.objects.delete(keys.blob(scope, 'popularity', p.version));
    const s = (await collectStatus(env)).scopes[0]!;
    expect(s.manifest_lags_history).toBe(true);
    expect(s.artifacts[0]!.problem).toMatch(/does not exist/);
    expect(s.artifacts[0]!.items).toBeUndefined();
  });
});

describe('renderPrometheus', () => {
  test('HELP/TYPE per family, one sample per scope and artifact, escaped labels', () => {
    const report: StatusReport = {
      checked_at: '2026-01-10T00:00:00.000Z',
      max_age_seconds: 93600,
      stale: true,
      scopes: [
        {
          tenant: 'demo',
          surface: 'ho"me\\x\ny',
          manifest_uri: 's3://r/current/demo/home/manifest.json',
          manifest_exists: true,
          updated_at: '2026-01-09T23:00:00.000Z',
          age_seconds: 3600,
          fresh: true,
          manifest_lags_history: false,
          artifacts: [{ key: 'popularity', type: 'popularity', segment: 'default', version: 'v', uri: 'u', items: 4, published_at: '2026-01-09T23:00:00.500Z' }],
        },
        { tenant: 'demo', surface: 'search', manifest_uri: 'm', manifest_exists: false, fresh: false, manifest_lags_history: false, artifacts: [] },
      ],
    };
    const text = renderPrometheus(report);
    const esc = 'surface="ho\\"me\\\\x\\ny"';
    expect(text).toBe(
      [
        '# HELP recsys_manifest_age_seconds Seconds since the manifest of a tenant/surface was last updated.',
        '# TYPE recsys_manifest_age_seconds gauge',
        `recsys_manifest_age_seconds{tenant="demo",${esc}} 3600`,
        '# HELP recsys_manifest_stale 1 when the manifest is missing or older than the max age of the status check, else 0.',
        '# TYPE recsys_manifest_stale gauge',
        `recsys_manifest_stale{tenant="demo",${esc}} 0`,
        'recsys_manifest_stale{tenant="demo",surface="search"} 1',
        '# HELP recsys_manifest_max_age_seconds The freshness SLO the status check used.',
        '# TYPE recsys_manifest_max_age_seconds gauge',
        `recsys_manifest_max_age_seconds{tenant="demo",${esc}} 93600`,
        'recsys_manifest_max_age_seconds{tenant="demo",surface="search"} 93600',
        '# HELP recsys_artifact_items Rows in the served artifact payload (items, neighbor rows or users).',
        '# TYPE recsys_artifact_items gauge',
        `recsys_artifact_items{tenant="demo",${esc},type="popularity",segment="default"} 4`,
        '# HELP recsys_last_publish_timestamp_seconds Unix time at which the served version of an artifact was published.',
        '# TYPE recsys_last_publish_timestamp_seconds gauge',
        `recsys_last_publish_timestamp_seconds{tenant="demo",${esc},type="popularity",segment="default"} ${Date.parse('2026-01-09T23:00:00.500Z') / 1000}`,
        '',
      ].join('\n'),
    );
  });
});
