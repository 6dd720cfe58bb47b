import { defineConfig } from 'tsup';
import type { Plugin } from 'esbuild';

/**
 * The CLI is one bundle: every process of a fan-out pays its start, and loading our
 * packages, zod (95 modules), pino and commander as separate modules cost about as much
 * CPU as node itself (docs/explanation/performance.md, "The CLI's start-up as one
 * bundle"). Bundled: our workspace packages, zod, commander and pino with what they
 * import (pino's worker-thread transports would need files next to it; the CLI logs
 * synchronously to stderr and starts none). Left as imports from node_modules: what our
 * storage packages import (the PostgreSQL driver, the AWS SDK), loaded only when a config
 * uses them, which is why the CLI lists them as its own dependencies.
 *
 * One zod per thread: contracts, core and the CLI all use the single zod copy in this
 * bundle, so `instanceof` checks across packages keep working; the worker threads load
 * no zod. `test/bundle.test.ts` checks both, and that what is left outside resolves.
 * (commander's classes are renamed inside the bundle, `CommanderError2`; nothing prints
 * a commander error's `name`.)
 */
const BUNDLED = /^(@recsys\/[^/]+(\/.*)?|zod(\/.*)?|commander|pino)$/;

const keepOthersExternal: Plugin = {
  name: 'keep-others-external',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.test(args.path) || args.path.startsWith('node:') || /[\\/]node_modules[\\/]/.test(args.importer) ? undefined : { path: args.path, external: true }));
  },
};

/**
 * zod's public namespace re-exports all of its ~50 locales (`z.locales`, 370 KB of source
 * that every start would compile). Nothing here switches locale: zod itself configures
 * English from `locales/en.js`, so the namespace keeps English only.
 */
const englishOnlyZodLocales: Plugin = {
  name: 'english-only-zod-locales',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: "export { default as en } from './en.js';", loader: 'js' }));
  },
};

export default defineConfig({
  entry: {
    bin: 'src/bin.ts',
    // runtime-node's pools start their workers from `./parse-worker.js` / `./compute-worker.js`
    // next to the pool's code, which is now this bundle (sharing its chunk of core's kernels).
    'parse-worker': '../../packages/runtime-node/src/parse-worker.ts',
    'compute-worker': '../../packages/runtime-node/src/compute-worker.ts',
  },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  noExternal: [BUNDLED],
  esbuildPlugins: [keepOthersExternal, englishOnlyZodLocales],
  // commander and pino are CommonJS: their `require`s of node built-ins need a real `require` in an ES module.
  banner: { js: "import { createRequire as __recsysCreateRequire } from 'node:module';\nconst require = __recsysCreateRequire(import.meta.url);" },
});
