import { describe, expect, test } from 'vitest';
import type { CheckpointV1 } from '@recsys/contracts';
import { keys } from '../keys.js';
import { MemoryStorage } from '../testing/memory-storage.js';
import { CheckpointStore } from './registry.js';

const scope = { tenant: 'demo', surface: 'home' };
const at = (day: string, run: string): CheckpointV1 => ({ v: 1, ...scope, last_completed_day: day, updated_at: `${day}T23:00:00.000Z`, run_id: run });

describe('the checkpoint only moves forward (issue 11 item 8)', () => {
  test('a run finishing an earlier day after a later one keeps the later day', async () => {
    const store = new CheckpointStore(new MemoryStorage('checkpoints'));
    await store.advance(at('2026-01-05', 'fast'));
    expect((await store.advance(at('2026-01-03', 'slow'))).last_completed_day).toBe('2026-01-05');
    expect((await store.read(scope))!.last_completed_day).toBe('2026-01-05');
    await store.advance(at('2026-01-06', 'next'));
    expect((await store.read(scope))!).toEqual(at('2026-01-06', 'next'));
  });

  test('two runs interleaved between read and write: the later day wins whoever writes last', async () => {
    const storage = new MemoryStorage('checkpoints');
    const store = new CheckpointStore(storage);
    await store.advance(at('2026-01-02', 'first'));
    // The slow run (day 3) has read the checkpoint and parks before its write.
    const slowParked = storage.pauseAt('putIfGeneration', (k) => k === keys.checkpoint(scope));
    const slow = store.advance(at('2026-01-03', 'slow'));
    await slowParked.reached;
    // Meanwhile another run completes day 5.
    await store.advance(at('2026-01-05', 'fast'));
    slowParked.resume();
    await slow;
    expect((await store.read(scope))!.last_completed_day).toBe('2026-01-05');
  });
});
