// Property: a sharded run (ingest --shard i/n + compute --shard i/n for every
// shard, then merge) stages byte-identical artifacts to the single-process
// `run`, for random event sets, random result-shaping limits and
// n ∈ {1, 2, 3, 7}. Core is called in process over FsObjectStorage in temp
// folders (the same code the CLI runs, minus process start-up), with a fixed
// clock so built_at matches too.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  RecsysError,
  computeJob,
  ingestJob,
  mergeJob,
  planJob,
  planRun,
  resolveLimits,
  runPipeline,
  silentLogger,
  type LimitsConfig,
  type PipelineEnv,
  type StorageAreas,
} from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import { nodeCrc32 } from '@recsys/runtime-node';
import { tempDir } from './helpers.js';

const DAY = '2026-03-04';
const NOW = new Date('2026-03-05T01:02:03Z');
const TYPES = ['popularity', 'cooc'];

/** Reads in pieces of 1–61 bytes, so that the buckets' blocks, their parts and their lines span read chunks. */
class SmallChunks extends FsObjectStorage {
  override async read(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const stream = await super.read(key);
    if (!stream) return undefined;
    return (async function* () {
      let size = 1;
      for await (const chunk of stream) for (let at = 0; at < chunk.length; at += size, size = ((size * 7) % 61) + 1) yield chunk.subarray(at, at + size);
    })();
  }
}

function areasUnder(root: string, rawDir: string): StorageAreas {
  const at = (name: string) => new FsObjectStorage(join(root, name), { noSync: true });
  return {
    raw: new FsObjectStorage(rawDir, { noSync: true }),
    canonical: at('canonical'),
    quarantine: at('quarantine'),
    artifacts: new SmallChunks(join(root, 'artifacts'), { noSync: true }),
    objects: at('objectstore'),
    registry: at('registry'),
    checkpoints: at('checkpoints'),
  };
}

function envFor(root: string, rawDir: string, limits: LimitsConfig): PipelineEnv {
  return {
    areas: areasUnder(root, rawDir),
    limits: resolveLimits(limits),
    clock: { now: () => NOW },
    logger: silentLogger,
    identity: { runId: 'prop', host: 'test', user: 'test', tool: { name: 'recsys-pipelines', version: 'test' } },
    sha256: nodeSha256,
  };
}

/** The staged artifacts (blob bytes and marker) of the day, by type. */
function stagedFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const type of TYPES) {
    const dir = join(root, 'artifacts/t/s/default', type, '2026-03-04_2026-03-05');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => !n.endsWith('.meta.json')).sort()) out[`${type}/${name}`] = readFileSync(join(dir, name), 'utf8');
  }
  return out;
}

/** Outcome of a pipeline: the error kind/limit/gate, or the staged files. */
async function outcome(body: () => Promise<void>, root: string): Promise<{ error: string } | { staged: Record<string, string> }> {
  try {
    await body();
  } catch (error) {
    if (!RecsysError.isInstance(error)) throw error;
    const detail = (error.context.limit ?? error.context.gate ?? '') as string;
    return { error: `${error.kind}:${detail}` };
  }
  return { staged: stagedFiles(root) };
}

const SESSIONS = ['s1', 's2', 's3', 's4', 's5', 's6', 'sess-é', 'ß😀', 'x y', '7'];
const ITEMS = ['A', 'B', 'C', 'D', 'E', 'F', 'é', 'Z', 'a<b', '😀', '\u2028'];

const rawLine = fc.oneof(
  { weight: 20, arbitrary: fc.record({ s: fc.constantFrom(...SESSIONS), i: fc.constantFrom(...ITEMS), sec: fc.integer({ min: 0, max: 86_399 }), user: fc.option(fc.constantFrom('u1', 'u2'), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.constant('not json') },
  { weight: 1, arbitrary: fc.record({ s: fc.constantFrom(...SESSIONS), i: fc.constantFrom(...ITEMS), sec: fc.constant(90_000), user: fc.constant(undefined) }) },
);

function lineText(l: string | { s: string; i: string; sec: number; user: string | undefined }): string {
  if (typeof l === 'string') return l;
  const ts = new Date(Date.parse(`${DAY}T00:00:00Z`) + l.sec * 1000).toISOString().replace('.000Z', 'Z');
  return JSON.stringify({ v: 1, ts, tenant: 't', surface: 's', session_id: l.s, item_id: l.i, ...(l.user ? { user_id: l.user } : {}) });
}

const limitsArb = fc.record({
  min_cooc_support: fc.constantFrom(1, 2, 3),
  max_neighbors_per_item: fc.constantFrom(1, 2, 3, 100),
  max_items_per_artifact: fc.constantFrom(1, 3, 5, 0),
  max_items_per_session: fc.constantFrom(4, 1000, 1000),
  max_bad_event_ratio: fc.constant(1),
});

describe('sharded ingest + compute → merge equals the single-process run', () => {
  test('byte-identical staged artifacts for n ∈ {1, 2, 3, 7}', async () => {
    let cases = 0;
    let successes = 0;
    let repeatedPairs = 0;
    let withRejects = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 1, arbitrary: fc.array(rawLine, { maxLength: 3 }) }, { weight: 9, arbitrary: fc.array(rawLine, { minLength: 10, maxLength: 80, size: 'max' }) }), fc.constantFrom(1, 2, 3, 7), limitsArb, fc.integer({ min: 0, max: 3 }), async (lines, n, limits, flat) => {
        cases++;
        const dir = tempDir('recsys-shard-prop-');
        const rawDir = join(dir, 'raw');
        mkdirSync(join(rawDir, 't/s'), { recursive: true });
        // Duplicate a few lines: ingest removes exact duplicates in both modes.
        const text = [...lines, ...lines.slice(0, 3)].map(lineText);
        // Sometimes a second raw object (the flat exposure.jsonl, read after the day's file), so the ingest
        // tasks divide whole objects as well as byte ranges of one.
        const cut = flat === 0 ? Math.floor(text.length / 2) : text.length;
        writeFileSync(join(rawDir, 't/s', `exposure.${DAY}.jsonl`), text.slice(0, cut).map((l) => l + '\n').join(''));
        if (cut < text.length) writeFileSync(join(rawDir, 'exposure.jsonl'), text.slice(cut).map((l) => l + '\n').join(''));

        const single = join(dir, 'single');
        const singleEnv = envFor(single, rawDir, limits);
        const expected = await outcome(async () => {
          const plan = await planRun(singleEnv, { tenant: 't', surface: 's', start: DAY, end: DAY, types: TYPES });
          await runPipeline(singleEnv, plan);
        }, single);

        const sharded = join(dir, 'sharded');
        const shardedEnv = envFor(sharded, rawDir, limits);
        const actual = await outcome(async () => {
          const window = { tenant: 't', surface: 's', start: DAY, end: DAY };
          // Every ingest task reads its part of the raw input, then every compute task reads its bucket of each part.
          // The ingest tasks checksum their buckets with the runtime's CRC-32 (zlib's), the compute tasks check them with
          // core's portable one (the environment names none): the same values.
          const ingestEnv = { ...shardedEnv, crc32: nodeCrc32 };
          for (let index = 0; index < n; index++) await ingestJob(ingestEnv, await planJob(ingestEnv, 'ingest', { ...window, shard: { index, count: n } }));
          for (let index = 0; index < n; index++) await computeJob(shardedEnv, await planJob(shardedEnv, 'compute', { ...window, shard: { index, count: n }, types: TYPES }));
          await mergeJob(shardedEnv, await planJob(shardedEnv, 'merge', { ...window, types: TYPES, shardCount: n }));
        }, sharded);

        expect(actual).toEqual(expected);
        if ('staged' in expected) {
          successes++;
          expect(Object.keys(expected.staged)).toHaveLength(6); // per type: the staged blob, its built_at claim and its marker
          if (Object.entries(expected.staged).some(([k, v]) => k.startsWith('cooc/') && /"count": ?[2-9]/.test(v))) repeatedPairs++;
          // The shard partitions hold exactly the events of the full partition, each once.
          // (Every line, empty ones too: a partition is its lines, each ending in a newline.)
          const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
          const full = linesOf(join(single, 'canonical/t/s/exposures', `${DAY}.jsonl`)).sort();
          const parts = Array.from({ length: n }, (_, i) => linesOf(join(sharded, 'canonical/t/s/exposures', `${DAY}.shard-${i}-of-${n}.jsonl`))).flat().sort();
          expect(parts).toEqual(full);
          // Each shard's ingest report names its partition's SHA-256 and size (taken from the fs writer, which hashes anyway).
          for (let i = 0; i < n; i++) {
            const partition = readFileSync(join(sharded, 'canonical/t/s/exposures', `${DAY}.shard-${i}-of-${n}.jsonl`));
            const report = JSON.parse(readFileSync(join(sharded, 'artifacts/t/s/_ingest', `${DAY}.shard-${i}-of-${n}.json`), 'utf8')) as { canonical: { sha256: string; bytes: number } };
            expect(report.canonical).toMatchObject({ sha256: createHash('sha256').update(partition).digest('hex'), bytes: partition.length });
          }
          // Each part report names its buckets' CRC-32 and size.
          for (let i = 0; i < n; i++) {
            const report = JSON.parse(readFileSync(join(sharded, 'artifacts/t/s/_parts', DAY, `${i}-of-${n}.json`), 'utf8')) as { buckets: { key: string; bytes: number; crc32: string }[] };
            for (const b of report.buckets) {
              const data = readFileSync(join(sharded, 'artifacts', b.key));
              expect(b).toMatchObject({ crc32: zlibCrc32(data).toString(16).padStart(8, '0'), bytes: data.length });
            }
          }
          // The merge writes the day's quarantine from the ingest parts: the very bytes of the single process.
          const quarantine = (root: string) => {
            try {
              return readFileSync(join(root, 'quarantine/t/s', `${DAY}.jsonl`), 'utf8');
            } catch {
              return undefined;
            }
          };
          expect(quarantine(sharded)).toBe(quarantine(single));
          if (quarantine(single) !== undefined) withRejects++;
        }
      }),
      { numRuns: 60 },
    );
    // The property must exercise both outcomes, mostly successful runs.
    expect(cases).toBe(60);
    expect(successes).toBeGreaterThan(30);
    // …and pairs seen in several sessions (possibly in different shards), whose counts the merge must sum.
    expect(repeatedPairs).toBeGreaterThan(15);
    expect(withRejects).toBeGreaterThan(5);
  });
});

const DAYS3 = ['2026-03-02', '2026-03-03', DAY];

/** The staged artifacts of the 3-day window ending with DAY, by type. */
function stagedWindowFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const type of TYPES) {
    const dir = join(root, 'artifacts/t/s/default', type, '2026-03-02_2026-03-05');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => !n.endsWith('.meta.json')).sort()) out[`${type}/${name}`] = readFileSync(join(dir, name), 'utf8');
  }
  return out;
}

describe('rolling windows: run ≡ job steps ≡ sharded merge', () => {
  test('byte-identical staged window artifacts (3 days, window_days 3) for n ∈ {1, 2, 3}', async () => {
    let successes = 0;
    let multiDay = 0;
    await fc.assert(
      fc.asyncProperty(fc.tuple(...DAYS3.map(() => fc.array(rawLine, { minLength: 5, maxLength: 40 }))), fc.constantFrom(1, 2, 3), limitsArb, async (perDay, n, limits) => {
        const dir = tempDir('recsys-window-prop-');
        const rawDir = join(dir, 'raw');
        mkdirSync(join(rawDir, 't/s'), { recursive: true });
        DAYS3.forEach((day, k) => {
          const text = perDay[k]!.map((l) => (typeof l === 'string' ? l : lineText(l).replace(`"ts":"${DAY}`, `"ts":"${day}`)));
          writeFileSync(join(rawDir, 't/s', `exposure.${day}.jsonl`), text.map((l) => l + '\n').join(''));
        });
        const range = { tenant: 't', surface: 's', start: DAYS3[0]!, end: DAY };
        const runRoot = join(dir, 'run');
        const runEnv = envFor(runRoot, rawDir, limits);
        const expected = await outcome(async () => {
          await runPipeline(runEnv, await planRun(runEnv, { ...range, types: TYPES, windowDays: 3, skipEmptyDays: true }));
        }, runRoot).then((o) => ('staged' in o ? { staged: stagedWindowFiles(runRoot) } : o));
        if (!('staged' in expected)) return;

        const stepsRoot = join(dir, 'steps');
        const stepsEnv = envFor(stepsRoot, rawDir, limits);
        for (const day of DAYS3) {
          const one = { tenant: 't', surface: 's', start: day, end: day };
          await ingestJob(stepsEnv, await planJob(stepsEnv, 'ingest', one));
          try {
            await computeJob(stepsEnv, await planJob(stepsEnv, 'compute', { ...one, types: TYPES, windowDays: 3 }));
          } catch (error) {
            // A day the run skipped (no events): nothing to compute.
            if (!RecsysError.isInstance(error)) throw error;
          }
        }
        expect(stagedWindowFiles(stepsRoot)).toEqual(expected.staged);

        const shardRoot = join(dir, 'sharded');
        const shardEnv = envFor(shardRoot, rawDir, limits);
        for (const day of DAYS3) {
          const one = { tenant: 't', surface: 's', start: day, end: day };
          for (let index = 0; index < n; index++) await ingestJob(shardEnv, await planJob(shardEnv, 'ingest', { ...one, shard: { index, count: n } }));
          for (let index = 0; index < n; index++) await computeJob(shardEnv, await planJob(shardEnv, 'compute', { ...one, shard: { index, count: n }, types: TYPES }));
          try {
            await mergeJob(shardEnv, await planJob(shardEnv, 'merge', { ...one, types: TYPES, shardCount: n, windowDays: 3 }));
          } catch (error) {
            if (!RecsysError.isInstance(error)) throw error;
          }
        }
        expect(stagedWindowFiles(shardRoot)).toEqual(expected.staged);
        successes++;
        if (DAYS3.filter((_, k) => perDay[k]!.some((l) => typeof l !== 'string')).length > 1) multiDay++;
      }),
      { numRuns: 25 },
    );
    expect(successes).toBeGreaterThan(10);
    expect(multiDay).toBeGreaterThan(5);
  });
});
