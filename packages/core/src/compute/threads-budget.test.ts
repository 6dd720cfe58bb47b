// Compute threads are used only when they fit the memory budget next to
// what the process already holds; otherwise compute stays on one thread.
import { describe, expect, test } from 'vitest';
import { computePoolWithin } from './threads-budget.js';
import { silentLogger } from '../internal.js';
import { MemoryStorage } from '../testing.js';

const pool = { countRows: async () => [] } as never;
const MiB = 2 ** 20;
const env = (memoryBudget: number, inUse?: number) => ({
  computePool: pool,
  logger: silentLogger,
  spill: { memoryBudget, scratch: new MemoryStorage('s'), ...(inUse === undefined ? {} : { memoryInUse: () => inUse }) },
});

describe('computePoolWithin', () => {
  test('keeps the pool while in-use + 16 bytes per event + 256 MiB fits the budget, drops it past that', () => {
    expect(computePoolWithin(env(2048 * MiB, 1000 * MiB), 5_000_000)).toBe(pool);
    // 50M events after ingest (~1.35 GB resident): 1288 + 763 + 256 MiB > 2 GiB.
    expect(computePoolWithin(env(2048 * MiB, 1288 * MiB), 50_000_000)).toBeUndefined();
    expect(computePoolWithin(env(1024 * MiB + 256 * MiB + 16, 1024 * MiB), 1)).toBe(pool);
    expect(computePoolWithin(env(1024 * MiB + 256 * MiB + 15, 1024 * MiB), 1)).toBeUndefined();
  });

  test('without a way to measure memory, or without a pool, nothing changes', () => {
    expect(computePoolWithin(env(1), 50_000_000)).toBe(pool);
    expect(computePoolWithin({ logger: silentLogger, spill: env(1, 10).spill }, 1)).toBeUndefined();
    expect(computePoolWithin({ computePool: pool, logger: silentLogger }, 1)).toBe(pool);
  });
});
