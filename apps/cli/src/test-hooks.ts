import { writeSync } from 'node:fs';
import type { PublishStepHook } from '@recsys/core';
import type { FsObjectStorageOptions } from '@recsys/storage-fs';

/** The stderr line `RECSYS_TEST_TRACE=1` prints at each publish step. */
export const TRACE_PREFIX = 'recsys-test-step ';

/**
 * Test-only crash points, unset in production:
 * - `RECSYS_TEST_KILL_AT=<step>[:<type>]` SIGKILLs the process at that
 *   publish step (begin, blob, readback, record, pointer, claimed,
 *   committed, end), so crash safety can be tested without timing games;
 * - `RECSYS_TEST_TRACE=1` prints `recsys-test-step <step>[:<type>]` to
 *   stderr at each step, synchronously, so a test that kills the process
 *   at a random moment can tell where the kill landed.
 */
export function killHook(): PublishStepHook | undefined {
  const spec = process.env.RECSYS_TEST_KILL_AT;
  const trace = process.env.RECSYS_TEST_TRACE === '1';
  if (!spec && !trace) return undefined;
  const [step, type] = spec ? spec.split(':') : [];
  return (at, atType) => {
    // Synchronous: the line must be out before the next storage operation, or a kill could overtake it.
    if (trace) writeSync(2, `${TRACE_PREFIX}${at}${atType ? `:${atType}` : ''}\n`);
    if (spec && at === step && (type === undefined || type === atType)) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Test-only crash point of the signals write: `RECSYS_TEST_KILL_AT=signals`
 * SIGKILLs the process inside the day's transaction, after every row is
 * loaded and before COMMIT. Unset in production.
 */
export function signalsKillHook(): (() => void) | undefined {
  if (process.env.RECSYS_TEST_KILL_AT !== 'signals') return undefined;
  return () => {
    process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * Test-only memory budget: `RECSYS_TEST_MEMORY_BUDGET=<bytes>` replaces
 * `memory_budget` without its 64 MiB floor, so a test day of a few events
 * takes the spilled path. Unset in production.
 */
export function testMemoryBudget(): number | undefined {
  const spec = process.env.RECSYS_TEST_MEMORY_BUDGET;
  return spec ? Number(spec) : undefined;
}

/**
 * Test-only storage fault: `RECSYS_TEST_FLIP_CANONICAL_BYTE=1` makes the
 * canonical area's filesystem writes flip one bit of the first byte of each
 * write(2) while reporting it written whole (a device that corrupts in
 * place), so a test can see `run` refuse a partition that reads back other
 * bytes than were written. Unset in production.
 */
export function canonicalWriteFault(): FsObjectStorageOptions['hooks'] {
  if (process.env.RECSYS_TEST_FLIP_CANONICAL_BYTE !== '1') return undefined;
  return {
    write: (handle, data, offset, length) => {
      const copy = Buffer.from(data.subarray(offset, offset + length));
      copy[0] = copy[0]! ^ 1;
      return handle.write(copy, 0, length);
    },
  };
}
