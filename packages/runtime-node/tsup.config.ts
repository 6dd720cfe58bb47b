import { defineConfig } from 'tsup';

export default defineConfig({
  // The worker is its own entry: the pool starts it from `./parse-worker.js` next to the bundle.
  entry: { index: 'src/index.ts', 'parse-worker': 'src/parse-worker.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
});
