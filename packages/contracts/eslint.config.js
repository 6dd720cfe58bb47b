import { config } from '@recsys/eslint-config';

export default [
  ...config({ pure: true }),
  {
    // Build-time Node scripts (not shipped).
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
];
