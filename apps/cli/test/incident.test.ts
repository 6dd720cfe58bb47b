// The scripted incident of issue #4, through the built binary: publish good,
// publish bad, `status`, `rollback --steps 1`, `verify`, `history` — ending
// with the good versions current and a three-entry history.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GO_VERSIONS, checkRegistry, cli, copyTiny, event, readHistory, readManifest, tempDir, writeConfig } from './helpers.js';

const SCOPE = ['--tenant', 'demo', '--surface', 'home'];
const DAY = [...SCOPE, '--start', '2026-01-01', '--end', '2026-01-01'];
const versionOf = (uri: string | undefined) => uri?.slice(uri.lastIndexOf('/') + 1, -'.json'.length);

describe('incident: a bad publish rolled back with one command', () => {
  test.each([
    ['--all', ['--all']],
    ['--type, one at a time', ['--type', 'popularity']],
  ])('publish good → publish bad → status → rollback --steps 1 (%s) → verify → history', async (_label, how) => {
    const dir = tempDir();
    copyTiny(dir);
    const config = writeConfig(dir);
    const registry = join(dir, 'out/registry');
    const opts = { cwd: dir };

    // 1. Good day.
    const good = await cli(['run', '--config', config, ...DAY], opts);
    expect(good.code, good.stderr).toBe(0);

    // 2. Bad publish: the raw file was modified upstream (an extra session), so other versions.
    appendFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), [event('s9', 'Z'), event('s9', 'A')].map((e) => JSON.stringify(e) + '\n').join(''));
    const bad = await cli(['run', '--config', config, ...DAY], opts);
    expect(bad.code, bad.stderr).toBe(0);
    const badCurrent = readManifest(registry, 'demo', 'home')!.current;
    const badVersions = { popularity: versionOf(badCurrent.popularity)!, cooc: versionOf(badCurrent.cooc)! };
    expect(badVersions.popularity).not.toBe(GO_VERSIONS.popularity);
    expect(badVersions.cooc).not.toBe(GO_VERSIONS.cooc);

    // 3. status: fresh (the bad data is new: asked the morning after the day), shows what is served and the last change.
    const status = await cli(['status', '--config', config, ...SCOPE, '--json'], { ...opts, env: { RECSYS_TEST_NOW: '2026-01-02T06:00:00Z' } });
    expect(status.code, status.stderr).toBe(0);
    const s = JSON.parse(status.stdout) as { stale: boolean; scopes: { fresh: boolean; artifacts: { key: string; version: string; items: number }[]; last_history: { seq: number } }[] };
    expect(s.stale).toBe(false);
    expect(s.scopes[0]!.artifacts.map((a) => [a.key, a.version, a.items])).toEqual([
      ['cooc', badVersions.cooc, 4],
      ['popularity', badVersions.popularity, 5],
    ]);
    expect(s.scopes[0]!.last_history.seq).toBe(2);

    // 4. Roll back one step.
    const rb = await cli(['rollback', '--config', config, ...SCOPE, ...how, '--steps', '1', '--reason', 'bad upstream file'], opts);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout).toMatch(/history entry 3 \(reason rollback: "bad upstream file"\)/);
    if (how[0] === '--type') {
      const second = await cli(['rollback', '--config', config, ...SCOPE, '--type', 'cooc', '--steps', '1', '--reason', 'bad upstream file'], opts);
      expect(second.code, second.stderr).toBe(0);
    }

    // 5. verify is clean.
    const verify = await cli(['verify', '--config', config], opts);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/verify: OK/);

    // 6. history shows the rollback on top, with who and what moved.
    const history = await cli(['history', '--config', config, ...SCOPE, '--json'], opts);
    expect(history.code, history.stderr).toBe(0);
    const h = JSON.parse(history.stdout) as { entries: { seq: number; reason: string; message?: string; actor: { host: string; user: string }; changes: { key: string; change: string; from?: { version: string }; to?: { version: string } }[] }[] };
    const expectedEntries = how[0] === '--all' ? 3 : 4;
    expect(h.entries.map((e) => e.reason)).toEqual(how[0] === '--all' ? ['rollback', 'publish', 'publish'] : ['rollback', 'rollback', 'publish', 'publish']);
    expect(h.entries[0]!.message).toBe('bad upstream file');
    expect(h.entries[0]!.actor.host.length).toBeGreaterThan(0);
    const undone = h.entries.slice(0, expectedEntries - 2).flatMap((e) => e.changes);
    expect(undone.map((c) => [c.key, c.change, c.from?.version, c.to?.version]).sort()).toEqual([
      ['cooc', 'changed', badVersions.cooc, GO_VERSIONS.cooc],
      ['popularity', 'changed', badVersions.popularity, GO_VERSIONS.popularity],
    ]);

    // The good versions are served again; the log is complete and chained.
    const current = readManifest(registry, 'demo', 'home')!.current;
    expect({ popularity: versionOf(current.popularity), cooc: versionOf(current.cooc) }).toEqual(GO_VERSIONS);
    const { history: entries } = await checkRegistry(registry, 'demo', 'home');
    expect(entries).toHaveLength(expectedEntries);
    expect(readHistory(registry, 'demo', 'home').at(-1)!.next).toEqual(current);
    // The human history names the rollback too.
    const human = await cli(['history', '--config', config, ...SCOPE, '--limit', '1'], opts);
    expect(human.stdout).toMatch(new RegExp(`#${expectedEntries} .* rollback .*"bad upstream file"`));
  });
});
