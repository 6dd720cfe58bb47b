// Where a run's memory is, per thread. Preload it into the CLI (worker threads
// inherit the flag):
//
//   MEMORY_SAMPLER_OUT=/tmp/mem node --import ./tooling/bench/src/memory-sampler.mjs apps/cli/dist/bin.js run …
//
// Every thread samples its own isolate (`process.memoryUsage()`, heap spaces)
// every 20 ms and keeps the sample taken when the process's RSS was highest.
// Worker threads are terminated rather than exited, so they rewrite their
// line every 200 ms (`$MEMORY_SAMPLER_OUT.<threadId>`); the main thread writes
// `$MEMORY_SAMPLER_OUT.0` at exit. One JSON object per file, sizes in MB.
import { writeFileSync } from 'node:fs';
import process from 'node:process';
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const out = process.env.MEMORY_SAMPLER_OUT ?? '/tmp/memory-sampler';
const mb = (bytes) => Math.round(bytes / 1e6);
let peak = { rss: 0 };
let maxHeapTotal = 0;
let ticks = 0;

function sample() {
  const m = process.memoryUsage();
  maxHeapTotal = Math.max(maxHeapTotal, m.heapTotal);
  if (m.rss <= peak.rss) return;
  const spaces = Object.fromEntries(getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => [s.space_name, mb(s.space_size)]));
  peak = { ...m, spaces };
}

function write() {
  const line = { thread: isMainThread ? 'main' : `worker ${threadId}`, at_peak_rss: mb(peak.rss), heap_total: mb(peak.heapTotal), heap_used: mb(peak.heapUsed), external: mb(peak.external), array_buffers: mb(peak.arrayBuffers), max_heap_total: mb(maxHeapTotal), spaces: peak.spaces };
  writeFileSync(`${out}.${threadId}`, `${JSON.stringify(line)}\n`);
}

setInterval(() => {
  sample();
  if (!isMainThread && ++ticks % 10 === 0) write();
}, 20).unref();
process.on('exit', () => {
  sample();
  write();
});
