import { defineConfig } from 'tsup';

export default defineConfig({
  // `.` is the pipeline API; `./internal` adds what runtime adapters need; `./testing` is test support.
  entry: { index: 'src/index.ts', internal: 'src/internal.ts', testing: 'src/testing.ts' },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
});
