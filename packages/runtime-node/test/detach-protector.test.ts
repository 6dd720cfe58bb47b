// The first ArrayBuffer detached in an isolate (a transfer to or from a worker) throws away every
// optimized function that reads typed arrays, and the code compiled after it keeps detach checks.
// The parse pool posts shared memory and never detaches a buffer in the calling thread (nor in its
// workers); the compute workers, which transfer their results, detach one before their hot code is
// compiled (detach-protector.ts). Each case runs in a fresh process: this test's own thread has long
// since detached buffers.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/detach-deopt.mjs', import.meta.url));

function detachAfterOptimizing(...args: string[]): { before: boolean; after: boolean; detached: boolean } {
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', fixture, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { before: boolean; after: boolean; detached: boolean };
}

test('parsing on the pool\'s threads detaches nothing here: optimized code survives it', () => {
  expect(detachAfterOptimizing('pool')).toEqual({ before: true, after: true, detached: false });
});

test('the first transfer of a buffer throws the optimized code away (what the parse pool avoids)', () => {
  // Documents the V8 behaviour the pool works around; a V8 that keeps the code would make this case
  // fail, and the shared blocks' reason weaker rather than the pool wrong.
  expect(detachAfterOptimizing()).toEqual({ before: true, after: false, detached: true });
});
