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
