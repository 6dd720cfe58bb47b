#!/usr/bin/env node
// pnpm bench — end-to-end benchmark of `recsys-pipelines run` (popularity +
// cooc, canonical write and publish included) against, in the same run and
// on the same files: JSON.parse of every line on one core, and DuckDB SQL
// (when @duckdb/node-api is installed). Prints wall time, events/s, peak RSS
// and ratios. Timings on shared 2-core machines are noisy: compare ratios
// measured side by side, medians of --runs.
//
//   pnpm bench -- --events 1000000,5000000 --items 100000 --zipf 1.0 --runs 3
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const cli = join(root, 'apps/cli/dist/bin.js');
const generator = join(root, 'tooling/data/src/generate.mjs');
const measure = join(here, 'measure.mjs');

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    events: { type: 'string', default: '1000000' },
    days: { type: 'string', default: '1' },
    items: { type: 'string', default: '100000' },
    zipf: { type: 'string', default: '1.0' },
    'session-length': { type: 'string', default: '8' },
    users: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '42' },
    runs: { type: 'string', default: '3' },
    'no-duckdb': { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    dir: { type: 'string', default: join(root, '.bench') },
    'node-options': { type: 'string', default: '' },
  },
});

const runs = Number(flags.runs);
const day = '2026-03-01';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `node measure.mjs script args` and returns the measurement. */
function measured(script, args, extraEnv = {}) {
  const file = join(flags.dir, `measure-${process.pid}.jsonl`);
  rmSync(file, { force: true });
  const nodeArgs = flags['node-options'] ? flags['node-options'].split(' ') : [];
  const r = spawnSync(process.execPath, [...nodeArgs, measure, script, ...args], {
    env: { ...process.env, BENCH_MEASURE_FILE: file, RECSYS_LOG_LEVEL: 'warn', ...extraEnv },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1));
  return { ...m, stdout: r.stdout };
}

function dataset(events) {
  const spec = { events, days: flags.days, items: flags.items, zipf: flags.zipf, sl: flags['session-length'], users: flags.users, seed: flags.seed, day };
  const id = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
  const dir = join(flags.dir, `data-${id}`);
  const file = join(dir, 'raw/bench/web', `exposure.${day}.jsonl`);
  if (!existsSync(join(dir, 'done'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`generating ${events} events → ${dir}\n`);
    const r = spawnSync(process.execPath, [generator, '--events', events, '--days', flags.days, '--items', flags.items, '--zipf', flags.zipf,
      '--session-length', flags['session-length'], '--users', flags.users, '--seed', flags.seed, '--tenant', 'bench', '--surface', 'web',
      '--start', day, '--out', join(dir, 'raw')], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('generator failed');
    writeFileSync(join(dir, 'done'), JSON.stringify(spec));
  }
  return { dir, file, bytes: statSync(file).size };
}

function runPipeline(ds) {
  const out = join(flags.dir, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const config = join(out, 'config.json');
  writeFileSync(config, JSON.stringify({ out_dir: out, raw_events_dir: join(ds.dir, 'raw'), limits: { max_items_per_session: 100000 } }));
  const m = measured(cli, ['run', '--config', config, '--tenant', 'bench', '--surface', 'web', '--start', day, '--end', day, '--json']);
  const result = JSON.parse(m.stdout);
  if (!result.ok) throw new Error(`run failed: ${JSON.stringify(result.error)}`);
  return { ...m, accepted: result.days[0].counts.accepted, durations: result.days[0].durations_ms };
}

async function hasDuckdb() {
  try {
    await import('@duckdb/node-api');
    return true;
  } catch {
    return false;
  }
}

const duck = !flags['no-duckdb'] && (await hasDuckdb());
process.stderr.write(`machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}; duckdb: ${duck ? 'yes' : flags['no-duckdb'] ? 'skipped' : 'not installed'}\n`);
const rows = [];
for (const events of flags.events.split(',')) {
  const ds = dataset(events);
  const tools = [];
  if (!flags['no-baseline']) tools.push(['JSON.parse, 1 core', () => measured(join(here, 'parse-baseline.mjs'), [ds.file])]);
  tools.push(['recsys-pipelines run', () => runPipeline(ds)]);
  if (duck) {
    tools.push(['DuckDB SQL', () => {
      const out = join(flags.dir, 'duck');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      return measured(join(here, 'duckdb-run.mjs'), [ds.file, out, '100']);
    }]);
  }
  const results = {};
  // Interleave tools run by run so background noise hits all of them alike.
  for (let r = 0; r < runs; r++) {
    for (const [name, fn] of tools) {
      const m = fn();
      (results[name] ??= []).push(m);
      process.stderr.write(`  ${events} ${name} run ${r + 1}: ${(m.wall_ms / 1000).toFixed(2)} s, ${(m.max_rss_kb / 1024).toFixed(0)} MB${m.durations ? ` ${JSON.stringify(Object.fromEntries(Object.entries(m.durations).map(([k, v]) => [k, Math.round(v)])))}` : ''}\n`);
    }
  }
  const base = results['JSON.parse, 1 core'] ? median(results['JSON.parse, 1 core'].map((m) => m.wall_ms)) : undefined;
  const duckMs = results['DuckDB SQL'] ? median(results['DuckDB SQL'].map((m) => m.wall_ms)) : undefined;
  for (const [name, ms] of Object.entries(results)) {
    const wall = median(ms.map((m) => m.wall_ms));
    rows.push({
      events: Number(events),
      mb: (ds.bytes / 1e6).toFixed(0),
      tool: name,
      wall_s: (wall / 1000).toFixed(2),
      min_max_s: `${(Math.min(...ms.map((m) => m.wall_ms)) / 1000).toFixed(2)}–${(Math.max(...ms.map((m) => m.wall_ms)) / 1000).toFixed(2)}`,
      events_per_s: Math.round(Number(events) / (wall / 1000)).toLocaleString('en-US'),
      peak_rss_mb: Math.round(Math.max(...ms.map((m) => m.max_rss_kb)) / 1024),
      vs_parse: base ? `${(wall / base).toFixed(2)}×` : '–',
      vs_duckdb: duckMs ? `${(wall / duckMs).toFixed(2)}×` : '–',
    });
  }
}
const cols = ['events', 'mb', 'tool', 'wall_s', 'min_max_s', 'events_per_s', 'peak_rss_mb', 'vs_parse', 'vs_duckdb'];
const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(`\nmedian of ${runs} runs; items ${flags.items}, zipf ${flags.zipf}, session length ${flags['session-length']}, seed ${flags.seed}\n`);
console.log(line(cols));
console.log(line(cols.map(() => '---')));
for (const row of rows) console.log(line(cols.map((c) => row[c])));
