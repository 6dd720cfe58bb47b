import { expect, test } from 'vitest';
import { EventTable, inProcessParsePool, ingestDay, type ParsePool } from '../internal.js';
import { testEnv } from '../testing/fixtures.js';
import { ingestDayStep, ingestDayStepCommitting } from './day-steps.js';

const scope = { tenant: 'demo', surface: 'home' };
const DAY = '2026-01-01';
const line = (session: string, item: string) => JSON.stringify({ v: 1, ts: `${DAY}T10:00:00Z`, tenant: 'demo', surface: 'home', session_id: session, item_id: item });

/** A pool that parses on this thread and records what the pipeline asked of it. */
function recordingPool(withIdle: boolean): ParsePool & { calls: string[] } {
  const inner = inProcessParsePool();
  const calls: string[] = [];
  return {
    calls,
    parse: (chunk, ctx) => {
      calls.push(`parse ${ctx.stream}`);
      return inner.parse(chunk, ctx);
    },
    ...(withIdle ? { idle: () => Promise.resolve(void calls.push('idle')) } : {}),
  };
}

test("the parse pool is told it is idle once the day's raw input is parsed, before anything else runs", async () => {
  const env = testEnv();
  await env.areas.raw.put(`demo/home/exposure.${DAY}.jsonl`, [line('s1', 'A'), line('s1', 'B'), 'not json', line('s2', 'A')].join('\n') + '\n');
  const pool = recordingPool(true);
  const table = new EventTable();
  const { report } = await ingestDayStep({ ...env, parsePool: pool }, { scope }, DAY, table);
  expect(report.counts).toMatchObject({ read: 4, accepted: 3, rejected: 1 });
  expect(pool.calls.at(-1)).toBe('idle');
  expect(pool.calls.filter((c) => c === 'idle')).toHaveLength(1);
  expect(pool.calls.filter((c) => c.startsWith('parse')).length).toBeGreaterThan(0);
  expect(table.length).toBe(3);
});

test("run's ingest returns its table while the parse threads end; the stored day waits for them", async () => {
  const env = testEnv();
  await env.areas.raw.put(`demo/home/exposure.${DAY}.jsonl`, [line('s1', 'A'), line('s1', 'B')].join('\n') + '\n');
  let ended: () => void = () => {};
  let idled = false;
  const inner = inProcessParsePool();
  const pool: ParsePool = {
    parse: (chunk, ctx) => inner.parse(chunk, ctx),
    idle: () => new Promise<void>((resolve) => (ended = resolve)).then(() => void (idled = true)),
  };
  const table = new EventTable();
  const ingesting = await ingestDayStepCommitting({ ...env, parsePool: pool }, scope, DAY, table);
  // Compute may start: the counts and the table are final though the threads have not ended.
  expect(ingesting.counts).toMatchObject({ read: 2, accepted: 2 });
  expect(table.length).toBe(2);
  let stored = false;
  void ingesting.ingested.then(() => (stored = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(stored).toBe(false);
  ended();
  const { report, reportKey } = await ingesting.ingested;
  expect(idled).toBe(true);
  expect(report.counts).toMatchObject({ read: 2, accepted: 2 });
  expect(await env.areas.artifacts.get(reportKey)).toBeDefined();
});

test('a pool without idle() works unchanged', async () => {
  const env = testEnv();
  await env.areas.raw.put(`demo/home/exposure.${DAY}.jsonl`, `${line('s1', 'A')}\n`);
  const pool = recordingPool(false);
  const { report } = await ingestDayStep({ ...env, parsePool: pool }, { scope }, DAY, new EventTable());
  expect(report.counts).toMatchObject({ read: 1, accepted: 1 });
  expect(pool.calls).not.toContain('idle');
});

test('ingest warms the parse pool before its first chunk when the raw input is bigger than one chunk, and only then', async () => {
  const env = testEnv();
  const lines = Array.from({ length: 40 }, (_, k) => line(`s${k}`, `I${k % 5}`));
  await env.areas.raw.put(`demo/home/exposure.${DAY}.jsonl`, lines.join('\n') + '\n');
  const calls: string[] = [];
  const inner = inProcessParsePool();
  const pool: ParsePool = {
    parse: (chunk, ctx) => {
      calls.push('parse');
      return inner.parse(chunk, ctx);
    },
    warm: () => void calls.push('warm'),
  };
  const bytes = lines.join('\n').length + 1;
  const big = await ingestDay({ ...env, parsePool: pool }, scope, DAY, new EventTable(), { pool, chunkBytes: 1024 });
  expect(big.counts).toMatchObject({ read: 40, accepted: 40 });
  expect(bytes).toBeGreaterThan(1024);
  expect(calls[0]).toBe('warm');
  expect(calls.filter((c) => c === 'warm')).toHaveLength(1);
  expect(calls).toContain('parse');
  // The whole day fits in one chunk: no threads for it.
  calls.length = 0;
  const small = await ingestDay({ ...env, parsePool: pool }, scope, DAY, new EventTable(), { pool, chunkBytes: bytes });
  expect(small.counts).toMatchObject({ read: 40, accepted: 40 });
  expect(calls).toEqual(['parse']);
});
