// End-to-end tests of the five artifact types through the built binary
// (issue #8). Expected artifacts are either computed by hand (tiny demo set)
// or by brute force from the raw files with plain Maps (Diginetica); no
// code of @recsys/core is used to compute expectations.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArtifact, parseManifest, verifyArtifactVersion, type ArtifactV1 } from '@recsys/contracts';

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../sample-data/', import.meta.url));
const ALL = 'popularity,cooc,implicit,session_seq,content_sim';

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-artifacts-'));
  temps.push(dir);
  return dir;
}

function cli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, RECSYS_LOG_LEVEL: 'warn' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface DayJson {
  day: string;
  artifacts: { type: string; key: string; version: string; uri: string }[];
  manifest_uri: string;
}

function runJson(cwd: string, ...args: string[]): { days: DayJson[]; manifest_uri: string } {
  const r = cli(cwd, 'run', '--json', ...args);
  expect(r.stderr).not.toContain('"level":50');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { days: DayJson[]; manifest_uri: string };
}

const readUri = (uri: string) => readFileSync(fileURLToPath(uri), 'utf8');
const blob = (uri: string): ArtifactV1 => parseArtifact(JSON.parse(readUri(uri)));
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** Every manifest pointer resolves to a blob whose content hashes to its version and matches its record. */
async function verifyManifest(cwd: string, tenant: string, surface: string): Promise<Record<string, string>> {
  const manifest = parseManifest(JSON.parse(readFileSync(join(cwd, '.out/registry/current', tenant, surface, 'manifest.json'), 'utf8')));
  for (const [key, uri] of Object.entries(manifest.current)) {
    const text = readUri(uri);
    const artifact = parseArtifact(JSON.parse(text));
    expect(artifact.artifact_type).toBe(key);
    const check = await verifyArtifactVersion(artifact);
    expect(check.ok, `${key}: ${JSON.stringify(check)}`).toBe(true);
    const record = JSON.parse(readFileSync(join(cwd, '.out/registry/records', tenant, surface, key, `${artifact.build.version}.json`), 'utf8')) as { sha256: string; uri: string };
    expect(record.uri).toBe(uri);
    expect(record.sha256).toBe(createHash('sha256').update(text).digest('hex'));
  }
  return manifest.current;
}

type Rows = { user_id: string; items: { item_id: string; score: number }[] }[];
interface RawEvent {
  ts: string;
  item_id: string;
  user_id?: string;
}

/** The day's accepted events in canonical order: raw file order, exact duplicate lines dropped. */
function rawDay(tenant: string, surface: string, day: string): RawEvent[] {
  const seen = new Set<string>();
  const out: RawEvent[] = [];
  for (const line of readFileSync(join(SAMPLE, 'raw', tenant, surface, `exposure.${day}.jsonl`), 'utf8').split('\n')) {
    if (line.trim() === '' || seen.has(line)) continue;
    seen.add(line);
    out.push(JSON.parse(line) as RawEvent);
  }
  return out;
}

function toRows(perUser: Map<string, Map<string, number>>): Rows {
  return [...perUser]
    .filter(([, m]) => m.size > 0)
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([user_id, m]) => ({
      user_id,
      items: [...m]
        .sort(([a, x], [b, y]) => y - x || byteOrder(a, b))
        .slice(0, 200)
        .map(([item_id, score]) => ({ item_id, score })),
    }));
}

function bruteImplicit(events: RawEvent[]): Rows {
  const perUser = new Map<string, Map<string, number>>();
  for (const e of events) {
    if (!e.user_id) continue;
    const m = perUser.get(e.user_id) ?? new Map<string, number>();
    m.set(e.item_id, (m.get(e.item_id) ?? 0) + 1);
    perUser.set(e.user_id, m);
  }
  return toRows(perUser);
}

function bruteSessionSeq(events: RawEvent[]): Rows {
  const byUser = new Map<string, RawEvent[]>();
  for (const e of events) if (e.user_id) byUser.set(e.user_id, [...(byUser.get(e.user_id) ?? []), e]);
  const perUser = new Map<string, Map<string, number>>();
  for (const [user, list] of byUser) {
    // Raw ts here are all UTC with the same fraction length, so Date.parse is exact; sort is stable (ties keep file order).
    const sorted = [...list].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    const m = new Map<string, number>();
    for (const e of sorted.slice(1)) m.set(e.item_id, (m.get(e.item_id) ?? 0) + 1);
    perUser.set(user, m);
  }
  return toRows(perUser);
}

describe('run --artifacts with all five types', () => {
  it('publishes all five on Diginetica with the bundled sample data; the manifest has five keys that verify', async () => {
    const cwd = tempDir();
    // The embedded default's inputs, with the row cap lifted explicitly: the brute-force expectations
    // below are the whole catalog (the default max_items_per_artifact is now Go's 1000).
    writeFileSync(
      join(cwd, 'config.json'),
      JSON.stringify({ out_dir: './.out', raw_events_dir: join(SAMPLE, 'raw'), catalog: { path: join(SAMPLE, 'catalog/{tenant}.csv') }, limits: { max_items_per_artifact: 1_000_000 } }),
    );
    const out = runJson(cwd, '--config', join(cwd, 'config.json'), '--artifacts', ALL, '--tenant', 'diginetica', '--surface', 'web', '--start', '2016-05-31', '--end', '2016-05-31');
    expect(out.days[0]!.artifacts.map((a) => a.key)).toEqual(ALL.split(','));
    const current = await verifyManifest(cwd, 'diginetica', 'web');
    expect(Object.keys(current).sort()).toEqual(ALL.split(',').sort());
    // …and the operator's `verify` command agrees: every pointer, record and history entry is clean.
    const verify = cli(cwd, 'verify', '--tenant', 'diginetica', '--surface', 'web', '--json');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout).ok).toBe(true);

    // content_sim = the bundled catalog (no quoting in it), every row namespace "web".
    const catalogLines = readFileSync(join(SAMPLE, 'catalog/diginetica.csv'), 'utf8').trim().split('\n');
    expect(catalogLines[0]).toBe('item_id,tags,namespace,tags_origin');
    const expected = catalogLines
      .slice(1)
      .map((l) => l.split(','))
      .map(([item_id, tags]) => ({ item_id: item_id!, tags: tags!.split('|') }))
      .sort((a, b) => byteOrder(a.item_id, b.item_id));
    const contentSim = blob(current.content_sim!);
    expect(contentSim.artifact_type === 'content_sim' && contentSim.items).toEqual(expected);

    const events = rawDay('diginetica', 'web', '2016-05-31');
    const implicit = blob(current.implicit!);
    expect(implicit.artifact_type === 'implicit' && implicit.users).toEqual(bruteImplicit(events));
  });

  it('demo tiny set: hand-computed artifacts; popularity and cooc versions unchanged', async () => {
    const cwd = tempDir();
    runJson(cwd, '--artifacts', ALL, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01');
    const current = await verifyManifest(cwd, 'demo', 'home');
    expect(current.popularity).toContain('0ef6b7852e97aaed1d3e2eb1e564bff91a93f02555359dbaf8d1c90cb2c5b3a9');
    expect(current.cooc).toContain('b705f3235774c7c07599a4521ef7cbbdd3beeab82993e0f1dea3a60c856ea7d7');
    // Pinned so a change in ordering or serialisation of the new types shows up as a version change.
    expect(current.implicit).toContain('1a64e5bc1bd0739f1e0983a7f1353deb042c82c6b57ec64a9f94cfc486b01fb3');
    expect(current.session_seq).toContain('9e176176f0247d3a0f9e10cc5ee28642b9a4591517e3fbf28c13bc8522820f2c');
    expect(current.content_sim).toContain('504218da454b62c0a60cef8633ab6d378d550740954445fcc78ce08a52d7024a');
    const payload = (key: string) => {
      const { v: _v, artifact_type: _t, tenant: _te, surface: _s, segment: _sg, window: _w, build: _b, ...rest } = blob(current[key]!);
      return rest;
    };
    // u1: A(00:01) → B(00:02); u2: A(00:03) → C(00:04) → D(00:05).
    expect(payload('implicit')).toEqual({
      users: [
        { user_id: 'u1', items: [{ item_id: 'A', score: 1 }, { item_id: 'B', score: 1 }] },
        { user_id: 'u2', items: [{ item_id: 'A', score: 1 }, { item_id: 'C', score: 1 }, { item_id: 'D', score: 1 }] },
      ],
    });
    expect(payload('session_seq')).toEqual({
      users: [
        { user_id: 'u1', items: [{ item_id: 'B', score: 1 }] },
        { user_id: 'u2', items: [{ item_id: 'C', score: 1 }, { item_id: 'D', score: 1 }] },
      ],
    });
    // sample-data/catalog/demo.csv: E is namespace "search"; tags lower-cased, trimmed, de-duplicated.
    expect(payload('content_sim')).toEqual({
      items: [
        { item_id: 'A', tags: ['red', 'sale'] },
        { item_id: 'B', tags: ['blue', 'summer'] },
        { item_id: 'C', tags: ['green', 'sale'] },
        { item_id: 'D', tags: ['red', 'blue'] },
      ],
    });
  });

  it('Diginetica, 27 days: implicit and session_seq equal the brute-force reference every day', () => {
    const cwd = tempDir();
    const out = runJson(cwd, '--artifacts', 'implicit,session_seq', '--tenant', 'diginetica', '--surface', 'web', '--start', '2016-02-21', '--end', '2016-03-18');
    expect(out.days).toHaveLength(27);
    let users = 0;
    for (const day of out.days) {
      const events = rawDay('diginetica', 'web', day.day);
      const [implicit, seq] = day.artifacts.map((a) => blob(a.uri));
      expect(implicit!.artifact_type === 'implicit' && implicit!.users, day.day).toEqual(bruteImplicit(events));
      expect(seq!.artifact_type === 'session_seq' && seq!.users, day.day).toEqual(bruteSessionSeq(events));
      users += bruteImplicit(events).length;
    }
    expect(users).toBeGreaterThan(400); // the window really exercises many users
  });
});

describe('selection, catalog config and failures', () => {
  const config = (dir: string, extra: Record<string, unknown>) => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ raw_events_dir: join(SAMPLE, 'raw'), out_dir: join(dir, '.out'), ...extra }));
    return file;
  };
  const demoDay = ['--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'];

  it('config artifact_kinds selects the types; catalog.path is relative to the config folder (JSONL)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'items.jsonl'), '{"item_id":"A","tags":["x"," X ","y"]}\n{"item_id":"Z","tags":["z"],"namespace":"home"}\n{"item_id":"Q","tags":["q"],"namespace":"other"}\n');
    const file = config(dir, { artifact_kinds: ['implicit', 'content_sim'], catalog: { path: 'items.jsonl' } });
    runJson(tempDir(), '--config', file, ...demoDay);
    const current = await verifyManifest(dir, 'demo', 'home');
    expect(Object.keys(current).sort()).toEqual(['content_sim', 'implicit']);
    const cs = blob(current.content_sim!);
    expect(cs.artifact_type === 'content_sim' && cs.items).toEqual([
      { item_id: 'A', tags: ['x', 'y'] },
      { item_id: 'Z', tags: ['z'] },
    ]);
  });

  it('session_seq orders by instant across fraction lengths and breaks ties by input order', async () => {
    const dir = tempDir();
    const line = (ts: string, item: string, user: string) => JSON.stringify({ v: 1, ts, tenant: 't', surface: 's', session_id: 'x', item_id: item, user_id: user });
    const raw = join(dir, 'raw');
    mkdirSync(join(raw, 't/s'), { recursive: true });
    writeFileSync(
      join(raw, 't/s/exposure.2026-01-01.jsonl'),
      [
        line('2026-01-01T00:00:02.000Z', 'Q', 'u1'), // same instant as the next line: file order decides, Q first
        line('2026-01-01T00:00:02Z', 'R', 'u1'),
        line('2026-01-01T00:00:01.5Z', 'L', 'u2'), // later than the next line although it sorts first as text
        line('2026-01-01T00:00:01Z', 'F', 'u2'),
      ].join('\n') + '\n',
    );
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ raw_events_dir: raw, out_dir: join(dir, '.out') }));
    runJson(dir, '--config', join(dir, 'c.json'), '--artifacts', 'session_seq', '--tenant', 't', '--surface', 's', '--start', '2026-01-01', '--end', '2026-01-01');
    const seq = blob((await verifyManifest(dir, 't', 's')).session_seq!);
    expect(seq.artifact_type === 'session_seq' && seq.users).toEqual([
      { user_id: 'u1', items: [{ item_id: 'R', score: 1 }] },
      { user_id: 'u2', items: [{ item_id: 'L', score: 1 }] },
    ]);
  });

  it('max_users_per_run trips with exit 4 and nothing is published', () => {
    const dir = tempDir();
    const r = cli(dir, 'run', '--config', config(dir, { limits: { max_users_per_run: 1 } }), '--artifacts', 'popularity,implicit', ...demoDay);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('max_users_per_run');
    expect(r.stderr).toContain('observed 2, allowed 1');
    expect(existsSync(join(dir, '.out/registry/current/demo/home/manifest.json'))).toBe(false);
  });

  it('malformed catalog rows block publishing (exit 3) with their line numbers', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.csv'), 'item_id,tags\nA,a\nB,"b\nC,c,extra\n');
    const r = cli(dir, 'run', '--config', config(dir, {}), '--artifacts', 'popularity,content_sim', '--catalog', 'bad.csv', ...demoDay);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('catalog_bad_ratio');
    expect(r.stderr).toContain('line 3: bad_quoting');
    expect(existsSync(join(dir, '.out/registry/current/demo/home/manifest.json'))).toBe(false);
    // Within the ratio the bad row is skipped and reported in the run result.
    const ok = cli(dir, 'run', '--json', '--config', config(dir, { limits: { max_bad_event_ratio: 0.5 } }), '--artifacts', 'content_sim', '--catalog', 'bad.csv', ...demoDay);
    expect(ok.code, ok.stderr).toBe(0);
    const catalog = (JSON.parse(ok.stdout) as { days: { catalog: { rows: number; malformed: number; problems: { line: number; reason: string }[] } }[] }).days[0]!.catalog;
    expect(catalog).toMatchObject({ rows: 2, malformed: 1, problems: [{ line: 3, reason: 'bad_quoting' }] });
  });

  it.each([
    ['no catalog configured', [] as string[], 'needs an item catalog'],
    ['missing --catalog file', ['--catalog', 'nope.csv'], 'cannot read'],
    ['unknown extension', ['--catalog', 'items.txt'], '--catalog-format'],
    ['bad --catalog-format', ['--catalog', 'items.txt', '--catalog-format', 'xml'], 'csv, jsonl'],
  ])('usage errors exit 2: %s', (_name, flags, message) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'items.txt'), 'item_id,tags\nA,a\n');
    const r = cli(dir, 'run', '--config', config(dir, {}), '--artifacts', 'content_sim', ...flags, ...demoDay);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('--catalog-format reads a file whose extension says nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'items.txt'), 'id,tag_list\nA,"One,TWO"\n');
    runJson(dir, '--config', config(dir, {}), '--artifacts', 'content_sim', '--catalog', 'items.txt', '--catalog-format', 'csv', ...demoDay);
    const cs = blob((await verifyManifest(dir, 'demo', 'home')).content_sim!);
    expect(cs.artifact_type === 'content_sim' && cs.items).toEqual([{ item_id: 'A', tags: ['one', 'two'] }]);
  });
});
