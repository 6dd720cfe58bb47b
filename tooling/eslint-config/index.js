import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Shared flat config. `pure: true` marks a package that must stay free of
 * Node built-ins (contracts, core): importing one is a lint error there.
 * @param {{ pure?: boolean }} [options]
 */
export function config(options = {}) {
  return tseslint.config(
    { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'schemas/**', '*.config.*'] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
      files: ['**/*.ts'],
      rules: {
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        'no-console': 'error',
      },
    },
    options.pure
      ? {
          files: ['src/**/*.ts'],
          ignores: ['src/**/*.test.ts'],
          rules: {
            'no-restricted-imports': [
              'error',
              { patterns: [{ group: ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'stream', 'zlib', 'http', 'https', 'net'], message: 'This package is pure: talk to a port instead of a Node built-in.' }] },
            ],
            'no-restricted-globals': ['error', { name: 'process', message: 'This package is pure: no process access.' }, { name: 'Buffer', message: 'Use Uint8Array/TextEncoder: this package runs outside Node.' }],
          },
        }
      : {},
    {
      files: ['**/*.test.ts', 'test/**/*.ts'],
      rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
    },
  );
}
