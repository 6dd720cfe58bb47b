import { defineConfig } from 'tsup';

/**
 * The build of one package. Everything but the entries, the platform and the
 * declarations is the same for all of them, so it lives here once: ESM only
 * (the packages are `"type": "module"`), sourcemaps, a clean `dist/`, and the
 * oldest runtime we support as the target (Node 20 for node packages, ES2022
 * for the platform-neutral ones that browsers and other runtimes import).
 *
 * @param {import('./index.js').PackageBuild} options
 */
export function packageBuild({ entry, platform = 'node', dts = true }) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts,
    sourcemap: true,
    clean: true,
    target: platform === 'node' ? 'node20' : 'es2022',
    platform,
  });
}
