#!/usr/bin/env node
// Convert the Diginetica sample (CIKM Cup 2016, as redistributed by SR-GNN)
// into raw exposure events v1, one JSON Lines file per UTC day:
//   <out>/diginetica/web/exposure.YYYY-MM-DD.jsonl
//
// Usage: node src/convert-diginetica.mjs [--csv FILE] [--out DIR] [--no-verify]
//   --csv   defaults to tooling/data/diginetica/train-item-views.csv
//   --out   defaults to apps/cli/sample-data/raw
// The CSV's sha256 is checked against the SHA256SUMS next to it (falling back
// to the pinned DIGINETICA_SHA256) before anything is written.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../../..');

export const DIGINETICA_CSV = path.resolve(HERE, '../diginetica/train-item-views.csv');
export const DIGINETICA_SHA256 = '98da96e05c87ef12b739e4bfd9bc7b4864106ee77371f1db9eb4413e3f78d37e';
export const DIGINETICA_ROWS = 12391;
export const DEFAULT_OUT_DIR = path.join(REPO_ROOT, 'apps/cli/sample-data/raw');
export const TENANT = 'diginetica';
export const SURFACE = 'web';

const HEADER = 'session_id;user_id;item_id;timeframe;eventdate';
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * One data row of train-item-views.csv.
 * @typedef {object} DigineticaRow
 * @property {number} line        1-based line number in the CSV (header is line 1)
 * @property {string} session_id
 * @property {string | null} user_id  null when the CSV says `NA`
 * @property {string} item_id
 * @property {number} timeframe   ms offset from eventdate 00:00:00 UTC
 * @property {string} eventdate   YYYY-MM-DD
 */

/**
 * Raw exposure event v1 as produced by this converter (key order is significant).
 * @typedef {object} ExposureEvent
 * @property {1} v
 * @property {string} ts
 * @property {string} tenant
 * @property {string} surface
 * @property {string} session_id
 * @property {string} item_id
 * @property {string} [user_id]
 */

/**
 * sha256 hex digest of a file.
 * @param {string} file
 * @returns {string}
 */
export function sha256File(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Expected sha256 for `csvPath`: from a SHA256SUMS file next to it if it lists
 * the file, otherwise the pinned DIGINETICA_SHA256.
 * @param {string} csvPath
 * @returns {string}
 */
export function expectedSha256(csvPath) {
  const sums = path.join(path.dirname(csvPath), 'SHA256SUMS');
  if (existsSync(sums)) {
    const base = path.basename(csvPath);
    for (const line of readFileSync(sums, 'utf8').split('\n')) {
      const m = /^([0-9a-f]{64})\s+\*?(.+)$/.exec(line.trim());
      if (m && m[2] === base) return m[1];
    }
  }
  return DIGINETICA_SHA256;
}

/**
 * Throw if the file's sha256 differs from `expected`.
 * @param {string} csvPath
 * @param {string} [expected]
 */
export function verifyDigineticaCsv(csvPath, expected = expectedSha256(csvPath)) {
  const actual = sha256File(csvPath);
  if (actual !== expected) {
    throw new Error(
      `sha256 mismatch for ${csvPath}\n  expected ${expected}\n  actual   ${actual}\n` +
        'Refusing to convert: the file is not the pinned Diginetica sample.',
    );
  }
}

/**
 * Parse train-item-views.csv into rows, in file order. Verifies the sha256
 * first unless `verify` is false. Throws on any malformed line.
 * @param {string} [csvPath]
 * @param {{ verify?: boolean }} [options]
 * @returns {DigineticaRow[]}
 */
export function readDigineticaRows(csvPath = DIGINETICA_CSV, { verify = true } = {}) {
  if (verify) verifyDigineticaCsv(csvPath);
  const text = readFileSync(csvPath, 'utf8');
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== HEADER) {
    throw new Error(`${csvPath}:1: unexpected header ${JSON.stringify(lines[0])}, want ${JSON.stringify(HEADER)}`);
  }
  /** @type {DigineticaRow[]} */
  const rows = [];
  for (let i = 1; i < lines.length; i++) {
    const line = i + 1;
    const f = lines[i].split(';');
    const fail = (/** @type {string} */ why) => {
      throw new Error(`${csvPath}:${line}: ${why}: ${JSON.stringify(lines[i])}`);
    };
    if (f.length !== 5) fail(`expected 5 fields, got ${f.length}`);
    const [session_id, user, item_id, tf, eventdate] = f;
    if (!session_id) fail('empty session_id');
    if (!item_id) fail('empty item_id');
    if (!user) fail('empty user_id (use NA for anonymous)');
    if (!/^\d+$/.test(tf)) fail('timeframe is not a non-negative integer');
    if (!DATE_RE.test(eventdate) || Number.isNaN(Date.parse(`${eventdate}T00:00:00Z`))) fail('bad eventdate');
    rows.push({
      line,
      session_id,
      user_id: user === 'NA' ? null : user,
      item_id,
      timeframe: Number(tf),
      eventdate,
    });
  }
  return rows;
}

/**
 * Map one CSV row to a raw exposure event v1:
 * ts = eventdate 00:00:00 UTC + timeframe ms, RFC 3339 UTC with milliseconds.
 * @param {DigineticaRow} row
 * @returns {ExposureEvent}
 */
export function rowToEvent(row) {
  const ms = Date.parse(`${row.eventdate}T00:00:00.000Z`) + row.timeframe;
  /** @type {ExposureEvent} */
  const ev = {
    v: 1,
    ts: new Date(ms).toISOString(),
    tenant: TENANT,
    surface: SURFACE,
    session_id: row.session_id,
    item_id: row.item_id,
  };
  if (row.user_id !== null) ev.user_id = row.user_id;
  return ev;
}

/**
 * Convert the CSV and write `<outDir>/diginetica/web/exposure.YYYY-MM-DD.jsonl`
 * (one file per UTC day of ts, lines in CSV order). Existing
 * exposure.*.jsonl files in that directory are removed first.
 * @param {{ csvPath?: string, outDir?: string, verify?: boolean }} [options]
 * @returns {{ events: number, files: string[], perDay: Map<string, number> }}
 */
export function convertDiginetica({ csvPath = DIGINETICA_CSV, outDir = DEFAULT_OUT_DIR, verify = true } = {}) {
  const rows = readDigineticaRows(csvPath, { verify });
  /** @type {Map<string, string[]>} */
  const byDay = new Map();
  for (const row of rows) {
    const ev = rowToEvent(row);
    const day = ev.ts.slice(0, 10);
    let bucket = byDay.get(day);
    if (!bucket) byDay.set(day, (bucket = []));
    bucket.push(JSON.stringify(ev));
  }
  const dir = path.join(outDir, TENANT, SURFACE);
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) {
    if (/^exposure\..*\.jsonl(\.gz)?$/.test(name)) rmSync(path.join(dir, name));
  }
  /** @type {string[]} */
  const files = [];
  /** @type {Map<string, number>} */
  const perDay = new Map();
  for (const day of [...byDay.keys()].sort()) {
    const lines = /** @type {string[]} */ (byDay.get(day));
    const file = path.join(dir, `exposure.${day}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    files.push(file);
    perDay.set(day, lines.length);
  }
  return { events: rows.length, files, perDay };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    // `pnpm run x -- --flag` forwards the `--`; drop it.
    args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
    options: {
      csv: { type: 'string', default: DIGINETICA_CSV },
      out: { type: 'string', default: DEFAULT_OUT_DIR },
      'no-verify': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: convert-diginetica.mjs [--csv FILE] [--out RAW_DIR] [--no-verify]\n');
    process.exit(0);
  }
  try {
    const { events, files, perDay } = convertDiginetica({
      csvPath: path.resolve(values.csv),
      outDir: path.resolve(values.out),
      verify: !values['no-verify'],
    });
    let busiestDay = '';
    let busiestCount = 0;
    for (const [d, n] of perDay) {
      if (n > busiestCount) [busiestDay, busiestCount] = [d, n];
    }
    process.stdout.write(
      `converted ${events} rows -> ${files.length} files in ${path.join(path.resolve(values.out), TENANT, SURFACE)}` +
        ` (busiest day ${busiestDay}: ${busiestCount} events)\n`,
    );
  } catch (err) {
    process.stderr.write(`convert-diginetica: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
