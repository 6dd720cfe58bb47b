#!/usr/bin/env node
// Runs a module in this process and, at exit, appends its peak RSS (the
// process's maxRSS, which includes worker threads) and wall time to the file
// named by BENCH_MEASURE_FILE. Keeps the benchmark free of /usr/bin/time.
//   node measure.mjs <script.mjs> [args...]
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [script, ...args] = process.argv.slice(2);
const started = performance.now();
process.on('exit', (code) => {
  const file = process.env.BENCH_MEASURE_FILE;
  const usage = process.resourceUsage();
  // CPU time of every thread (user + system): far less sensitive than wall time to other load on a shared machine.
  const line = JSON.stringify({ wall_ms: performance.now() - started, cpu_ms: (usage.userCPUTime + usage.systemCPUTime) / 1000, max_rss_kb: usage.maxRSS, exit_code: code });
  if (file) appendFileSync(file, line + '\n');
});
process.argv = [process.argv[0], resolve(script), ...args];
await import(pathToFileURL(resolve(script)).href);
