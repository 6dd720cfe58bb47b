// Shared vitest defaults. Packages call `defineProject(base({...}))` so every
// package runs tests the same way (node environment, no globals, forks pool
// because several suites spawn child processes and touch process-wide state).
/** @param {import('vitest/config').UserWorkspaceConfig['test']} [overrides] */
export function base(overrides = {}) {
  return {
    test: {
      environment: 'node',
      pool: 'forks',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      // A hang detector, not a speed check: CI runs every package's suite at once on 2 cores.
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...overrides,
    },
  };
}
