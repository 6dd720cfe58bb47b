#!/usr/bin/env node
// Validate and summarize a raw exposure directory:
//   <raw_dir>/<tenant>/<surface>/exposure.YYYY-MM-DD.jsonl[.gz]
// Every line must be a raw exposure event v1 (required v=1, ts RFC 3339,
// tenant, surface, session_id, item_id; optional user_id, request_id, rank;
// no other keys), with tenant/surface matching the path and the UTC day of
// ts matching the file name. Prints per tenant/surface: events, days,
// busiest day, sessions, users, items. Exits 1 if any line is invalid.
//
// Usage: node src/inspect.mjs RAW_DIR [--json]

import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';

const REQUIRED = ['v', 'ts', 'tenant', 'surface', 'session_id', 'item_id'];
const ALLOWED = new Set([...REQUIRED, 'user_id', 'request_id', 'rank']);
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const FILE_RE = /^exposure\.(\d{4}-\d{2}-\d{2})\.jsonl(\.gz)?$/;

/**
 * Validate one parsed line; returns an error message or null.
 * @param {unknown} ev
 * @returns {string | null}
 */
export function validateRawEvent(ev) {
  if (typeof ev !== 'object' || ev === null || Array.isArray(ev)) return 'not a JSON object';
  const o = /** @type {Record<string, unknown>} */ (ev);
  for (const k of Object.keys(o)) if (!ALLOWED.has(k)) return `unknown field ${JSON.stringify(k)}`;
  for (const k of REQUIRED) if (!(k in o)) return `missing ${k}`;
  if (o.v !== 1) return 'v must be 1';
  for (const k of ['ts', 'tenant', 'surface', 'session_id', 'item_id']) {
    if (typeof o[k] !== 'string' || o[k] === '') return `${k} must be a non-empty string`;
  }
  for (const k of ['user_id', 'request_id']) {
    if (k in o && (typeof o[k] !== 'string' || o[k] === '')) return `${k} must be a non-empty string`;
  }
  if ('rank' in o && !(Number.isSafeInteger(o.rank) && /** @type {number} */ (o.rank) >= 0)) return 'rank must be an integer >= 0';
  const m = RFC3339.exec(/** @type {string} */ (o.ts));
  if (!m || Number.isNaN(Date.parse(/** @type {string} */ (o.ts)))) return 'ts is not RFC 3339';
  const [, , mo, d, h, mi, s] = m.map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return 'ts out of range';
  return null;
}

/**
 * @typedef {object} Summary
 * @property {string} tenant
 * @property {string} surface
 * @property {number} events
 * @property {number} invalid
 * @property {string[]} errors  first few error messages
 * @property {number} days
 * @property {string} firstDay
 * @property {string} lastDay
 * @property {string} busiestDay
 * @property {number} busiestCount
 * @property {number} sessions
 * @property {number} users
 * @property {number} items
 * @property {number} withUser   events carrying user_id
 * @property {number} withRequest events carrying request_id
 * @property {number} withRank    events carrying rank
 * @property {number} bytes       on-disk bytes
 */

/**
 * Validate and summarize one tenant/surface directory.
 * @param {string} dir
 * @param {string} tenant
 * @param {string} surface
 * @returns {Promise<Summary>}
 */
export async function inspectSurface(dir, tenant, surface) {
  const files = readdirSync(dir).filter((f) => FILE_RE.test(f)).sort();
  const sessions = new Set();
  const users = new Set();
  const items = new Set();
  /** @type {Summary} */
  const sum = {
    tenant, surface, events: 0, invalid: 0, errors: [], days: 0, firstDay: '', lastDay: '',
    busiestDay: '', busiestCount: 0, sessions: 0, users: 0, items: 0,
    withUser: 0, withRequest: 0, withRank: 0, bytes: 0,
  };
  for (const f of files) {
    const day = /** @type {RegExpExecArray} */ (FILE_RE.exec(f))[1];
    const file = path.join(dir, f);
    sum.bytes += statSync(file).size;
    /** @type {NodeJS.ReadableStream} */
    let input = createReadStream(file);
    if (f.endsWith('.gz')) input = input.pipe(createGunzip());
    let n = 0;
    let lineNo = 0;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo++;
      /** @type {string | null} */
      let err = null;
      /** @type {any} */
      let ev;
      try {
        ev = JSON.parse(line);
        err = validateRawEvent(ev);
      } catch {
        err = 'invalid JSON';
      }
      if (!err && (ev.tenant !== tenant || ev.surface !== surface)) err = 'tenant/surface do not match the path';
      if (!err && new Date(Date.parse(ev.ts)).toISOString().slice(0, 10) !== day) err = `UTC day of ts is not ${day}`;
      if (err) {
        sum.invalid++;
        if (sum.errors.length < 10) sum.errors.push(`${file}:${lineNo}: ${err}`);
        continue;
      }
      n++;
      sessions.add(ev.session_id);
      items.add(ev.item_id);
      if (ev.user_id !== undefined) {
        users.add(ev.user_id);
        sum.withUser++;
      }
      if (ev.request_id !== undefined) sum.withRequest++;
      if (ev.rank !== undefined) sum.withRank++;
    }
    sum.events += n;
    if (n > 0) {
      sum.days++;
      if (!sum.firstDay) sum.firstDay = day;
      sum.lastDay = day;
      if (n > sum.busiestCount) {
        sum.busiestCount = n;
        sum.busiestDay = day;
      }
    }
  }
  sum.sessions = sessions.size;
  sum.users = users.size;
  sum.items = items.size;
  return sum;
}

/**
 * Validate and summarize every tenant/surface under a raw directory.
 * @param {string} rawDir
 * @returns {Promise<Summary[]>}
 */
export async function inspectRawDir(rawDir) {
  /** @type {Summary[]} */
  const out = [];
  const subdirs = (/** @type {string} */ d) =>
    readdirSync(d).filter((n) => statSync(path.join(d, n)).isDirectory()).sort();
  for (const tenant of subdirs(rawDir)) {
    for (const surface of subdirs(path.join(rawDir, tenant))) {
      out.push(await inspectSurface(path.join(rawDir, tenant, surface), tenant, surface));
    }
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values, positionals } = parseArgs({
    // `pnpm run x -- --flag` forwards the `--`; drop it.
    args: process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--')),
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const rawDir = positionals[0] ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../apps/cli/sample-data/raw');
  if (!existsSync(rawDir)) {
    process.stderr.write(`inspect: no such directory ${rawDir}\nusage: inspect.mjs RAW_DIR [--json]\n`);
    process.exit(1);
  }
  const sums = await inspectRawDir(rawDir);
  if (values.json) process.stdout.write(JSON.stringify(sums, null, 2) + '\n');
  else {
    for (const s of sums) {
      process.stdout.write(
        `${s.tenant}/${s.surface}: ${s.events} events (${s.invalid} invalid), ${s.days} days ${s.firstDay}..${s.lastDay}, ` +
          `busiest ${s.busiestDay} (${s.busiestCount}), ${s.sessions} sessions, ${s.users} users, ${s.items} items, ` +
          `user_id on ${s.withUser}, request_id on ${s.withRequest}, rank on ${s.withRank}, ${s.bytes} bytes\n`,
      );
      for (const e of s.errors) process.stdout.write(`  ${e}\n`);
    }
  }
  process.exit(sums.some((s) => s.invalid > 0) ? 1 : 0);
}
