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

const shared = {
  dts: false,
  sourcemap: true,
  // Two builds write to dist/ at once: the package's build script empties it first.
  clean: false,
  target: 'node20',
  platform: 'node',
  noExternal: [BUNDLED],
  esbuildPlugins: [keepOthersExternal, englishOnlyZodLocales],
} as const;

/**
 * The CLI is CommonJS (`cli.cjs`) so that `bin.js` can compile it with a V8 code cache (Node 20
 * caches no ES module's compile; see src/load-cli.ts). One file: esbuild splits only ES modules, so
 * the storage adapters for PostgreSQL and S3 are in it too, still run only when a config uses them
 * (what they import from node_modules is `require`d then). The bundle's `import.meta.url` is a
 * parameter `bin.js` passes, which keeps esbuild's "use strict" the first statement: the bundle runs
 * in strict mode, as the ES modules did.
 */
const cli = defineConfig({
  ...shared,
  entry: { cli: 'src/main.ts' },
  format: ['cjs'],
  define: { 'import.meta.url': '__recsysImportMetaUrl' },
});

/**
 * The entry (`bin.js`, node built-ins only) and the pools' workers, as ES modules: runtime-node's
 * pools start their workers from `./parse-worker.js` / `./compute-worker.js` next to the pool's
 * code, which is now `cli.cjs`; they share a chunk of core's kernels and load no zod.
 */
const esm = defineConfig({
  ...shared,
  entry: {
    bin: 'src/bin.ts',
    'parse-worker': '../../packages/runtime-node/src/parse-worker.ts',
    'compute-worker': '../../packages/runtime-node/src/compute-worker.ts',
  },
  format: ['esm'],
  // commander and pino are CommonJS: their `require`s of node built-ins need a real `require` in an ES module.
  banner: { js: "import { createRequire as __recsysCreateRequire } from 'node:module';\nconst require = __recsysCreateRequire(import.meta.url);" },
});

export default [cli, esm];
