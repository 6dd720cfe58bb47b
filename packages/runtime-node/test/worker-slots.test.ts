import { expect, test } from 'vitest';
import { WorkerSlots } from '../src/worker-slots.js';

const script = new URL('./fixtures/echo-worker.mjs', import.meta.url);
type Reply = { n: number; thread: number; tag: string };

test('round-robin spreads requests over the workers in order, with per-worker start data', async () => {
  const slots = new WorkerSlots<Reply>(script, 2, 'echo', 'round-robin', (i) => ({ tag: `w${i}` }));
  try {
    const replies = await Promise.all([1, 2, 3, 4].map((n) => slots.request({ n })));
    expect(replies.map((r) => r.n)).toEqual([2, 4, 6, 8]);
    expect(replies.map((r) => r.tag)).toEqual(['w0', 'w1', 'w0', 'w1']);
    expect(replies[0]!.thread).toBe(replies[2]!.thread);
    expect(replies[0]!.thread).not.toBe(replies[1]!.thread);
  } finally {
    await slots.close();
  }
});

test('least-busy sends the next request to the worker with fewest in flight', async () => {
  const slots = new WorkerSlots<Reply>(script, 2, 'echo', 'least-busy');
  try {
    // a → worker 0, b → worker 1 (0 is busy), c → worker 0 (a tie goes to the first).
    const [a, b, c] = await Promise.all([slots.request({ n: 1 }), slots.request({ n: 2 }), slots.request({ n: 3 })]);
    expect(a!.thread).not.toBe(b!.thread);
    expect(c!.thread).toBe(a!.thread);
    // Nothing in flight now: the first worker again (round-robin would take the second).
    expect((await slots.request({ n: 4 })).thread).toBe(a!.thread);
  } finally {
    await slots.close();
  }
});

test('an error reply rejects that request only, as a runtime error naming the pool', async () => {
  const slots = new WorkerSlots<Reply>(script, 1, 'echo', 'round-robin');
  try {
    const failed = slots.request({ throw: true });
    const ok = slots.request({ n: 5 });
    await expect(failed).rejects.toMatchObject({ kind: 'runtime', message: 'echo worker failed: asked to throw' });
    expect((await ok).n).toBe(10);
  } finally {
    await slots.close();
  }
});

test('a worker that exits fails every request it owed, and close() then a request starts fresh workers', async () => {
  const slots = new WorkerSlots<Reply>(script, 1, 'echo', 'round-robin');
  try {
    const owed = [slots.request({ n: 1 }), slots.request({ exit: 3 }), slots.request({ n: 2 })];
    const settled = await Promise.allSettled(owed);
    expect(settled[0]).toMatchObject({ status: 'fulfilled', value: { n: 2 } });
    for (const s of settled.slice(1)) expect(s).toMatchObject({ status: 'rejected', reason: { kind: 'runtime', message: expect.stringContaining('echo worker died: exit code 3') } });
    await slots.close();
    expect((await slots.request({ n: 4 })).n).toBe(8);
  } finally {
    await slots.close();
  }
});

const readyScript = new URL('./fixtures/ready-worker.mjs', import.meta.url);

test('warm() starts the workers without a request and resolves when each said ready', async () => {
  const slots = new WorkerSlots<Reply>(readyScript, 2, 'echo', 'least-busy-ready', (i) => ({ tag: `w${i}` }));
  try {
    expect(slots.ready).toBe(0);
    await slots.warm();
    expect(slots.ready).toBe(2);
    expect((await slots.request({ n: 3 })).n).toBe(6);
  } finally {
    await slots.close();
  }
  expect(slots.ready).toBe(0);
});

test('least-busy-ready sends requests only to workers that said ready, the least busy first', async () => {
  // Worker 1 never says ready: with worker 0 ready, every request goes to worker 0.
  const slots = new WorkerSlots<Reply>(readyScript, 2, 'echo', 'least-busy-ready', (i) => ({ tag: `w${i}`, ready: i === 0 }));
  try {
    const warmed = slots.warm();
    while (slots.ready === 0) await new Promise((r) => setTimeout(r, 5));
    const replies = await Promise.all([1, 2, 3].map((n) => slots.request({ n })));
    expect(replies.map((r) => r.tag)).toEqual(['w0', 'w0', 'w0']);
    expect(slots.ready).toBe(1);
    // warm() waits for both workers; closing settles it.
    await slots.close();
    await warmed;
  } finally {
    await slots.close();
  }
});

test('a worker that dies before it is ready settles warm() and is not counted ready', async () => {
  const slots = new WorkerSlots<Reply>(script, 1, 'echo', 'least-busy-ready');
  try {
    const warmed = slots.warm();
    // The echo fixture never says ready; make it exit.
    await expect(slots.request({ exit: 2 })).rejects.toMatchObject({ kind: 'runtime' });
    await warmed;
    expect(slots.ready).toBe(0);
  } finally {
    await slots.close();
  }
});
