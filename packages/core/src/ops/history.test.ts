import { describe, expect, test } from 'vitest';
import { Registry } from '../registry/registry.js';
import { diffCurrent, readHistory } from './history.js';
import { rollback } from './rollback.js';
import { cooc, popularity, publish, scope, testEnv } from '../testing/fixtures.js';

const v = (c: string) => c.repeat(64);
const u = (type: string, version: string) => `s3://objects/demo/home/${type}/${version}.json`;

describe('diffCurrent', () => {
  test('added, changed and removed keys with old → new versions, sorted; unchanged keys omitted', () => {
    const previous = { popularity: u('popularity', v('a')), cooc: u('cooc', v('b')), implicit: u('implicit', v('c')) };
    const next = { popularity: u('popularity', v('d')), cooc: u('cooc', v('b')), 'popularity@vip': u('popularity', v('e')) };
    expect(diffCurrent(previous, next)).toEqual([
      { key: 'implicit', change: 'removed', from: { uri: previous.implicit, version: v('c') } },
      { key: 'popularity', change: 'changed', from: { uri: previous.popularity, version: v('a') }, to: { uri: next.popularity, version: v('d') } },
      { key: 'popularity@vip', change: 'added', to: { uri: next['popularity@vip'], version: v('e') } },
    ]);
  });
});

describe('readHistory', () => {
  test('newest first with reason, actor, message and per-key changes; limit', async () => {
    const env = testEnv();
    const p1 = popularity(env, { A: 1 });
    const c1 = cooc(env, ['A', 'B']);
    await publish(env, [p1, c1]);
    const p2 = popularity(env, { B: 3 });
    await publish(env, [p2]);
    await publish(env, [p2]); // same version again: moves nothing, so no entry
    await rollback(env, { ...scope, type: 'popularity', steps: 1, reason: 'oops' });
    const items = await readHistory(new Registry(env.areas.registry), scope);
    expect(items.map((i) => [i.seq, i.reason, i.message])).toEqual([
      [3, 'rollback', 'oops'],
      [2, 'publish', undefined],
      [1, 'publish', undefined],
    ]);
    expect(items[0]!.changes).toEqual([{ key: 'popularity', change: 'changed', from: { uri: expect.any(String), version: p2.version }, to: { uri: expect.any(String), version: p1.version } }]);
    expect(items[1]!.changes).toEqual([{ key: 'popularity', change: 'changed', from: { uri: expect.any(String), version: p1.version }, to: { uri: expect.any(String), version: p2.version } }]);
    expect(items[2]!.changes.map((c) => [c.key, c.change, c.to?.version])).toEqual([
      ['cooc', 'added', c1.version],
      ['popularity', 'added', p1.version],
    ]);
    expect(items[0]!.actor).toMatchObject({ host: 'test-host', user: 'tester', pid: 42 });
    expect((await readHistory(new Registry(env.areas.registry), scope, 2)).map((i) => i.seq)).toEqual([3, 2]);
  });
});
