// A cooc blob larger than V8's longest string (~512 MiB) — realistic for a
// 100k-item catalog — must not make `verify` report it corrupt, `rollback`
// refuse it, or `gc` fail: each checks blobs as streams, in bounded memory.
// The commands run with a 256 MiB heap, less than half the blob.
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { afterAll, describe, expect, test } from 'vitest';
import type { VersionRecordV1 } from '@recsys/contracts';
import { Registry, keys } from '@recsys/core';
import { FsObjectStorage } from '@recsys/storage-fs';
import { cli, copyTiny, readManifest, tempDir, writeConfig } from './helpers.js';

const SCOPE = { tenant: 'demo', surface: 'home' };
const HEAP = ['--max-old-space-size=256'];
const REPORT_RSS = fileURLToPath(new URL('./fixtures/report-rss.mjs', import.meta.url));
/** Rows × neighbours of the generated cooc: ~640 MiB pretty-printed. */
const ROWS = 80_000;
const PER_ROW = 100;
const window = { start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' };

const dirs: string[] = [];
afterAll(() => {
  // The blob is large: remove it as soon as this file is done, not at the end of the whole run.
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const id = (k: number) => `item-${String(k).padStart(7, '0')}`;

/**
 * Streams a valid cooc artifact to `path` (pretty-printed, as published)
 * while hashing its canonical compact form: the version is known only at
 * the end, where `build` is written. Never holds more than a few MiB.
 */
async function writeBigCooc(path: string): Promise<{ version: string; sha256: string; size: number }> {
  const out = createWriteStream(path);
  const canon = createHash('sha256');
  const stored = createHash('sha256');
  let size = 0;
  const write = async (s: string) => {
    const b = Buffer.from(s, 'utf8');
    stored.update(b);
    size += b.length;
    if (!out.write(b)) await once(out, 'drain');
  };
  const head = `{"v":1,"artifact_type":"cooc","tenant":"demo","surface":"home","segment":"default","window":{"start":"${window.start}","end":"${window.end}"},"neighbors":[`;
  canon.update(head);
  await write(`{\n  "v": 1,\n  "artifact_type": "cooc",\n  "tenant": "demo",\n  "surface": "home",\n  "segment": "default",\n  "window": {\n    "start": "${window.start}",\n    "end": "${window.end}"\n  },\n  "neighbors": [`);
  // Every row has the same neighbours (the contract does not forbid it): building 8M distinct entries would dominate the test's time.
  let itemsCompact = '';
  let itemsPretty = '';
  for (let k = 0; k < PER_ROW; k++) {
    itemsCompact += `${k === 0 ? '' : ','}{"item_id":"${id(k + 1)}","count":${PER_ROW - k}}`;
    itemsPretty += `${k === 0 ? '' : ','}\n        {\n          "item_id": "${id(k + 1)}",\n          "count": ${PER_ROW - k}\n        }`;
  }
  let compact = '';
  let pretty = '';
  for (let r = 0; r < ROWS; r++) {
    const sep = r === 0 ? '' : ',';
    compact += `${sep}{"item_id":"${id(r)}","items":[${itemsCompact}]}`;
    pretty += `${sep}\n    {\n      "item_id": "${id(r)}",\n      "items": [${itemsPretty}\n      ]\n    }`;
    if (pretty.length > 4 << 20) {
      canon.update(compact);
      await write(pretty);
      compact = '';
      pretty = '';
    }
  }
  canon.update(compact + '],"build":{"built_at":"","version":""}}');
  const version = canon.digest('hex');
  await write(`${pretty}\n  ],\n  "build": {\n    "built_at": "2026-01-02T03:00:00Z",\n    "version": "${version}"\n  }\n}`);
  out.end();
  await once(out, 'finish');
  return { version, sha256: stored.digest('hex'), size };
}

describe('verify, rollback and gc on a registry holding a blob larger than a V8 string, with a 256 MiB heap', () => {
  test('all succeed, and the blob is checked for real (a corrupted copy is found)', async () => {
    const dir = tempDir('recsys-large-');
    dirs.push(dir);
    copyTiny(dir);
    const config = writeConfig(dir);
    const rssFile = join(dir, 'rss.json');
    const opts = { cwd: dir, env: { NODE_OPTIONS: [...HEAP, '--import', REPORT_RSS].join(' '), RECSYS_TEST_RSS_FILE: rssFile } };
    const peakMiB = () => JSON.parse(readFileSync(rssFile, 'utf8')).maxRssKiB / 1024;
    const run = await cli(['run', '--config', config, '--tenant', 'demo', '--surface', 'home', '--start', '2026-01-01', '--end', '2026-01-01'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const registryDir = join(dir, 'out/registry');
    const small = readManifest(registryDir, 'demo', 'home')!.current.cooc!;

    // Publish the big version by hand (a real run would take minutes): blob, record, history + manifest.
    const objects = new FsObjectStorage(join(dir, 'out/objectstore'));
    const tmp = join(dir, 'out/objectstore/demo/home/cooc/big.tmp');
    const big = await writeBigCooc(tmp);
    expect(big.size).toBeGreaterThan(600 * 2 ** 20);
    const bigKey = keys.blob(SCOPE, 'cooc', big.version);
    renameSync(tmp, objects.pathOf(bigKey));
    const registry = new Registry(new FsObjectStorage(registryDir));
    const bigUri = objects.uri(bigKey);
    const record: VersionRecordV1 = {
      v: 1,
      tenant: 'demo',
      surface: 'home',
      artifact_type: 'cooc',
      segment: 'default',
      version: big.version,
      uri: bigUri,
      window,
      sha256: big.sha256,
      size_bytes: big.size,
      built_at: '2026-01-02T03:00:00Z',
      published_at: '2026-01-02T03:00:01Z',
      inputs: [],
      tool: { name: 'large-blob-test', version: '0' },
    };
    await registry.putRecord(record);
    await registry.commit(SCOPE, () => ({ cooc: bigUri }), { reason: 'publish', identity: { runId: 'large', host: 'test', user: 'test', tool: { name: 'test', version: '0' } }, at: '2026-01-02T03:00:01Z' });

    // verify: every reference to the big blob (manifest, record, history) checks out.
    const v1 = await cli(['verify', '--config', config, '--json'], opts);
    expect(v1.code, v1.stderr + v1.stdout).toBe(0);
    expect(JSON.parse(v1.stdout)).toMatchObject({ ok: true });
    const verifyPeak = peakMiB();
    console.log(`large blob: ${(big.size / 2 ** 20).toFixed(0)} MiB cooc; verify with ${HEAP[0]}: peak RSS ${verifyPeak.toFixed(0)} MiB`);
    // Far below the blob: it is never held whole.
    expect(verifyPeak * 2 ** 20).toBeLessThan(big.size / 2);

    // rollback away from it and back to it: the way back checks the big blob.
    const back = await cli(['rollback', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'cooc', '--steps', '1'], opts);
    expect(back.code, back.stderr).toBe(0);
    expect(readManifest(registryDir, 'demo', 'home')!.current.cooc).toBe(small);
    const forth = await cli(['rollback', '--config', config, '--tenant', 'demo', '--surface', 'home', '--type', 'cooc', '--to', big.version], opts);
    expect(forth.code, forth.stderr).toBe(0);
    expect(readManifest(registryDir, 'demo', 'home')!.current.cooc).toBe(bigUri);
    console.log(`large blob: rollback to it: peak RSS ${peakMiB().toFixed(0)} MiB`);

    // gc dates a blob without a record by its build time, which follows the payload: drop the record to make it read it.
    unlinkSync(join(registryDir, `${keys.record(SCOPE, 'cooc', big.version)}`));
    const gc = await cli(['gc', '--config', config, '--keep-versions', '0', '--keep-history', '0', '--older-than', '0s', '--json'], opts);
    expect(gc.code, gc.stderr).toBe(0);
    console.log(`large blob: gc: peak RSS ${peakMiB().toFixed(0)} MiB`);
    // It is the served version: kept (as referenced), not deleted.
    expect(statSync(objects.pathOf(bigKey)).size).toBe(big.size);
    expect(JSON.parse(gc.stdout).scopes[0].deleted.map((d: { version: string }) => d.version)).not.toContain(big.version);
    await registry.putRecord(record);

    // The streamed check is a real check: one flipped count deep inside the payload is found.
    const fd = await import('node:fs/promises').then((fs) => fs.open(objects.pathOf(bigKey), 'r+'));
    const probe = Buffer.alloc(4096);
    const at = Math.floor(big.size * 0.9);
    await fd.read(probe, 0, probe.length, at);
    const digit = probe.indexOf('"count": ') + '"count": '.length;
    probe[digit] = probe[digit] === 0x39 ? 0x38 : probe[digit]! + 1;
    await fd.write(probe, digit, 1, at + digit);
    await fd.close();
    const v2 = await cli(['verify', '--config', config, '--json'], opts);
    expect(v2.code).toBe(1);
    const problems = (JSON.parse(v2.stdout) as { problems: { kind: string }[] }).problems.map((p) => p.kind);
    expect(problems).toContain('hash_mismatch');
  }, 900_000);
});
