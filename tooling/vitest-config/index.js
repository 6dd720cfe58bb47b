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
      testTimeout: 30_000,
      hookTimeout: 120_000,
      ...overrides,
    },
  };
}
