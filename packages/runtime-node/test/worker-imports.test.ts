// The worker threads start often (every run starts the pools), so what they load is part of a run's
// cost: the pipeline API and the contracts' schemas (zod) cost a worker ~55 ms of CPU at start for code
// it never calls. This walks the built workers' import graph, across packages, as Node resolves it.
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm;

/** Every bare specifier the module at `entry` loads, directly or through the files it imports. */
function packagesLoadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else if (!isBuiltin(spec)) {
        specifiers.add(spec);
        // Into the workspace's own packages; zod is where the walk would stop anyway.
        const target = createRequire(file).resolve(spec);
        if (!target.includes('/node_modules/.pnpm/')) visit(target);
      }
    }
  };
  visit(entry);
  return specifiers;
}

test.each(['parse-worker.js', 'compute-worker.js'])('%s loads neither zod nor the schemas of @recsys/contracts', (worker) => {
  const loaded = [...packagesLoadedBy(`${DIST}${worker}`)];
  expect(loaded).toContain('@recsys/core/kernels');
  expect(loaded).toContain('@recsys/contracts/codec');
  expect(loaded.filter((spec) => spec === 'zod' || spec.startsWith('zod/') || spec === '@recsys/contracts' || spec === '@recsys/core' || spec === '@recsys/core/internal')).toEqual([]);
});
