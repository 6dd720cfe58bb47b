// Determinism: the same events give the same versions whatever the order of
// the input lines, the clock, or the folder; a rerun changes nothing. The
// property runs in process (core's planRun/runPipeline over FsObjectStorage,
// as the CLI wires them) for speed; two cases go through the built binary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { planRun, resolveLimits, runPipeline, silentLogger, type Clock, type PipelineEnv } from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import { readArtifact, runJson, snapshot, tempDir, writeConfig } from './helpers.js';

function envAt(root: string, now: Date): PipelineEnv {
  const area = (name: string) => new FsObjectStorage(join(root, name), { noSync: true });
  const clock: Clock = { now: () => now };
  return {
    areas: { raw: area('raw'), canonical: area('canonical'), quarantine: area('quarantine'), artifacts: area('artifacts'), objects: area('objects'), registry: area('registry'), checkpoints: area('checkpoints') },
    limits: resolveLimits({ max_bad_event_ratio: 1 }),
    clock,
    logger: silentLogger,
    identity: { runId: `run-${now.getTime()}`, host: 'test', user: 'test', tool: { name: 'recsys-pipelines', version: 'test' } },
    sha256: nodeSha256,
  };
}

/** Runs one day in process on `lines`; returns versions and the canonical partition bytes. */
async function runDay(lines: readonly string[], now: Date): Promise<{ versions: Record<string, string>; canonical: string; popularity: unknown; cooc: unknown }> {
  const root = tempDir('recsys-det-');
  mkdirSync(join(root, 'raw/demo/home'), { recursive: true });
  writeFileSync(join(root, 'raw/demo/home/exposure.2026-01-01.jsonl'), lines.join('\n') + '\n');
  const env = envAt(root, now);
  const plan = await planRun(env, { tenant: 'demo', surface: 'home', start: '2026-01-01', end: '2026-01-01', types: ['popularity', 'cooc'] });
  const [day] = await runPipeline(env, plan);
  const uri = (type: string) => day!.artifacts.find((a) => a.type === type)!.uri;
  const strip = (uri: string) => {
    const { build: _build, ...rest } = readArtifact(uri);
    return rest;
  };
  return {
    versions: Object.fromEntries(day!.artifacts.map((a) => [a.type, a.version])),
    canonical: readFileSync(join(root, 'canonical/demo/home/exposures/2026-01-01.jsonl'), 'utf8'),
    popularity: strip(uri('popularity')),
    cooc: strip(uri('cooc')),
  };
}

const itemArb = fc.oneof(fc.constantFrom('A', 'B', 'C', 'D', 'é', '\uffff', '\u{1F600}', 'a<b&c>', 'x\u2028y', '10', '9'), fc.string({ minLength: 1, maxLength: 4 }).filter((s) => s.trim() === s));
const lineArb = fc
  .record({
    session: fc.constantFrom('s1', 's2', 's3', 's4', ' s1 '),
    item: itemArb,
    second: fc.integer({ min: 0, max: 59 }),
    offset: fc.constantFrom('Z', '+01:00', '-00:30'),
    user: fc.option(fc.constantFrom('u1', 'u2', ''), { nil: undefined }),
    rank: fc.option(fc.nat(5), { nil: undefined }),
    junk: fc.constantFrom(false, false, false, false, false, false, true),
  })
  .map(({ session, item, second, offset, user, rank, junk }) => {
    if (junk) return '{"not":"an event"';
    const hour = offset === '+01:00' ? '01' : '00';
    return JSON.stringify({ v: 1, ts: `2026-01-01T${hour}:40:${String(second).padStart(2, '0')}${offset}`, tenant: 'demo', surface: 'home', session_id: session, item_id: item, ...(user !== undefined ? { user_id: user } : {}), ...(rank !== undefined ? { rank } : {}) });
  });
// At least one well-formed event, so the day is never empty.
const linesArb = fc.tuple(fc.array(lineArb, { maxLength: 40 }), itemArb).map(([lines, item]) => [...lines, JSON.stringify({ v: 1, ts: '2026-01-01T12:00:00Z', tenant: 'demo', surface: 'home', session_id: 's1', item_id: item })]);

describe('determinism', () => {
  test('property: shuffled input lines, another clock and another folder give the same versions and payloads', async () => {
    await fc.assert(
      fc.asyncProperty(linesArb.chain((lines) => fc.tuple(fc.constant(lines), fc.shuffledSubarray(lines, { minLength: lines.length, maxLength: lines.length }))), async ([lines, shuffled]) => {
        const a = await runDay(lines, new Date('2026-01-02T00:00:00Z'));
        const b = await runDay(shuffled, new Date('2027-06-15T12:34:56Z'));
        expect(b.versions).toEqual(a.versions);
        expect(b.popularity).toEqual(a.popularity);
        expect(b.cooc).toEqual(a.cooc);
        // The canonical partition follows the input order, but holds the same events.
        expect(b.canonical.split('\n').sort()).toEqual(a.canonical.split('\n').sort());
      }),
      { numRuns: 25 },
    );
  });

  test('property: a rerun of the same day keeps versions, blobs, records and the partition byte-identical', async () => {
    await fc.assert(
      fc.asyncProperty(linesArb, async (lines) => {
        const root = tempDir('recsys-rerun-');
        mkdirSync(join(root, 'raw/demo/home'), { recursive: true });
        writeFileSync(join(root, 'raw/demo/home/exposure.2026-01-01.jsonl'), lines.join('\n'));
        const options = { tenant: 'demo', surface: 'home', start: '2026-01-01', end: '2026-01-01', types: ['popularity', 'cooc'] };
        const env1 = envAt(root, new Date('2026-01-02T00:00:00Z'));
        const [first] = await runPipeline(env1, await planRun(env1, options));
        const before = { objects: snapshot(join(root, 'objects')), canonical: snapshot(join(root, 'canonical')), records: snapshot(join(root, 'registry/records')), manifest: snapshot(join(root, 'registry/current')) };
        const env2 = envAt(root, new Date('2026-01-03T00:00:00Z'));
        const [second] = await runPipeline(env2, await planRun(env2, options));
        expect(second!.artifacts.map((a) => a.version)).toEqual(first!.artifacts.map((a) => a.version));
        expect({ objects: snapshot(join(root, 'objects')), canonical: snapshot(join(root, 'canonical')), records: snapshot(join(root, 'registry/records')), manifest: snapshot(join(root, 'registry/current')) }).toEqual(before);
      }),
      { numRuns: 15 },
    );
  });
});

describe('determinism through the CLI', () => {
  const lines = [
    { s: 's1', i: 'A' }, { s: 's1', i: 'B' }, { s: 's2', i: 'A' }, { s: 's2', i: 'C' }, { s: 's3', i: 'D' },
    { s: 's3', i: 'A' }, { s: 's4', i: 'é' }, { s: 's4', i: 'B' }, { s: 's1', i: 'A' },
  ].map(({ s, i }, n) => JSON.stringify({ v: 1, ts: `2026-01-01T00:00:0${n}Z`, tenant: 'demo', surface: 'home', session_id: s, item_id: i }));

  test.each([
    ['reversed', [...lines].reverse()],
    ['rotated', [...lines.slice(4), ...lines.slice(0, 4)]],
  ])('%s input lines give the same versions', async (_name, reordered) => {
    const versions = [];
    for (const content of [lines, reordered]) {
      const dir = tempDir();
      mkdirSync(join(dir, 'raw/demo/home'), { recursive: true });
      writeFileSync(join(dir, 'raw/demo/home/exposure.2026-01-01.jsonl'), content.join('\n') + '\n');
      const r = await runJson(['--config', writeConfig(dir), '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      versions.push(r.json.days[0]!.artifacts.map((a) => `${a.type}:${a.version}`));
    }
    expect(versions[1]).toEqual(versions[0]);
  });
});
