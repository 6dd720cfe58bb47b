// A registry with the stories the report must tell, built through the CLI
// with a fixed clock (RECSYS_TEST_NOW) so every age in it is known:
//   demo/home    four published days (ranks move from day to day), one day
//                without data; fresh at NOW (data and manifest a few hours old);
//   demo/search  two published days, a popularity rollback with a reason, then
//                a day blocked by the bad-line gate; stale at NOW (days old);
//   evil/web     item ids that are markup and quotes (user data to escape).
import { join } from 'node:path';
import { expect } from 'vitest';
import { cli, writeConfig, writeRawDay } from './helpers.js';

/** When the report is generated. */
export const NOW = '2026-03-10T06:00:00Z';

/** Item ids that would run or break markup if pasted unescaped. */
export const HOSTILE_IDS = ['<script>window.__pwned=1</script>', `"quoted" & 'single'`, '</title><img src=x onerror="window.__pwned=2">', '<b>bold</b>'];

export const ROLLBACK_REASON = 'bad upstream data: duplicated feed';

function lines(tenant: string, surface: string, day: string, counts: Record<string, number>, extra: { duplicates?: number; broken?: number } = {}): (string | object)[] {
  const out: (string | object)[] = [];
  let second = 0;
  // Exposures of item i spread over 12 sessions, so cooc rows have neighbours.
  for (const [item, n] of Object.entries(counts)) {
    for (let j = 0; j < n; j++) {
      const ts = `${day}T10:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}Z`;
      second++;
      out.push({ v: 1, ts, tenant, surface, session_id: `s${j % 12}`, item_id: item });
    }
  }
  for (let d = 0; d < (extra.duplicates ?? 0); d++) out.push(out[d % out.length]!);
  for (let b = 0; b < (extra.broken ?? 0); b++) out.push(b % 2 === 0 ? '{"v":1,"ts":' : { v: 1, ts: `${day}T11:00:00Z`, tenant, surface, session_id: 'sx', item_id: '   ' });
  return out;
}

const at = (day: string, time = '02:00:00') => `${day}T${time}Z`;

async function run(dir: string, config: string, tenant: string, surface: string, day: string, now: string, expectCode = 0) {
  const r = await cli(['run', '--config', config, '--tenant', tenant, '--surface', surface, '--start', day, '--end', day], { cwd: dir, env: { RECSYS_TEST_NOW: now } });
  expect(r.code, `run ${tenant}/${surface} ${day}: ${r.stderr}`).toBe(expectCode);
}

/**
 * Builds the registry under `<dir>/out` (raw input under `<dir>/raw`) and
 * returns its config file.
 */
export async function prepareReportRegistry(dir: string, configExtra: Record<string, unknown> = {}): Promise<string> {
  const config = writeConfig(dir, { limits: { max_bad_event_ratio: 0.05 }, ...configExtra });
  const raw = join(dir, 'raw');
  const home: Record<string, Record<string, number>> = {
    '2026-03-06': { 'sku-anorak': 40, 'sku-boots': 31, 'sku-cap': 25, 'sku-denim': 18, 'sku-earmuffs': 12, 'sku-fleece': 8 },
    '2026-03-07': { 'sku-boots': 44, 'sku-anorak': 38, 'sku-cap': 20, 'sku-fleece': 19, 'sku-denim': 15, 'sku-gloves': 9 },
    '2026-03-09': { 'sku-boots': 52, 'sku-anorak': 41, 'sku-gloves': 30, 'sku-cap': 22, 'sku-hat': 17, 'sku-denim': 11, 'sku-fleece': 6 },
    '2026-03-08': { 'sku-anorak': 47, 'sku-boots': 45, 'sku-cap': 28, 'sku-denim': 21, 'sku-gloves': 16, 'sku-fleece': 10 },
  };
  for (const [day, counts] of Object.entries(home)) writeRawDay(raw, 'demo', 'home', day, lines('demo', 'home', day, counts, { duplicates: 7, broken: 2 }));
  for (const day of Object.keys(home).sort()) await run(dir, config, 'demo', 'home', day, at(nextDay(day)));

  const search: Record<string, Record<string, number>> = {
    '2026-02-26': { 'q-running': 30, 'q-trail': 22, 'q-hiking': 14, 'q-socks': 9 },
    '2026-02-27': { 'q-socks': 60, 'q-running': 25, 'q-trail': 20, 'q-hiking': 12 },
  };
  for (const [day, counts] of Object.entries(search)) writeRawDay(raw, 'demo', 'search', day, lines('demo', 'search', day, counts, { duplicates: 3 }));
  for (const day of Object.keys(search)) await run(dir, config, 'demo', 'search', day, at(nextDay(day)));
  const rb = await cli(['rollback', '--config', config, '--tenant', 'demo', '--surface', 'search', '--type', 'popularity', '--steps', '1', '--reason', ROLLBACK_REASON], {
    cwd: dir,
    env: { RECSYS_TEST_NOW: at('2026-02-28', '09:30:00') },
  });
  expect(rb.code, rb.stderr).toBe(0);
  // 2026-02-28: a broken feed, far above the bad-line ratio: blocked (exit 3).
  writeRawDay(raw, 'demo', 'search', '2026-02-28', lines('demo', 'search', '2026-02-28', { 'q-running': 20, 'q-trail': 10 }, { broken: 12 }));
  await run(dir, config, 'demo', 'search', '2026-02-28', at('2026-03-01'), 3);

  const evil: Record<string, number> = Object.fromEntries(HOSTILE_IDS.map((id, i) => [id, 20 - i * 3]));
  writeRawDay(raw, 'evil', 'web', '2026-03-09', lines('evil', 'web', '2026-03-09', { ...evil, plain: 5 }));
  await run(dir, config, 'evil', 'web', '2026-03-09', at('2026-03-10'));
  return config;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}
