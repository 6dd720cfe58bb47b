import type { PublishStepHook } from '@recsys/core';

/**
 * Test-only crash point: `RECSYS_TEST_KILL_AT=<step>[:<type>]` SIGKILLs the
 * process at that publish step (blob, readback, record, pointer), so crash
 * safety can be tested without timing games. Unset in production.
 */
export function killHook(): PublishStepHook | undefined {
  const spec = process.env.RECSYS_TEST_KILL_AT;
  if (!spec) return undefined;
  const [step, type] = spec.split(':');
  return (at, atType) => {
    if (at === step && (type === undefined || type === atType)) process.kill(process.pid, 'SIGKILL');
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
