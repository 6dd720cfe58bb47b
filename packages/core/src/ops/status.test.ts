import { describe, expect, test } from 'vitest';
import { keys } from '../keys.js';
import { collectStatus, dataAgeMs, isFresh, renderPrometheus, type StatusReport } from './status.js';
import { cooc, popularity, publish, scope, testEnv } from '../testing/fixtures.js';
import { dayWindow } from '../days.js';

const HOUR = 3_600_000;
/** The day before the test clock's 2026-01-10T00:00Z. */
const DAY = '2026-01-09';

describe('collectStatus', () => {
  test('fresh right after a publish: versions, windows, rows, last history entry', async () => {
    // The clock is 2026-01-10T00:00Z: yesterday's window has just ended.
    const env = testEnv();
    const p = popularity(env, { A: 2, B: 1, C: 1 }, { day: DAY });
    const c = cooc(env, ['A', 'B'], { day: DAY });
    await publish(env, [p, c], { day: DAY });
    env.testClock.advance(HOUR);
    const report = await collectStatus(env, { maxAgeMs: 26 * HOUR });
    expect(report.stale).toBe(false);
    expect(report).toMatchObject({ problems: 0, verified: false });
    expect(report.scopes).toHaveLength(1);
    const s = report.scopes[0]!;
    expect(s).toMatchObject({ tenant: 'demo', surface: 'home', fresh: true, age_seconds: 3600, manifest_age_seconds: 3600, data_age_seconds: 3600, oldest_window_end: '2026-01-10T00:00:00Z', problems: 0, manifest_exists: true, manifest_lags_history: false, last_history: { seq: 1, reason: 'publish' } });
    expect(s.artifacts.map((a) => [a.key, a.version, a.items, a.window])).toEqual([
      ['cooc', c.version, 2, dayWindow(DAY)],
      ['popularity', p.version, 3, dayWindow(DAY)],
    ]);
    expect(s.artifacts.map((a) => [a.key, a.fresh, a.data_age_seconds, a.check])).toEqual([
      ['cooc', true, 3600, 'unverified'],
      ['popularity', true, 3600, 'unverified'],
    ]);
    expect(s.artifacts[1]!.size_bytes).toBe(env.objects.objects.get(keys.blob(scope, 'popularity', p.version))!.data.byteLength);
    expect(s.artifacts[0]!.published_at).toBe('2026-01-10T00:00:00.000Z');
  });

  test('stale past the max age; exactly at it still fresh', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 1 }, { day: DAY })], { day: DAY });
    env.testClock.advance(26 * HOUR);
    expect((await collectStatus(env, { maxAgeMs: 26 * HOUR })).stale).toBe(false);
    env.testClock.advance(1000);
    const report = await collectStatus(env, { maxAgeMs: 26 * HOUR });
    expect(report.stale).toBe(true);
    expect(report.scopes[0]!.stale_reason).toMatch(/data is 1d 2h old \(93601 s; .*\), more than the max age of 1d 2h \(93600 s\)$/);
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

describe('data age (issue 13 item 3)', () => {
  test('a rollback to an older window is not fresh, although the manifest was just written', async () => {
    const env = testEnv();
    const old = popularity(env, { A: 1 }, { day: '2026-01-07' });
    await publish(env, [old], { day: '2026-01-07' });
    const current = popularity(env, { B: 1 }, { day: DAY });
    await publish(env, [current], { day: DAY });
    env.testClock.advance(HOUR);
    expect((await collectStatus(env, { maxAgeMs: 26 * HOUR })).stale).toBe(false);
    // Point the manifest back at the 2026-01-07 version "just now" (what a rollback writes).
    const stored = (await env.registryStorage.get(keys.manifest(scope)))!;
    const manifest = JSON.parse(new TextDecoder().decode(stored)) as { current: Record<string, string>; updated_at: string };
    manifest.current.popularity = env.objects.uri(keys.blob(scope, 'popularity', old.version));
    manifest.updated_at = env.testClock.now().toISOString();
    await env.registryStorage.put(keys.manifest(scope), JSON.stringify(manifest));
    const report = await collectStatus(env, { maxAgeMs: 26 * HOUR });
    const s = report.scopes[0]!;
    expect(report.stale).toBe(true);
    expect(s).toMatchObject({ fresh: false, manifest_age_seconds: 0, data_age_seconds: 2 * 86_400 + 3600, oldest_window_end: '2026-01-08T00:00:00Z' });
    expect(s.stale_reason).toMatch(/^popularity: data is 2d 1h old \(176400 s; window ends 2026-01-08T00:00:00Z\), more than the max age of 1d 2h \(93600 s\)$/);
    expect(s.artifacts[0]).toMatchObject({ key: 'popularity', version: old.version, fresh: false, data_age_seconds: 176_400 });
  });

  test('the oldest served key decides; a window that has not ended yet has data age 0', async () => {
    const env = testEnv();
    await publish(env, [popularity(env, { A: 1 }, { day: '2026-01-10' })], { day: '2026-01-10' });
    await publish(env, [cooc(env, ['A', 'B'], { day: '2026-01-08' })], { day: '2026-01-08' });
    const s = (await collectStatus(env, { maxAgeMs: 26 * HOUR })).scopes[0]!;
    expect(s.artifacts.map((a) => [a.key, a.data_age_seconds, a.fresh])).toEqual([
      ['cooc', 86_400, true],
      ['popularity', 0, true],
    ]);
    expect(s).toMatchObject({ fresh: true, data_age_seconds: 86_400, oldest_window_end: '2026-01-09T00:00:00Z' });
    env.testClock.advance(3 * HOUR);
    const later = (await collectStatus(env, { maxAgeMs: 26 * HOUR })).scopes[0]!;
    expect(later.fresh).toBe(false);
    expect(later.stale_reason).toMatch(/^cooc: data is 1d 3h old/);
  });

  test('dataAgeMs/isFresh: the rule the report reuses', () => {
    const w = dayWindow(DAY);
    const end = Date.parse(w.end);
    expect(dataAgeMs(w, end - 1)).toBe(0);
    expect(dataAgeMs(w, end + 5000)).toBe(5000);
    expect(isFresh(w, end + 26 * HOUR, 26 * HOUR)).toBe(true);
    expect(isFresh(w, end + 26 * HOUR + 1, 26 * HOUR)).toBe(false);
  });
});

describe('served blob checks (issue 11 item 16)', () => {
  test('a blob of the wrong size or without a record is a problem; same-size tampering needs --verify', async () => {
    const env = testEnv();
    const p = popularity(env, { A: 1, B: 1 }, { day: DAY });
    await publish(env, [p], { day: DAY });
    const blobKey = keys.blob(scope, 'popularity', p.version);
    const original = env.objects.objects.get(blobKey)!.data;
    const text = new TextDecoder().decode(original);

    // Same size, different content: the cheap check cannot see it, --verify can.
    const tampered = text.replace(/"count": ?1/, (m) => m.replace('1', '7'));
    expect(tampered).not.toBe(text);
    await env.objects.put(blobKey, tampered);
    let a = (await collectStatus(env)).scopes[0]!.artifacts[0]!;
    expect(a).toMatchObject({ check: 'unverified', size_bytes: original.byteLength });
    expect(a.problem).toBeUndefined();
    let report = await collectStatus(env, { verify: true });
    a = report.scopes[0]!.artifacts[0]!;
    expect(report).toMatchObject({ verified: true, problems: 1 });
    expect(a).toMatchObject({ check: 'failed', problem_kind: 'hash_mismatch' });

    // Another size: the cheap check names both sizes.
    await env.objects.put(blobKey, text + ' ');
    report = await collectStatus(env);
    a = report.scopes[0]!.artifacts[0]!;
    expect(report.problems).toBe(1);
    expect(a).toMatchObject({ check: 'failed', problem_kind: 'size_mismatch', fresh: true });
    expect(a.problem).toBe(`blob ${env.objects.uri(blobKey)} has ${original.byteLength + 1} bytes; its version record says ${original.byteLength}`);

    // Intact again, verified.
    await env.objects.put(blobKey, original);
    report = await collectStatus(env, { verify: true });
    expect(report).toMatchObject({ problems: 0, verified: true });
    expect(report.scopes[0]!.artifacts[0]!.check).toBe('verified');

    // No record: a problem, and the window still comes from the blob.
    await env.registryStorage.delete(keys.record(scope, 'popularity', p.version));
    a = (await collectStatus(env)).scopes[0]!.artifacts[0]!;
    expect(a).toMatchObject({ check: 'failed', problem_kind: 'missing_record', window: dayWindow(DAY), fresh: true });
  });
});

describe('renderPrometheus', () => {
  test('HELP/TYPE per family, one sample per scope and artifact, escaped labels', () => {
    const report: StatusReport = {
      checked_at: '2026-01-10T00:00:00.000Z',
      max_age_seconds: 93600,
      stale: true,
      problems: 0,
      verified: false,
      scopes: [
        {
          tenant: 'demo',
          surface: 'ho"me\\x\ny',
          manifest_uri: 's3://r/current/demo/home/manifest.json',
          manifest_exists: true,
          updated_at: '2026-01-09T23:00:00.000Z',
          age_seconds: 3600,
          manifest_age_seconds: 3600,
          data_age_seconds: 0,
          oldest_window_end: '2026-01-10T00:00:00Z',
          fresh: true,
          problems: 0,
          manifest_lags_history: false,
          artifacts: [
            { key: 'popularity', type: 'popularity', segment: 'default', version: 'v', uri: 'u', window: { start: '2026-01-09T00:00:00Z', end: '2026-01-10T00:00:00Z' }, data_age_seconds: 0, fresh: true, items: 4, size_bytes: 120, check: 'unverified', published_at: '2026-01-09T23:00:00.500Z' },
            { key: 'cooc', type: 'cooc', segment: 'default', version: 'w', uri: 'x', fresh: false, stale_reason: 'no window known', check: 'failed', problem: 'blob x does not exist', problem_kind: 'missing_blob' },
          ],
        },
        { tenant: 'demo', surface: 'search', manifest_uri: 'm', manifest_exists: false, fresh: false, problems: 0, manifest_lags_history: false, artifacts: [] },
      ],
    };
    const text = renderPrometheus(report);
    const esc = 'surface="ho\\"me\\\\x\\ny"';
    expect(text).toBe(
      [
        '# HELP recsys_manifest_age_seconds Seconds since the manifest of a tenant/surface was last updated.',
        '# TYPE recsys_manifest_age_seconds gauge',
        `recsys_manifest_age_seconds{tenant="demo",${esc}} 3600`,
        '# HELP recsys_manifest_stale 1 when a tenant/surface is not fresh: its manifest is missing or the data age of a served artifact exceeds the max age of the status check, else 0.',
        '# TYPE recsys_manifest_stale gauge',
        `recsys_manifest_stale{tenant="demo",${esc}} 0`,
        'recsys_manifest_stale{tenant="demo",surface="search"} 1',
        '# HELP recsys_manifest_max_age_seconds The freshness SLO (max data age) the status check used.',
        '# TYPE recsys_manifest_max_age_seconds gauge',
        `recsys_manifest_max_age_seconds{tenant="demo",${esc}} 93600`,
        'recsys_manifest_max_age_seconds{tenant="demo",surface="search"} 93600',
        '# HELP recsys_artifact_items Rows in the served artifact payload (items, neighbor rows or users).',
        '# TYPE recsys_artifact_items gauge',
        `recsys_artifact_items{tenant="demo",${esc},type="popularity",segment="default"} 4`,
        '# HELP recsys_last_publish_timestamp_seconds Unix time at which the served version of an artifact was published.',
        '# TYPE recsys_last_publish_timestamp_seconds gauge',
        `recsys_last_publish_timestamp_seconds{tenant="demo",${esc},type="popularity",segment="default"} ${Date.parse('2026-01-09T23:00:00.500Z') / 1000}`,
        '# HELP recsys_data_age_seconds Data age of a tenant/surface: seconds from the end of its oldest served window to the status check.',
        '# TYPE recsys_data_age_seconds gauge',
        `recsys_data_age_seconds{tenant="demo",${esc}} 0`,
        '# HELP recsys_artifact_window_end_timestamp_seconds Unix time of the end of the served artifact window; time() minus this is the data age.',
        '# TYPE recsys_artifact_window_end_timestamp_seconds gauge',
        `recsys_artifact_window_end_timestamp_seconds{tenant="demo",${esc},type="popularity",segment="default"} ${Date.parse('2026-01-10T00:00:00Z') / 1000}`,
        '# HELP recsys_artifact_stale 1 when the data age of the served artifact exceeds the max age of the status check, else 0.',
        '# TYPE recsys_artifact_stale gauge',
        `recsys_artifact_stale{tenant="demo",${esc},type="popularity",segment="default"} 0`,
        `recsys_artifact_stale{tenant="demo",${esc},type="cooc",segment="default"} 1`,
        '# HELP recsys_artifact_size_bytes Bytes of the served artifact blob.',
        '# TYPE recsys_artifact_size_bytes gauge',
        `recsys_artifact_size_bytes{tenant="demo",${esc},type="popularity",segment="default"} 120`,
        '# HELP recsys_artifact_problem 1 when the served blob is missing, unreadable or not what its version record says (run verify), else 0.',
        '# TYPE recsys_artifact_problem gauge',
        `recsys_artifact_problem{tenant="demo",${esc},type="popularity",segment="default"} 0`,
        `recsys_artifact_problem{tenant="demo",${esc},type="cooc",segment="default"} 1`,
        '# HELP recsys_status_checked_timestamp_seconds Unix time of the status check that wrote these metrics.',
        '# TYPE recsys_status_checked_timestamp_seconds gauge',
        `recsys_status_checked_timestamp_seconds ${Date.parse('2026-01-10T00:00:00.000Z') / 1000}`,
        '',
      ].join('\n'),
    );
  });
});
