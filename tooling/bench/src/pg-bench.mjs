#!/usr/bin/env node
// pnpm --filter @recsys/bench bench:pg — the service's database (DESIGN §8),
// on the same server, in the same run:
//   1. signals write of the bench day (every cooc row of the artifact, and the
//      popularity items): ours (one transaction, DELETE + COPY) vs the Go
//      implementation's method (one parameterised upsert per row, batches of
//      500 in a transaction each) vs a plain COPY of the same rows;
//   2. `ingest` from exposure_events (cursor) vs from the same events as JSON Lines.
// The events are the synthetic bench day, grouped into served responses of up
// to --response-items items (consecutive events of a session), loaded into
// exposure_events with COPY; the JSON Lines file is written from those rows,
// so both sources hold exactly the same events (the bench checks that the
// canonical partitions are identical).
//
//   pnpm --filter @recsys/bench bench:pg -- --events 1000000 --runs 3
//   (PG_TEST_DSN=postgres://… to use a running server; otherwise
//    tooling/pg/pg-test-server.sh is started, and stopped at the end if it
//    was not running)
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { PgSignalsSink, copyText } from '@recsys/storage-pg';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const cli = join(root, 'apps/cli/dist/bin.js');
const generator = join(root, 'tooling/data/src/generate.mjs');
const pgScript = join(root, 'tooling/pg/pg-test-server.sh');
const schemaSql = join(root, 'packages/storage-pg/test/fixtures/service-schema.sql');

const { values: flags } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    events: { type: 'string', default: '1000000' },
    items: { type: 'string', default: '100000' },
    zipf: { type: 'string', default: '1.0' },
    'session-length': { type: 'string', default: '8' },
    seed: { type: 'string', default: '42' },
    'response-items': { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    // Row-by-row upserts of millions of rows take minutes: time them on the first N rows (0 = all).
    'row-by-row-rows': { type: 'string', default: '200000' },
    dir: { type: 'string', default: join(root, '.bench/pg') },
  },
});

const runs = Number(flags.runs);
const DAY = '2026-03-01';
const TENANT = 'bench';
const SURFACE = 'web';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (msg) => process.stderr.write(`[pg-bench] ${msg}\n`);

// ------------------------------------------------------------------ server
let startedServer = false;
let adminDsn = process.env.PG_TEST_DSN;
if (!adminDsn) {
  const running = spawnSync('bash', [pgScript, 'status'], { stdio: 'ignore' }).status === 0;
  const out = execFileSync('bash', [pgScript, 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  adminDsn = /PG_TEST_DSN=(\S+)/.exec(out)[1];
  startedServer = !running;
}
const dbName = `recsys_bench_${process.pid}`;
const dsnUrl = new URL(adminDsn);
dsnUrl.pathname = `/${dbName}`;
const dsn = dsnUrl.toString();

async function withClient(url, fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// -------------------------------------------------------------------- data
mkdirSync(flags.dir, { recursive: true });
const genDir = join(flags.dir, `gen-${flags.events}-${flags.items}-${flags.seed}`);
const genFile = join(genDir, TENANT, SURFACE, `exposure.${DAY}.jsonl`);
if (!existsSync(genFile)) {
  log(`generating ${flags.events} events`);
  const r = spawnSync(process.execPath, [generator, '--events', flags.events, '--days', '1', '--items', flags.items, '--zipf', flags.zipf, '--session-length', flags['session-length'],
    '--users', '100000', '--seed', flags.seed, '--tenant', TENANT, '--surface', SURFACE, '--start', DAY, '--out', genDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error('generator failed');
}

/** Served responses: consecutive events of a session, up to K items, at the first event's instant. */
async function responses() {
  const k = Number(flags['response-items']);
  const out = [];
  let cur;
  const rl = createInterface({ input: createReadStream(genFile), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const e = JSON.parse(line);
    if (!cur || cur.session !== e.session_id || cur.items.length >= k) {
      cur = { ts: e.ts, session: e.session_id, items: [] };
      out.push(cur);
    }
    cur.items.push(e.item_id);
  }
  // exposure_events are read in (occurred_at, id) order; the JSON Lines file follows the same order.
  return out.map((r, i) => ({ ...r, i })).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.i - b.i));
}

/** PostgreSQL prints timestamps without trailing fraction zeros; the JSON Lines copy says the same instant the same way. */
const pgTs = (ts) => ts.replace(/(\.\d*?)0+Z$/, '$1Z').replace(/\.Z$/, 'Z');

log('building responses');
const served = await responses();
const events = served.reduce((n, r) => n + r.items.length, 0);
const jsonlDir = join(flags.dir, 'raw');
const jsonlFile = join(jsonlDir, TENANT, SURFACE, `exposure.${DAY}.jsonl`);
mkdirSync(dirname(jsonlFile), { recursive: true });
{
  const w = createWriteStream(jsonlFile);
  for (const r of served) {
    const ts = pgTs(r.ts);
    let chunk = '';
    for (let rank = 0; rank < r.items.length; rank++) chunk += `{"v":1,"ts":"${ts}","tenant":"${TENANT}","surface":"${SURFACE}","session_id":${JSON.stringify(r.session)},"item_id":${JSON.stringify(r.items[rank])},"rank":${rank}}\n`;
    if (!w.write(chunk)) await new Promise((ok) => w.once('drain', ok));
  }
  await new Promise((ok, fail) => w.end((e) => (e ? fail(e) : ok())));
}

log(`database ${dbName}: schema and ${served.length} exposure rows (${events} events)`);
await withClient(adminDsn, (c) => c.query(`CREATE DATABASE ${dbName}`));
let tenantId;
await withClient(dsn, async (c) => {
  await c.query(readFileSync(schemaSql, 'utf8'));
  tenantId = (await c.query(`INSERT INTO tenants (external_id, name) VALUES ($1, $1) RETURNING id::text AS id`, [TENANT])).rows[0].id;
  function* rows() {
    for (const r of served) {
      const response = JSON.stringify({ items: r.items.map((item_id, rank) => ({ item_id, rank, score: 1 })) });
      yield `${tenantId}\t${r.ts}\t${SURFACE}\t${copyText(r.session)}\tv1\t${copyText(response)}\n`;
    }
  }
  await pipeline(Readable.from(rows()), c.query(copyStreams.from('COPY exposure_events (tenant_id, occurred_at, surface, session_id, algo_version, response) FROM STDIN')));
  await c.query('ANALYZE');
});

// ------------------------------------------------------------------ runs
const work = join(flags.dir, 'work');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
// Every cooc row, and no byte cap: the bench day's cooc blob (~180 MB) is far above the service's default
// 10 MB artifact limit, which would block the run (exit 3) before the signals are written.
const bigLimits = { max_items_per_artifact: 100_000_000, max_bad_event_ratio: 0.01, max_artifact_bytes: 0 };
const fileConfig = join(work, 'jsonl.json');
const pgConfig = join(work, 'pg.json');
writeFileSync(fileConfig, JSON.stringify({ out_dir: join(work, 'jsonl-out'), raw_events_dir: jsonlDir, artifact_kinds: ['popularity', 'cooc'], limits: bigLimits }));
writeFileSync(pgConfig, JSON.stringify({ out_dir: join(work, 'pg-out'), raw_source: { type: 'postgres', postgres: { dsn } }, db: { dsn }, artifact_kinds: ['popularity', 'cooc'], limits: bigLimits }));
const scope = ['--tenant', TENANT, '--surface', SURFACE, '--start', DAY, '--end', DAY];

function timedCli(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, RECSYS_LOG_LEVEL: 'warn' } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args[0]} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { ms, json: JSON.parse(r.stdout) };
}

log('ingest: JSON Lines vs exposure_events');
const ingest = { jsonl: [], pg: [] };
let canonical;
for (let i = 0; i < runs; i++) {
  const f = timedCli(['ingest', '--config', fileConfig, ...scope]);
  const p = timedCli(['ingest', '--config', pgConfig, ...scope]);
  ingest.jsonl.push(f.ms);
  ingest.pg.push(p.ms);
  log(`run ${i + 1}: ingest JSON Lines ${Math.round(f.ms)} ms, exposure_events ${Math.round(p.ms)} ms`);
  canonical = { jsonl: f.json.days[0].report.canonical.sha256, pg: p.json.days[0].report.canonical.sha256, accepted: p.json.days[0].report.counts.accepted };
}
if (canonical.jsonl !== canonical.pg) throw new Error(`canonical partitions differ: ${canonical.jsonl} vs ${canonical.pg}`);

log('compute the artifacts (every cooc row: max_items_per_artifact unlimited)');
const computed = timedCli(['run', '--config', fileConfig, ...scope]);
const uriOf = (type) => computed.json.days[0].artifacts.find((a) => a.type === type).uri;
const popularity = JSON.parse(readFileSync(new URL(uriOf('popularity')), 'utf8')).items;
const cooc = JSON.parse(readFileSync(new URL(uriOf('cooc')), 'utf8')).neighbors;
const covisitCount = cooc.reduce((n, r) => n + r.items.length, 0);
const totalRows = popularity.length + covisitCount;
log(`${popularity.length} popularity rows + ${covisitCount} covisit rows`);

const updatedAt = '2026-03-02T00:00:00.000Z';
const signals = { tenant: TENANT, namespace: SURFACE, day: DAY, popularity, covisit: cooc, updatedAt };

/** Every (table, row) of the day, as the upsert and COPY baselines write them. */
function* flatRows() {
  for (const x of popularity) yield ['p', x.item_id, null, x.count];
  for (const r of cooc) for (const n of r.items) yield ['c', r.item_id, n.item_id, n.count];
}

async function truncate() {
  await withClient(dsn, (c) => c.query('TRUNCATE item_popularity_daily, item_covisit_daily'));
}

/** The Go implementation's method: one parameterised upsert per row, batches of 500, a transaction per batch. */
async function rowByRow(limit) {
  return withClient(dsn, async (c) => {
    const pop = { name: 'pop', text: 'INSERT INTO item_popularity_daily (tenant_id, namespace, item_id, day, score, updated_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT (tenant_id, namespace, item_id, day) DO UPDATE SET score = EXCLUDED.score, updated_at = now()' };
    const cov = { name: 'cov', text: 'INSERT INTO item_covisit_daily (tenant_id, namespace, item_id, neighbor_id, day, score, updated_at) VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (tenant_id, namespace, item_id, neighbor_id, day) DO UPDATE SET score = EXCLUDED.score, updated_at = now()' };
    let n = 0;
    const t0 = performance.now();
    let inBatch = 0;
    for (const [table, item, neighbor, count] of flatRows()) {
      if (limit > 0 && n >= limit) break;
      if (inBatch === 0) await c.query('BEGIN');
      if (table === 'p') await c.query({ ...pop, values: [tenantId, SURFACE, item, DAY, count] });
      else await c.query({ ...cov, values: [tenantId, SURFACE, item, neighbor, DAY, count] });
      n++;
      if (++inBatch === 500) {
        await c.query('COMMIT');
        inBatch = 0;
      }
    }
    if (inBatch > 0) await c.query('COMMIT');
    return { ms: performance.now() - t0, rows: n };
  });
}

/** A plain COPY of the same rows (no delete, no explicit transaction). */
async function plainCopy() {
  return withClient(dsn, async (c) => {
    const t0 = performance.now();
    const prefix = `${tenantId}\t${SURFACE}\t`;
    const chunked = function* (gen) {
      let buf = [];
      for (const line of gen) {
        buf.push(line);
        if (buf.length >= 2000) {
          yield buf.join('');
          buf = [];
        }
      }
      if (buf.length) yield buf.join('');
    };
    await pipeline(Readable.from(chunked((function* () {
      for (const x of popularity) yield `${prefix}${copyText(x.item_id)}\t${DAY}\t${x.count}\t${updatedAt}\n`;
    })())), c.query(copyStreams.from('COPY item_popularity_daily (tenant_id, namespace, item_id, day, score, updated_at) FROM STDIN')));
    await pipeline(Readable.from(chunked((function* () {
      for (const r of cooc) for (const n of r.items) yield `${prefix}${copyText(r.item_id)}\t${copyText(n.item_id)}\t${DAY}\t${n.count}\t${updatedAt}\n`;
    })())), c.query(copyStreams.from('COPY item_covisit_daily (tenant_id, namespace, item_id, neighbor_id, day, score, updated_at) FROM STDIN')));
    return { ms: performance.now() - t0, rows: totalRows };
  });
}

async function ours() {
  const sink = new PgSignalsSink({ dsn });
  const t0 = performance.now();
  const r = await sink.writeDay(signals);
  return { ms: performance.now() - t0, rows: r.popularity_rows + r.covisit_rows };
}

// The signals step reads the staged artifacts of the JSON Lines run and writes to the database.
const signalsConfig = join(work, 'signals.json');
writeFileSync(signalsConfig, JSON.stringify({ out_dir: join(work, 'jsonl-out'), raw_events_dir: jsonlDir, db: { dsn }, artifact_kinds: ['popularity', 'cooc'], limits: bigLimits }));

log('signals write: row-by-row vs plain COPY vs ours');
const write = { rowByRow: [], copy: [], oursFresh: [], oursRerun: [], step: [] };
for (let i = 0; i < runs; i++) {
  await truncate();
  const rb = await rowByRow(Number(flags['row-by-row-rows']));
  write.rowByRow.push((rb.ms / rb.rows) * 1000); // ms per 1000 rows
  log(`run ${i + 1}: row-by-row ${rb.rows} rows in ${Math.round(rb.ms)} ms`);
  await truncate();
  write.copy.push((await plainCopy()).ms);
  log(`run ${i + 1}: plain COPY ${totalRows} rows in ${Math.round(write.copy.at(-1))} ms`);
  await truncate();
  write.oursFresh.push((await ours()).ms);
  log(`run ${i + 1}: ours (empty day) ${Math.round(write.oursFresh.at(-1))} ms`);
  write.oursRerun.push((await ours()).ms);
  log(`run ${i + 1}: ours (rerun) ${Math.round(write.oursRerun.at(-1))} ms`);
  // The job step end to end: staged artifacts read back and parsed, then written.
  write.step.push(timedCli(['signals', '--config', signalsConfig, ...scope]).ms);
  log(`run ${i + 1}: signals step ${Math.round(write.step.at(-1))} ms`);
}


const rowByRowMs = median(write.rowByRow) * (totalRows / 1000);
const copyMs = median(write.copy);
const oursMs = median(write.oursFresh);
const ingestPg = events / (median(ingest.pg) / 1000);
const ingestJsonl = events / (median(ingest.jsonl) / 1000);
const fmt = (ms) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const rate = (rows, ms) => `${Math.round(rows / (ms / 1000)).toLocaleString('en-US')}/s`;

const lines = [
  `PostgreSQL bench: ${events.toLocaleString('en-US')} events in ${served.length.toLocaleString('en-US')} responses, ${popularity.length.toLocaleString('en-US')} popularity + ${covisitCount.toLocaleString('en-US')} covisit rows; median of ${runs} runs; ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; PostgreSQL on 127.0.0.1`,
  '',
  '| signals write (same rows, same server) | time | rows/s | vs ours |',
  '|---|---|---|---|',
  `| row-by-row upsert, batches of 500 (Go's method)${Number(flags['row-by-row-rows']) > 0 && Number(flags['row-by-row-rows']) < totalRows ? ` — timed on ${Number(flags['row-by-row-rows']).toLocaleString('en-US')} rows, extrapolated` : ''} | ${fmt(rowByRowMs)} | ${rate(totalRows, rowByRowMs)} | ${(rowByRowMs / oursMs).toFixed(1)}× slower |`,
  `| plain COPY of the same rows | ${fmt(copyMs)} | ${rate(totalRows, copyMs)} | ${(oursMs / copyMs).toFixed(2)}× (ours / COPY) |`,
  `| ours: one transaction, DELETE + COPY (empty day) | ${fmt(oursMs)} | ${rate(totalRows, oursMs)} | 1 |`,
  `| ours, rerun (the day's rows replaced) | ${fmt(median(write.oursRerun))} | ${rate(totalRows, median(write.oursRerun))} | |`,
  `| \`signals\` job step, end to end (process start, staged artifacts read and parsed, write) | ${fmt(median(write.step))} | | |`,
  '',
  '| ingest (same events) | time | events/s |',
  '|---|---|---|',
  `| JSON Lines file | ${fmt(median(ingest.jsonl))} | ${rate(events, median(ingest.jsonl))} |`,
  `| exposure_events (cursor) | ${fmt(median(ingest.pg))} | ${rate(events, median(ingest.pg))} (${((ingestPg / ingestJsonl) * 100).toFixed(0)} % of JSON Lines) |`,
  '',
  `Targets: ours ≥ 10× row-by-row: ${(rowByRowMs / oursMs).toFixed(1)}× ${rowByRowMs / oursMs >= 10 ? 'ok' : 'MISSED'}; ours ≤ 1.5× plain COPY: ${(oursMs / copyMs).toFixed(2)}× ${oursMs / copyMs <= 1.5 ? 'ok' : 'MISSED'}; PostgreSQL ingest ≥ 50 % of JSON Lines: ${((ingestPg / ingestJsonl) * 100).toFixed(0)} % ${ingestPg / ingestJsonl >= 0.5 ? 'ok' : 'MISSED'}. Canonical partitions identical (sha256 ${canonical.pg.slice(0, 12)}…, ${canonical.accepted} events).`,
];
process.stdout.write(lines.join('\n') + '\n');
writeFileSync(join(flags.dir, 'pg-bench.json'), JSON.stringify({ events, responses: served.length, popularity_rows: popularity.length, covisit_rows: covisitCount, runs, ingest, write, summary: { rowByRowMs, copyMs, oursMs, ingestPg, ingestJsonl } }, null, 2));

await withClient(adminDsn, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
if (startedServer) execFileSync('bash', [pgScript, 'stop'], { stdio: 'inherit' });
