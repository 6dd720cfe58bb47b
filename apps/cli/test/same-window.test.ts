// Two `run`s of the same window at once (a duplicated cron run, a Kubernetes
// retry while the first pod lives), as separate processes on one output
// folder (issue 11 items 2 and 11). They compute the same versions with
// different built_at (the second starts a little over a second later); both
// must exit 0 with the same versions, the manifest must serve blobs whose
// bytes match their records, and `verify` must be clean — every round.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parseVersionRecord } from '@recsys/contracts';
import { cli, readManifest, runJson, tempDir, writeConfig, writeRawDay } from './helpers.js';

const ROUNDS = 8;
const DAY = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-03', '--end', '2026-01-03'];

/** 30k events in 6k sessions over 800 items, so that a run takes a moment and cooc is not tiny. */
function dayLines(): object[] {
  const lines: object[] = [];
  for (let s = 0; s < 6000; s++) {
    for (let k = 0; k < 5; k++) {
      const second = (s * 5 + k) % 86_400;
      const ts = `2026-01-03T${String(Math.floor(second / 3600)).padStart(2, '0')}:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}Z`;
      lines.push({ v: 1, ts, tenant: 'demo', surface: 'home', session_id: `s${s}`, item_id: `item-${(s * 31 + k * 17) % 800}` });
    }
  }
  return lines;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('two runs of the same window at once (filesystem)', () => {
  test(`${ROUNDS} rounds: both runs succeed with one version per type whose bytes, sha256 and records agree`, { timeout: 1_200_000 }, async () => {
    const lines = dayLines();
    const figures = { rounds: 0, both_ok: 0, one_found_the_others_blob: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const dir = tempDir('recsys-same-window-');
      const config = writeConfig(dir);
      writeRawDay(join(dir, 'raw'), 'demo', 'home', '2026-01-03', lines);
      const first = runJson(['--config', config, ...DAY], { cwd: dir });
      // A little over a second later: a different built_at (second precision), still overlapping the first.
      await new Promise((resolve) => setTimeout(resolve, 1100 + round * 50));
      const second = runJson(['--config', config, ...DAY], { cwd: dir });
      const [a, b] = await Promise.all([first, second]);
      const where = `round ${round} in ${dir}`;
      expect(a.code, `${where}: first run: ${a.stderr}`).toBe(0);
      expect(b.code, `${where}: second run: ${b.stderr}`).toBe(0);
      const versions = (r: typeof a) => Object.fromEntries(r.json.days[0]!.artifacts.map((x) => [x.key, x.version]));
      expect(versions(b), where).toEqual(versions(a));
      const manifest = readManifest(join(dir, 'out/registry'), 'demo', 'home')!;
      for (const [key, uri] of Object.entries(manifest.current)) {
        const blob = readFileSync(fileURLToPath(uri));
        const record = parseVersionRecord(JSON.parse(readFileSync(join(dir, 'out/registry/records/demo/home', key, `${versions(a)[key]}.json`), 'utf8')));
        expect(record.sha256, `${where}: ${key}`).toBe(sha256(blob));
        expect(record.size_bytes, `${where}: ${key}`).toBe(blob.byteLength);
        expect(uri.endsWith(`/${versions(a)[key]}.json`), where).toBe(true);
      }
      const verify = await cli(['verify', '--config', config], { cwd: dir });
      expect(verify.code, `${where}: ${verify.stdout}${verify.stderr}`).toBe(0);
      figures.rounds++;
      figures.both_ok++;
      // The second run adopted the first one's built_at (the claim), so both published the same bytes.
      const claim = JSON.parse(readFileSync(join(dir, 'out/artifacts/demo/home/default/popularity/2026-01-03_2026-01-04', `${versions(a).popularity}.claim.json`), 'utf8')) as { built_at: string };
      if (a.json.days[0]!.artifacts.some((x) => !x.new_blob) || b.json.days[0]!.artifacts.some((x) => !x.new_blob)) figures.one_found_the_others_blob++;
      expect(claim.built_at, where).toMatch(/^2\d{3}-/);
    }
    console.log(JSON.stringify({ same_window_fs: figures }));
    expect(figures.both_ok).toBe(ROUNDS);
  });
});
