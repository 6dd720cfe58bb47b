// gc collects the ingest parts (`_parts/<day>/`) of a sharded day only once
// every shard was assembled from them and a published version cites every
// shard partition; before that, or when a part changed since, they stay.
// Afterwards the day's steps still run from the shard partitions.
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SAMPLE_RAW, cli, tempDir, writeConfig, type CliResult } from './helpers.js';

const DAY = ['--tenant', 'diginetica', '--surface', 'web', '--start', '2016-05-31', '--end', '2016-05-31'];
const PARTS = 'out/artifacts/diginetica/web/_parts/2016-05-31';

async function ok(args: string[], cwd: string): Promise<CliResult> {
  const r = await cli(args, { cwd });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

interface GcJson {
  scopes: { deleted_parts?: { day: string; parts: number; objects: number }[] }[];
}
const partsDeleted = (r: CliResult) => (JSON.parse(r.stdout) as GcJson).scopes.flatMap((s) => s.deleted_parts ?? []);

describe('gc of ingest parts', () => {
  test('kept while the day is not published from them (and when a part changed), deleted once it is; the steps still run afterwards', async () => {
    const dir = tempDir('recsys-gcparts-');
    mkdirSync(join(dir, 'raw/diginetica/web'), { recursive: true });
    cpSync(join(SAMPLE_RAW, 'diginetica/web/exposure.2016-05-31.jsonl'), join(dir, 'raw/diginetica/web/exposure.2016-05-31.jsonl'));
    // A rejected line, so the merge writes a quarantine file from the parts' quarantine.
    appendFileSync(join(dir, 'raw/diginetica/web/exposure.2016-05-31.jsonl'), 'not json\n');
    const config = writeConfig(dir, { limits: { max_bad_event_ratio: 0.5 } });
    const c = ['--config', config, ...DAY];
    const gc = (extra: string[] = []) => ok(['gc', '--json', '--config', config, '--keep-versions', '10', ...extra], dir);
    for (let i = 0; i < 2; i++) await ok(['ingest', ...c, '--shard', `${i}/2`], dir);
    // Shard 1 not yet assembled: every part is still needed.
    await ok(['compute', 'popularity', ...c, '--shard', '0/2'], dir);
    expect(partsDeleted(await gc())).toEqual([]);
    await ok(['compute', 'popularity', ...c, '--shard', '1/2'], dir);
    await ok(['merge', 'popularity', ...c], dir);
    // Merged but not published: kept.
    expect(partsDeleted(await gc())).toEqual([]);
    expect(readdirSync(join(dir, PARTS)).sort()).toEqual(['0-of-2', '0-of-2.json', '1-of-2', '1-of-2.json']);
    await ok(['publish', ...c, '--artifacts', 'popularity'], dir);
    // Published, but part 1 was rewritten since its shards were assembled (a re-ingest): kept.
    const report1 = join(dir, PARTS, '1-of-2.json');
    const original = readFileSync(report1, 'utf8');
    writeFileSync(report1, original.replace('"read": ', '"read": 1'));
    expect(readFileSync(report1, 'utf8')).not.toBe(original);
    expect(partsDeleted(await gc())).toEqual([]);
    writeFileSync(report1, original);
    const files = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? files(join(d, e.name)) : 1), 0);
    const objects = files(join(dir, PARTS));
    expect(objects).toBe(7);
    // A dry run names them and deletes nothing.
    expect(partsDeleted(await gc(['--dry-run']))).toEqual([{ day: '2016-05-31', parts: 2, objects, bytes: expect.any(Number) as number }]);
    expect(existsSync(report1)).toBe(true);
    const quarantine = readFileSync(join(dir, 'out/quarantine/diginetica/web/2016-05-31.jsonl'), 'utf8');
    const gone = await gc();
    expect(partsDeleted(gone)).toEqual([{ day: '2016-05-31', parts: 2, objects, bytes: expect.any(Number) as number }]);
    expect(readdirSync(join(dir, PARTS)).filter((n) => n.endsWith('.json') || readdirSync(join(dir, PARTS, n)).length > 0)).toEqual([]);
    expect(partsDeleted(await gc())).toEqual([]);
    // The day's steps run from the shard partitions; the merge keeps the quarantine it wrote.
    for (let i = 0; i < 2; i++) {
      await ok(['validate', ...c, '--shard', `${i}/2`], dir);
      await ok(['compute', 'popularity', ...c, '--shard', `${i}/2`], dir);
    }
    await ok(['merge', 'popularity', ...c], dir);
    expect(readFileSync(join(dir, 'out/quarantine/diginetica/web/2016-05-31.jsonl'), 'utf8')).toBe(quarantine);
  });
});
