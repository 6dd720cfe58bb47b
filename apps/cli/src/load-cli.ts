import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** The CLI bundle, compiled and run: its `main`, and the script to make a code cache of. */
export interface LoadedCli {
  main(argv: readonly string[]): Promise<void>;
  readonly script: Script;
  /** Whether a code cache was there and V8 took it (false: compiled from source). */
  readonly cached: boolean;
}

/**
 * Compiles and runs the CLI bundle `dir/cli.cjs` as CommonJS, with the V8 code cache
 * `dir/cli.cjs.cache` the build wrote for it (scripts/code-cache.mjs). Node 20 caches no ES
 * module's compile, and compiling the bundle (~1.4 MB) and the functions a `run` calls was most
 * of every process's start (docs/explanation/performance.md, "Round 15: the process start").
 * V8 takes the cache only if the same V8 with the same flags made it for this very source;
 * otherwise (another Node, a missing or damaged file) it compiles from source, as an import would.
 */
export function loadCli(dir: string): LoadedCli {
  const file = join(dir, 'cli.cjs');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // No cache: compiled from source.
  }
  // The bundle's `import.meta.url` is the wrapper's last parameter (tsup.config.ts); the rest is CommonJS's.
  const wrapped = `(function (exports, require, module, __filename, __dirname, __recsysImportMetaUrl) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, cachedData });
  const cli = { exports: {} as { main(argv: readonly string[]): Promise<void> } };
  (script.runInThisContext() as (...args: unknown[]) => void)(cli.exports, createRequire(file), cli, file, dir, pathToFileURL(file).href);
  // V8 sets `cachedDataRejected` only when it was given a cache: false means it took it.
  return { main: cli.exports.main, script, cached: script.cachedDataRejected === false };
}
