import { describe, expect, test } from 'vitest';
import { decidePointerMoves, lastDayOf } from './pointer-guard.js';

const w = (day: string, next: string) => ({ start: `${day}T00:00:00Z`, end: `${next}T00:00:00Z` });
const D1 = w('2026-03-01', '2026-03-02');
const D2 = w('2026-03-02', '2026-03-03');

describe('decidePointerMoves', () => {
  test.each([
    ['first publish', undefined, D1, false, 'moved', { k: 'new' }],
    ['newer window', { uri: 'old', window: D1 }, D2, false, 'moved', { k: 'new' }],
    ['same window, new version (recomputed day)', { uri: 'old', window: D2 }, D2, false, 'moved', { k: 'new' }],
    ['same blob', { uri: 'new', window: D2 }, D2, false, 'unchanged', {}],
    ['older window is kept', { uri: 'old', window: D2 }, D1, false, 'kept', {}],
    ['older window moved back when asked', { uri: 'old', window: D2 }, D1, true, 'moved_back', { k: 'new' }],
    ['live window unknown (no record): moves', { uri: 'old' }, D1, false, 'moved', { k: 'new' }],
  ] as const)('%s', (_name, live, window, moveBack, action, update) => {
    const plan = decidePointerMoves([{ key: 'k', uri: 'new', window }], { k: live }, { moveBack });
    expect(plan.decisions).toEqual([{ key: 'k', action, live: live && 'window' in live ? live.window : undefined }]);
    expect(plan.update).toEqual(update);
  });

  test('keys are decided independently', () => {
    const plan = decidePointerMoves(
      [
        { key: 'popularity', uri: 'p1', window: D1 },
        { key: 'cooc', uri: 'c1', window: D1 },
      ],
      { popularity: { uri: 'p2', window: D2 } },
    );
    expect(plan.update).toEqual({ cooc: 'c1' });
    expect(plan.decisions.map((d) => d.action)).toEqual(['kept', 'moved']);
  });

  test('lastDayOf: the end is exclusive', () => {
    expect(lastDayOf(D1)).toBe('2026-03-01');
    expect(lastDayOf(w('2026-02-27', '2026-03-02'))).toBe('2026-03-01');
  });
});
