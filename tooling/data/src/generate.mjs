#!/usr/bin/env node
// Deterministic synthetic raw exposure events (v1) for benchmarks and tests.
//
//   node src/generate.mjs --events 1000000 --days 7 --items 200000 --zipf 1.0 \
//     --session-length 8 --users 50000 --seed 42 --tenant bench --surface home \
//     --start 2026-01-01 --out .bench/raw [--gzip] [--layout per-day|flat]
//
// Same options (incl. seed) => byte-identical output. Layouts:
//   per-day: <out>/<tenant>/<surface>/exposure.YYYY-MM-DD.jsonl[.gz]
//   flat:    <out>/exposure.jsonl[.gz] (all days in one file; `--out -` = stdout)
//
// Model, per day d (events split evenly over days, remainder to the first days):
//   - sessions: K_d = --sessions-per-day, or round(n_d / --session-length);
//     session lengths are geometric around the remaining mean, each >= 1.
//   - session starts are uniform over the UTC day and emitted in start order;
//     a session's events are contiguous, ts strictly increasing (exponential
//     gaps, mean 20 s, capped at 10 min), always inside the same UTC day.
//   - item_id: Zipf(s) over --items ranks (precomputed CDF + binary search),
//     ranks scattered over ids by a fixed permutation.
//   - user_id on ~85% of sessions (uniform over --users);
//     ~40% of sessions are "served": events come in request blocks of 1-6
//     with request_id + rank 0..k; ~10% of the others carry rank only.
// Lines within a day are therefore time-ordered per session, not globally.

import { createWriteStream, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const DAY_MS = 86_400_000;
const GAP_MEAN_MS = 20_000;
const GAP_MAX_MS = 600_000;
const P_USER = 0.85;
const P_SERVED = 0.4;
const P_RANK_ONLY = 0.1;

/**
 * @typedef {object} GenerateOptions
 * @property {number} [events]          total events (default 100000)
 * @property {number} [days]            number of UTC days (default 7)
 * @property {number} [items]           catalogue size (default 10000)
 * @property {number} [zipf]            Zipf exponent s >= 0 (default 1.0; 0 = uniform)
 * @property {number | null} [sessionsPerDay]  sessions per day (overrides sessionLength)
 * @property {number} [sessionLength]   average session length (default 8)
 * @property {number} [users]           distinct users (default 10000)
 * @property {number} [seed]            PRNG seed, uint32 (default 1)
 * @property {string} [tenant]          default "bench"
 * @property {string} [surface]         default "home"
 * @property {string} [start]           first day YYYY-MM-DD (default 2026-01-01)
 */

/**
 * @typedef {object} ExposureEvent
 * @property {1} v
 * @property {string} ts
 * @property {string} tenant
 * @property {string} surface
 * @property {string} session_id
 * @property {string} item_id
 * @property {string} [user_id]
 * @property {string} [request_id]
 * @property {number} [rank]
 */

/**
 * sfc32 PRNG seeded through splitmix32. Returns floats in [0, 1).
 * @param {number} seed
 * @returns {() => number}
 */
export function createRng(seed) {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

/**
 * Zipf(s) sampler over ranks 0..n-1 (P(k) ∝ 1/(k+1)^s): CDF in a
 * Float64Array, binary search per draw.
 * @param {number} n
 * @param {number} s
 * @returns {(u: number) => number} maps a uniform [0,1) draw to a rank
 */
export function createZipf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / Math.pow(k + 1, s);
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  cdf[n - 1] = 1;
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** @param {number} a @param {number} b */
function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** @param {number} n @param {number} w */
function pad(n, w) {
  return String(n).padStart(w, '0');
}

/**
 * Fill in defaults and validate.
 * @param {GenerateOptions} [o]
 */
export function normalizeOptions(o = {}) {
  const opts = {
    events: o.events ?? 100_000,
    days: o.days ?? 7,
    items: o.items ?? 10_000,
    zipf: o.zipf ?? 1.0,
    sessionsPerDay: o.sessionsPerDay ?? null,
    sessionLength: o.sessionLength ?? 8,
    users: o.users ?? 10_000,
    seed: o.seed ?? 1,
    tenant: o.tenant ?? 'bench',
    surface: o.surface ?? 'home',
    start: o.start ?? '2026-01-01',
  };
  const posInt = (/** @type {string} */ k, /** @type {unknown} */ v) => {
    if (!Number.isSafeInteger(v) || /** @type {number} */ (v) < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  };
  if (!Number.isSafeInteger(opts.events) || opts.events < 0) throw new Error(`events must be an integer >= 0, got ${opts.events}`);
  posInt('days', opts.days);
  posInt('items', opts.items);
  posInt('users', opts.users);
  if (opts.sessionsPerDay !== null) posInt('sessions-per-day', opts.sessionsPerDay);
  if (!(opts.sessionLength >= 1)) throw new Error(`session-length must be >= 1, got ${opts.sessionLength}`);
  if (!(opts.zipf >= 0) || !Number.isFinite(opts.zipf)) throw new Error(`zipf must be >= 0, got ${opts.zipf}`);
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff) throw new Error(`seed must be a uint32, got ${opts.seed}`);
  for (const k of /** @type {const} */ (['tenant', 'surface'])) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(opts[k])) throw new Error(`${k} must match [A-Za-z0-9._-]{1,128}, got ${opts[k]}`);
  }
  const startMs = /^\d{4}-\d{2}-\d{2}$/.test(opts.start) ? Date.parse(`${opts.start}T00:00:00Z`) : NaN;
  if (Number.isNaN(startMs) || new Date(startMs).toISOString().slice(0, 10) !== opts.start) {
    throw new Error(`start must be a valid YYYY-MM-DD, got ${opts.start}`);
  }
  return opts;
}

/**
 * The generator. Yields events in output order (day by day).
 * @param {GenerateOptions} [options]
 * @returns {Generator<ExposureEvent, void, void>}
 */
export function* generateEvents(options) {
  const o = normalizeOptions(options);
  const rand = createRng(o.seed);
  const zipf = createZipf(o.items, o.zipf);
  // Scatter Zipf ranks over item ids: id = (rank * mult + off) mod items.
  let mult = Math.max(1, Math.floor(o.items * 0.6180339887)) | 1;
  while (gcd(mult, o.items) !== 1) mult++;
  const off = Math.floor(o.items / 3);
  const itemIds = (/** @type {number} */ rank) => `i${(rank * mult + off) % o.items}`;

  const startMs = Date.parse(`${o.start}T00:00:00Z`);
  const base = Math.floor(o.events / o.days);
  const extra = o.events % o.days;
  let sessionCounter = 0;
  let requestCounter = 0;
  /** @type {number[]} */
  const gaps = [];

  for (let d = 0; d < o.days; d++) {
    const n = base + (d < extra ? 1 : 0);
    if (n === 0) continue;
    const dayMs = startMs + d * DAY_MS;
    const dayPrefix = new Date(dayMs).toISOString().slice(0, 11); // YYYY-MM-DDT
    let k = o.sessionsPerDay ?? Math.round(n / o.sessionLength);
    k = Math.min(n, Math.max(1, k));
    let remaining = n;
    let u = 0; // sorted uniform session start, generated in order
    for (let j = 0; j < k; j++) {
      const left = k - j;
      u = 1 - (1 - u) * Math.pow(1 - rand(), 1 / left);
      // Session length: 1 + geometric with mean (remaining/left - 1), keeping >= 1 per later session.
      let len;
      if (left === 1) len = remaining;
      else {
        const mean = remaining / left - 1;
        let g = 0;
        if (mean > 0) g = Math.floor(Math.log(1 - rand()) / Math.log(mean / (mean + 1)));
        len = Math.min(1 + g, remaining - (left - 1));
      }
      remaining -= len;

      gaps.length = 0;
      let span = 0;
      for (let e = 1; e < len; e++) {
        const g = Math.min(GAP_MAX_MS, 1 + Math.floor(-Math.log(1 - rand()) * GAP_MEAN_MS));
        gaps.push(g);
        span += g;
      }
      if (span > DAY_MS - 1) {
        for (let e = 0; e < gaps.length; e++) gaps[e] = 1;
        span = gaps.length;
      }
      let t = Math.min(Math.floor(u * DAY_MS), DAY_MS - 1 - span);

      const sessionId = `s${++sessionCounter}`;
      const userId = rand() < P_USER ? `u${Math.floor(rand() * o.users)}` : undefined;
      const kind = rand();
      const served = kind < P_SERVED;
      const rankOnly = !served && kind < P_SERVED + (1 - P_SERVED) * P_RANK_ONLY;
      let requestId = '';
      let blockLeft = 0;
      let rank = 0;

      for (let e = 0; e < len; e++) {
        if (e > 0) t += gaps[e - 1];
        const ms = t % 1000;
        const sec = Math.floor(t / 1000);
        const ts = `${dayPrefix}${pad(Math.floor(sec / 3600), 2)}:${pad(Math.floor(sec / 60) % 60, 2)}:${pad(sec % 60, 2)}.${pad(ms, 3)}Z`;
        /** @type {ExposureEvent} */
        const ev = {
          v: 1,
          ts,
          tenant: o.tenant,
          surface: o.surface,
          session_id: sessionId,
          item_id: itemIds(zipf(rand())),
        };
        if (userId !== undefined) ev.user_id = userId;
        if (served) {
          if (blockLeft === 0) {
            requestId = `r${++requestCounter}`;
            blockLeft = 1 + Math.floor(rand() * 6);
            rank = 0;
          }
          ev.request_id = requestId;
          ev.rank = rank++;
          blockLeft--;
        } else if (rankOnly) {
          ev.rank = Math.floor(rand() * 20);
        }
        yield ev;
      }
    }
  }
}

/**
 * Serialize exactly like JSON.stringify(ev) for events from generateEvents
 * (all string values are JSON-safe except tenant/surface, which are validated).
 * @param {ExposureEvent} ev
 * @returns {string}
 */
export function serializeEvent(ev) {
  let s = `{"v":1,"ts":"${ev.ts}","tenant":"${ev.tenant}","surface":"${ev.surface}","session_id":"${ev.session_id}","item_id":"${ev.item_id}"`;
  if (ev.user_id !== undefined) s += `,"user_id":"${ev.user_id}"`;
  if (ev.request_id !== undefined) s += `,"request_id":"${ev.request_id}"`;
  if (ev.rank !== undefined) s += `,"rank":${ev.rank}`;
  return s + '}\n';
}

/**
 * Buffered sink over a (possibly gzipped) file or stdout, honouring backpressure.
 */
class Sink {
  /**
   * @param {string | null} file null = stdout
   * @param {{ gzip: boolean, gzipLevel: number, bufferBytes: number }} opts
   */
  constructor(file, opts) {
    /** @type {NodeJS.WritableStream} */
    this.out = file === null ? process.stdout : createWriteStream(file, { highWaterMark: 1 << 22 });
    /** @type {NodeJS.WritableStream} */
    this.head = this.out;
    if (opts.gzip) {
      const gz = createGzip({ level: opts.gzipLevel, chunkSize: 1 << 18 });
      gz.pipe(this.out);
      this.head = gz;
    }
    this.file = file;
    this.size = opts.bufferBytes;
    // Serialize straight into a large Buffer so the per-event strings die young
    // (collecting them in an array first makes GC dominate the run time).
    this.buf = Buffer.allocUnsafe(this.size);
    this.off = 0;
    this.bytes = 0;
  }

  /**
   * Append a string; returns a promise only when a full buffer had to be flushed.
   * @param {string} s
   * @returns {Promise<void> | null}
   */
  write(s) {
    if (this.off + s.length * 3 > this.size) {
      const p = this.flush();
      this.off += this.buf.write(s, this.off);
      return p;
    }
    this.off += this.buf.write(s, this.off);
    return null;
  }

  async flush() {
    if (this.off === 0) return;
    const chunk = this.buf.subarray(0, this.off);
    this.bytes += this.off;
    this.buf = Buffer.allocUnsafe(this.size);
    this.off = 0;
    if (!this.head.write(chunk)) await new Promise((resolve) => this.head.once('drain', resolve));
  }

  async close() {
    await this.flush();
    if (this.file === null && this.head === this.out) return;
    await new Promise((resolve, reject) => {
      this.out.once('error', reject);
      if (this.file === null) this.head.once('end', resolve);
      else this.out.once('finish', resolve);
      this.head.end();
    });
  }
}

/**
 * Generate and write files. Returns a summary.
 * @param {GenerateOptions & { out: string, gzip?: boolean, gzipLevel?: number, layout?: 'per-day' | 'flat', bufferBytes?: number }} options
 */
export async function writeEvents(options) {
  const { out, gzip = false, gzipLevel = 6, layout = 'per-day', bufferBytes = 4 << 20, ...gen } = options;
  const o = normalizeOptions(gen);
  if (layout !== 'per-day' && layout !== 'flat') throw new Error(`layout must be per-day or flat, got ${layout}`);
  if (out === '-' && layout !== 'flat') throw new Error('--out - (stdout) requires --layout flat');
  const ext = gzip ? '.jsonl.gz' : '.jsonl';
  const sinkOpts = { gzip, gzipLevel, bufferBytes };
  /** @type {string[]} */
  const files = [];
  let events = 0;
  let bytes = 0;
  /** @type {Sink | null} */
  let sink = null;
  let sinkDay = '';
  const dir = layout === 'per-day' ? path.join(out, o.tenant, o.surface) : out;
  if (out !== '-') mkdirSync(dir, { recursive: true });
  const open = (/** @type {string | null} */ file) => {
    if (file !== null) files.push(file);
    return new Sink(file, sinkOpts);
  };
  if (layout === 'flat') sink = open(out === '-' ? null : path.join(dir, `exposure${ext}`));
  let lastSession = '';
  let sessionCount = 0;
  for (const ev of generateEvents(o)) {
    if (layout === 'per-day') {
      const day = ev.ts.slice(0, 10);
      if (day !== sinkDay) {
        if (sink) {
          await sink.close();
          bytes += sink.bytes;
        }
        sink = open(path.join(dir, `exposure.${day}${ext}`));
        sinkDay = day;
      }
    }
    if (ev.session_id !== lastSession) {
      lastSession = ev.session_id;
      sessionCount++;
    }
    const p = /** @type {Sink} */ (sink).write(serializeEvent(ev));
    if (p) await p;
    events++;
  }
  if (sink) {
    await sink.close();
    bytes += sink.bytes;
  }
  let storedBytes = bytes;
  if (gzip && out !== '-') {
    storedBytes = 0;
    for (const f of files) storedBytes += statSync(f).size;
  }
  return { events, sessions: sessionCount, files, bytes, storedBytes };
}

const USAGE = `usage: generate.mjs --out DIR [options]
  --events N              total events (default 100000)
  --days D                UTC days starting at --start (default 7)
  --items I               catalogue size (default 10000)
  --zipf S                Zipf exponent for item popularity (default 1.0)
  --sessions-per-day K    sessions per day (overrides --session-length)
  --session-length L      average session length (default 8)
  --users U               distinct users (default 10000)
  --seed N                uint32 seed (default 1)
  --tenant T              (default bench)
  --surface S             (default home)
  --start YYYY-MM-DD      first day (default 2026-01-01)
  --out DIR               output root; "-" = stdout (flat layout only)
  --layout per-day|flat   per-day: DIR/T/S/exposure.YYYY-MM-DD.jsonl; flat: DIR/exposure.jsonl
  --gzip                  gzip output (.jsonl.gz)
  --gzip-level 1-9        (default 6)
`;

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const { values } = parseArgs({
      // `pnpm run x -- --flag` forwards the `--`; drop it.
      args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
      options: {
        events: { type: 'string' },
        days: { type: 'string' },
        items: { type: 'string' },
        zipf: { type: 'string' },
        'sessions-per-day': { type: 'string' },
        'session-length': { type: 'string' },
        users: { type: 'string' },
        seed: { type: 'string' },
        tenant: { type: 'string' },
        surface: { type: 'string' },
        start: { type: 'string' },
        out: { type: 'string' },
        layout: { type: 'string', default: 'per-day' },
        gzip: { type: 'boolean', default: false },
        'gzip-level': { type: 'string', default: '6' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (!values.out) throw new Error('--out is required');
    const num = (/** @type {string | undefined} */ v, /** @type {string} */ name) => {
      if (v === undefined) return undefined;
      const n = Number(v.replaceAll('_', ''));
      if (v.trim() === '' || Number.isNaN(n)) throw new Error(`--${name} must be a number, got ${v}`);
      return n;
    };
    const t0 = performance.now();
    const summary = await writeEvents({
      events: num(values.events, 'events'),
      days: num(values.days, 'days'),
      items: num(values.items, 'items'),
      zipf: num(values.zipf, 'zipf'),
      sessionsPerDay: num(values['sessions-per-day'], 'sessions-per-day'),
      sessionLength: num(values['session-length'], 'session-length'),
      users: num(values.users, 'users'),
      seed: num(values.seed, 'seed'),
      tenant: values.tenant,
      surface: values.surface,
      start: values.start,
      out: values.out,
      layout: /** @type {'per-day' | 'flat'} */ (values.layout),
      gzip: values.gzip,
      gzipLevel: /** @type {number} */ (num(values['gzip-level'], 'gzip-level')),
    });
    const secs = (performance.now() - t0) / 1000;
    process.stderr.write(
      `generated ${summary.events} events, ${summary.sessions} sessions, ${summary.files.length} file(s), ` +
        `${summary.bytes} bytes${values.gzip && values.out !== '-' ? ` (${summary.storedBytes} gzipped)` : ''} in ${secs.toFixed(2)} s ` +
        `(${Math.round(summary.events / secs)} events/s)\n`,
    );
  } catch (err) {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(1);
  }
}
