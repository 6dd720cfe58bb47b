#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadCli } from './load-cli.js';

// The CLI is the CommonJS bundle next to this file, compiled with its code cache (load-cli.ts).
const cli = loadCli(fileURLToPath(new URL('.', import.meta.url)));
await cli.main(process.argv);
// The build's cache run (scripts/code-cache.mjs): what V8 compiled by now, the functions this command called included.
const cacheOut = process.env.RECSYS_CODE_CACHE_OUT;
if (cacheOut) writeFileSync(cacheOut, cli.script.createCachedData());
// Once the command is done and nothing is left to run, exit without Node's teardown of the V8 heap: freeing a `run`'s
// heap page by page took ~15–25 ms of wall after the result was printed (docs/explanation/performance.md, "Round 16:
// ingest-wall"). `process.exit` keeps the exit code and runs the 'exit' listeners. If another 'beforeExit' listener
// started more work, the process ends the usual way once that is done.
process.once('beforeExit', () => {
  if (process.getActiveResourcesInfo().length === 0) process.exit();
});
