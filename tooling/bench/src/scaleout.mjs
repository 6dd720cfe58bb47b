#!/usr/bin/env node
// Measures the divided scale-out (docs/how-to/scale-out.md, "Sizing"): one
// synthetic day, run as one process (`run`) and as n ingest tasks + n
// compute tasks + merge + publish, for each n (the job shape of
// docs/how-to/k8s: compute --shard applies the canonical gates itself, no
// separate validate step). Every task is a
// separate process limited to one core (`taskset -c <core>`,
// RECSYS_WORKERS=0) and runs alone, so its CPU time, peak RSS and wall time
// are its own; the critical path is the slowest ingest + the slowest
// compute + merge + publish, as when each task has its own pod.
//
//   node tooling/bench/src/scaleout.mjs [--events 5000000] [--shards 1,2,4] [--core 0] [--json out.json] [--dir DIR] [--cpu-prof PROFDIR] [--bin CLI]
//
// --bin runs another build of the CLI (its bin.js, e.g. a copy of an older
// release's apps/cli/dist with its package.json one folder up) instead of this
// checkout's: alternate two builds run after run to compare them side by side.
//
// --cpu-prof writes a V8 CPU profile of every task into PROFDIR, named after
// the task (`n4-compute-2.cpuprofile`); profiling slows the tasks, so their
// CPU figures are then not comparable with unprofiled runs.
//
// The raw day is generated once per size under DIR (default .bench/scaleout/ of
// this checkout; deterministic): point --dir at another checkout's folder to
// reuse its 728 MB day instead of generating it again.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const self = fileURLToPath(import.meta.url);

// Child mode: run the CLI in this process and report its own resource usage on exit.
if (process.argv[2] === '--child') {
  const [, , , report, bin, ...args] = process.argv;
  const started = performance.now();
  process.on('exit', (code) => {
    const u = process.resourceUsage();
    writeFileSync(report, JSON.stringify({ wall_s: (performance.now() - started) / 1000, cpu_s: (u.userCPUTime + u.systemCPUTime) / 1e6, sys_s: u.systemCPUTime / 1e6, max_rss_mb: u.maxRSS / 1024, exit_code: code }));
  });
  process.argv = [process.argv[0], bin, ...args];
  await import(bin);
} else {
  await main();
}

async function main() {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, events: { type: 'string', default: '5000000' }, shards: { type: 'string', default: '1,2,4' }, core: { type: 'string', default: '0' }, json: { type: 'string' }, 'cpu-prof': { type: 'string' }, bin: { type: 'string' } } });
  const root = join(dirname(self), '../../..');
  const bin = values.bin ? resolve(values.bin) : join(root, 'apps/cli/dist/bin.js');
  const events = Number(values.events);
  const day = '2026-01-01';
  const base = join(root, '.bench/scaleout');
  const raw = join(values.dir ?? base, `raw-${events}`);
  const rawFile = join(raw, `bench/home/exposure.${day}.jsonl`);
  if (!existsSync(rawFile)) {
    console.error(`generating ${events} events → ${raw}`);
    execFileSync(process.execPath, [join(root, 'tooling/data/src/generate.mjs'), '--events', String(events), '--days', '1', '--items', '200000', '--session-length', '8', '--users', '50000', '--seed', '42', '--tenant', 'bench', '--surface', 'home', '--start', day, '--out', raw], { stdio: 'inherit' });
  }
  const rawBytes = readFileSync(rawFile).byteLength;
  const scope = ['--tenant', 'bench', '--surface', 'home', '--start', day, '--end', day];

  const task = (dir, args, label) => {
    const report = join(dir, `.task-${process.hrtime.bigint()}.json`);
    const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof'], '--cpu-prof-name', `${label}.cpuprofile`] : [];
    const r = spawnSync('taskset', ['-c', values.core, process.execPath, ...prof, self, '--child', report, bin, ...args], { cwd: dir, env: { ...process.env, RECSYS_WORKERS: '0' }, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
    const m = JSON.parse(readFileSync(report, 'utf8'));
    rmSync(report);
    return { ...m, stdout: r.stdout };
  };
  const fresh = (name) => {
    const dir = join(base, `work-${name}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ out_dir: './out', raw_events_dir: raw }));
    return dir;
  };
  const c = ['--config', 'config.json', ...scope];
  const results = { events, raw_bytes: rawBytes, bin, runs: [] };

  const dir1 = fresh('run');
  const single = task(dir1, ['run', '--json', ...c, '--artifacts', 'popularity,cooc'], 'run');
  const runVersions = JSON.parse(single.stdout).days[0].artifacts.map((a) => `${a.type}:${a.version}`).sort();
  results.runs.push({ n: 'run', load_avg: loadavg().map((x) => Number(x.toFixed(2))), cpu_s: single.cpu_s, sys_s: single.sys_s, wall_s: single.wall_s, max_rss_mb: single.max_rss_mb, versions: runVersions });
  console.error(`run (load ${loadavg().map((x) => x.toFixed(2)).join(' ')}): ${single.cpu_s.toFixed(1)} CPU s, ${single.wall_s.toFixed(1)} s, ${single.max_rss_mb.toFixed(0)} MB`);

  for (const n of values.shards.split(',').map(Number)) {
    const dir = fresh(`n${n}`);
    const ingest = [];
    for (let i = 0; i < n; i++) {
      const t = task(dir, ['ingest', '--json', ...c, '--shard', `${i}/${n}`], `n${n}-ingest-${i}`);
      const part = JSON.parse(t.stdout).days[0].part;
      ingest.push({ cpu_s: t.cpu_s, sys_s: t.sys_s, wall_s: t.wall_s, max_rss_mb: t.max_rss_mb, bytes_read: part.pieces.reduce((s, p) => s + p.bytes, 0), mode: part.mode });
    }
    const compute = [];
    for (let i = 0; i < n; i++) {
      const k = task(dir, ['compute', 'popularity', 'cooc', ...c, '--shard', `${i}/${n}`], `n${n}-compute-${i}`);
      compute.push({ cpu_s: k.cpu_s, sys_s: k.sys_s, wall_s: k.wall_s, max_rss_mb: k.max_rss_mb });
    }
    const merge = task(dir, ['merge', 'popularity', 'cooc', ...c], `n${n}-merge`);
    const publish = task(dir, ['publish', '--json', ...c], `n${n}-publish`);
    const versions = JSON.parse(publish.stdout).days[0].artifacts.map((a) => `${a.type}:${a.version}`).sort();
    const total = [...ingest, ...compute].reduce((s, t) => s + t.cpu_s, 0) + merge.cpu_s + publish.cpu_s;
    const critical = Math.max(...ingest.map((t) => t.wall_s)) + Math.max(...compute.map((t) => t.wall_s)) + merge.wall_s + publish.wall_s;
    const row = { n, load_avg: loadavg().map((x) => Number(x.toFixed(2))), total_cpu_s: total, cpu_vs_run: total / single.cpu_s, critical_path_s: critical, ingest, compute, merge: { cpu_s: merge.cpu_s, sys_s: merge.sys_s, wall_s: merge.wall_s, max_rss_mb: merge.max_rss_mb }, publish: { cpu_s: publish.cpu_s, wall_s: publish.wall_s }, versions };
    results.runs.push(row);
    console.error(
      `n=${n} (load ${row.load_avg.join(' ')}): total ${total.toFixed(1)} CPU s (${row.cpu_vs_run.toFixed(2)}× run), critical path ${critical.toFixed(1)} s; ingest ${ingest.map((t) => `${t.cpu_s.toFixed(1)}s/${(t.bytes_read / 1e6).toFixed(0)}MB/${t.max_rss_mb.toFixed(0)}MB`).join(' ')}; compute ${compute.map((t) => `${t.cpu_s.toFixed(1)}s/${t.max_rss_mb.toFixed(0)}MB`).join(' ')}; merge ${merge.cpu_s.toFixed(1)}s/${merge.max_rss_mb.toFixed(0)}MB`,
    );
  }
  const sets = new Set(results.runs.filter((r) => r.versions).map((r) => r.versions.join()));
  results.same_versions = sets.size <= 1;
  console.error(`same artifact versions for every n: ${results.same_versions}`);
  const out = JSON.stringify(results, null, 2);
  if (values.json) writeFileSync(values.json, out + '\n');
  else console.log(out);
}
