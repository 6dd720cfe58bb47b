// The HTML report in a real browser: Debian's chromium driven by
// playwright-core (no browser download). Opens the file from file://, checks
// there are no console errors and no network requests, reads the key
// sections and the stale badge, proves hostile item ids stay text, and keeps
// full-page screenshots at 1280 px and in print emulation under
// apps/cli/test-output/report/ (gitignored) for people to look at.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cli, tempDir } from './helpers.js';
import { HOSTILE_IDS, NOW, ROLLBACK_REASON, prepareReportRegistry } from './report-registry.js';

const EXECUTABLE = process.env.RECSYS_CHROMIUM ?? '/usr/bin/chromium';
const ENSURE = fileURLToPath(new URL('../../../tooling/scripts/ensure-chromium.sh', import.meta.url));
/** Screenshots kept after the run (gitignored). */
export const OUTPUT = fileURLToPath(new URL('../test-output/report/', import.meta.url));

let browser: BrowserContext;
let profile: string;
let reportUrl: string;

/** Every request the page makes other than the report file itself, and every console error. */
interface Observed {
  requests: string[];
  errors: string[];
}

async function openReport(url: string, options: { width?: number; print?: boolean } = {}): Promise<{ page: Page; seen: Observed }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: options.width ?? 1280, height: 900 });
  const seen: Observed = { requests: [], errors: [] };
  page.on('request', (req) => {
    if (req.url() !== url) seen.requests.push(req.url());
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.errors.push(msg.text());
  });
  page.on('pageerror', (err) => seen.errors.push(err.message));
  if (options.print) await page.emulateMedia({ media: 'print' });
  await page.goto(url, { waitUntil: 'load' });
  return { page, seen };
}

beforeAll(async () => {
  // A fresh machine gets chromium here (apt-get as root); .ci/run does the same.
  execFileSync('bash', [ENSURE], { stdio: 'inherit' });
  const dir = tempDir('recsys-report-browser-');
  await prepareReportRegistry(dir);
  const out = join(dir, 'report.html');
  // A relative --config, as a user in that folder would type it (it shows in the rollback commands).
  const r = await cli(['report', '--config', 'config.json', '--days', '7', '--out', out], { cwd: dir, env: { RECSYS_TEST_NOW: NOW } });
  expect(r.code, r.stderr).toBe(0);
  reportUrl = pathToFileURL(out).href;
  mkdirSync(OUTPUT, { recursive: true });
  copyFileSync(out, join(OUTPUT, 'report.html'));
  profile = mkdtempSync(join(tmpdir(), 'recsys-chromium-'));
  mkdirSync(OUTPUT, { recursive: true });
  // A new, empty profile (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: EXECUTABLE,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the HTML report in Chromium', () => {
  test('opens from file:// with no console errors and no network requests', async () => {
    const { page, seen } = await openReport(reportUrl);
    expect(await page.title()).toContain('Recommendation artifacts report');
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([]);
    // Nothing the report could load or run: no scripts, no external resources.
    expect(await page.locator('script, link, img, iframe, object, embed').count()).toBe(0);
    await page.close();
  });

  test('key sections and the badges carry the right values', async () => {
    const { page } = await openReport(reportUrl);
    const summary = page.locator('table.summary-table');
    expect(await summary.locator('tr[data-scope="demo/home"] .badge').innerText()).toContain('FRESH');
    expect(await summary.locator('tr[data-scope="demo/search"] .badge').innerText()).toContain('STALE');
    expect(await page.locator('#summary-h .badge').innerText()).toContain('1 STALE');

    const search = page.locator('section.scope[data-tenant="demo"][data-surface="search"]');
    expect(await search.locator('h2 .badge').getAttribute('data-state')).toBe('stale');
    expect(await search.locator('.freshness .why').innerText()).toMatch(/Why stale:/);
    // The rollback, with its reason, in the popularity timeline.
    const rollback = search.locator('table.timeline[data-key="popularity"] tr[data-reason="rollback"]');
    expect(await rollback.count()).toBe(1);
    expect(await rollback.innerText()).toContain(ROLLBACK_REASON);
    // The blocked day: marked in the chart and in the table, with the gate.
    expect(await search.locator('svg g.day[data-day="2026-02-28"][data-outcome="blocked"] .blocked-label').count()).toBe(1);
    const blockedRow = search.locator('table.ingest tr[data-day="2026-02-28"]');
    expect(await blockedRow.innerText()).toMatch(/blocked\s+max_bad_event_ratio/);
    // The exact rollback command for this surface.
    expect(await search.locator('.rollback pre').first().innerText()).toBe('recsys-pipelines rollback --config config.json --tenant demo --surface search --all --steps 1 --dry-run');

    const home = page.locator('section.scope[data-tenant="demo"][data-surface="home"]');
    expect(await home.locator('h2 .badge').getAttribute('data-state')).toBe('fresh');
    const live = await home.locator('table.live tbody tr').allInnerTexts();
    expect(live.map((t) => t.split('\t')[0])).toEqual(['cooc', 'popularity']);
    expect(live[1]).toMatch(/popularity\t[0-9a-f]{12}\t2026-03-10 02:00 UTC\t2026-03-09\t7\t\d+ B/);
    const top = await home.locator('table.top tbody tr').allInnerTexts();
    expect(top.slice(0, 3).map((t) => t.split('\t').filter((c) => c.trim() !== '').map((c) => c.trim()))).toEqual([
      ['1', 'sku-boots', '52', '▲ 1 (was #2)'],
      ['2', 'sku-anorak', '41', '▼ 1 (was #1)'],
      ['3', 'sku-gloves', '30', '▲ 2 (was #5)'],
    ]);
    expect(await home.locator('table.top tr[data-change="new"]').innerText()).toContain('sku-hat');
    expect(await home.locator('table.neighbors tbody tr').count()).toBe(7);
    expect(await home.locator('table.ingest tbody tr[data-outcome="published"]').count()).toBe(4);
    await page.close();
  });

  test('hostile item ids stay text: no script runs, no element is injected', async () => {
    const { page, seen } = await openReport(reportUrl);
    const evil = page.locator('section.scope[data-tenant="evil"][data-surface="web"]');
    const ids = await evil.locator('table.top tbody th.id').allInnerTexts();
    expect(ids).toEqual([...HOSTILE_IDS, 'plain']);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('b').count()).toBe(0);
    expect(await page.title()).toContain('Recommendation artifacts report');
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([]);
    await page.close();
  });

  test('full-page screenshots at 1280 px and in print emulation (kept as test output)', async () => {
    const screen = await openReport(reportUrl, { width: 1280 });
    // Sensible at 1280 px: nothing wider than the viewport.
    expect(await screen.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await screen.page.screenshot({ path: join(OUTPUT, 'report-1280.png'), fullPage: true });
    // The top of the page, as the tutorial shows it (docs/tutorials/images/report.png is a copy).
    await screen.page.screenshot({ path: join(OUTPUT, 'report-top.png'), clip: { x: 0, y: 0, width: 1280, height: 900 } });
    await screen.page.close();

    const print = await openReport(reportUrl, { width: 794, print: true });
    // A4 at 96 dpi is 794 px wide: the printed layout must fit it.
    expect(await print.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(794);
    await print.page.screenshot({ path: join(OUTPUT, 'report-print.png'), fullPage: true });
    const pdf = await print.page.pdf({ format: 'A4', printBackground: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    await print.page.close();
  });
});
