import type { ArtifactType } from '@recsys/contracts';
import { DEFAULT_LIMITS } from '../limits.js';
import { concatBytes } from '../bytes.js';
import { finishArtifact, type BuiltArtifact } from '../compute/artifacts.js';
import { publishArtifacts, type PublishResult } from '../publish/publish.js';
import { silentLogger, type RunIdentity, type Sha256Factory } from '../ports.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { dayWindow } from '../days.js';
import { portableSha256 } from '../sha256-portable.js';
import { MemoryStorage } from './memory-storage.js';

/** The tenant/surface of the fixtures. @since 0.1.0 */
export const scope = { tenant: 'demo', surface: 'home' };

/** A real SHA-256 that needs no runtime (the portable one core ships). @since 0.1.0 */
export const sha256: Sha256Factory = portableSha256;

/** A settable clock. @since 0.1.0 */
export class TestClock {
  constructor(public ms = Date.parse('2026-01-10T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A pipeline environment over in-memory storage (objects and registry apart, the rest shared). @since 0.1.0 */
export interface TestEnv extends PipelineEnv {
  readonly objects: MemoryStorage;
  readonly registryStorage: MemoryStorage;
  readonly testClock: TestClock;
}

/** A fresh {@link TestEnv} at 2026-01-10T00:00:00Z with default limits and a silent logger. @since 0.1.0 */
export function testEnv(identity: Partial<RunIdentity> = {}): TestEnv {
  const objects = new MemoryStorage('objects');
  const registryStorage = new MemoryStorage('registry');
  const other = new MemoryStorage('other');
  const testClock = new TestClock();
  return {
    areas: { raw: other, canonical: other, quarantine: other, artifacts: other, objects, registry: registryStorage, checkpoints: other },
    limits: DEFAULT_LIMITS,
    clock: testClock,
    logger: silentLogger,
    identity: { runId: 'run-test', host: 'test-host', user: 'tester', pid: 42, tool: { name: 'recsys-pipelines', version: '0.0.0-test' }, ...identity },
    sha256,
    objects,
    registryStorage,
    testClock,
  };
}

/** A popularity artifact whose content (and so version) depends on `items`. @since 0.1.0 */
export function popularity(env: TestEnv, items: Record<string, number>, options: { day?: string; segment?: string; type?: ArtifactType } = {}): BuiltArtifact {
  const rows = Object.entries(items)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([item_id, count]) => ({ item_id, count }));
  const target = { scope, segment: options.segment ?? 'default', window: dayWindow(options.day ?? '2026-01-01') };
  return finishArtifact(options.type ?? 'popularity', target, { members: { items: rows }, rows: rows.length }, env.clock.now().toISOString().slice(0, 19) + 'Z', sha256);
}

/** A cooc artifact with one row per item listing the others. @since 0.1.0 */
export function cooc(env: TestEnv, ids: string[], options: { day?: string; segment?: string } = {}): BuiltArtifact {
  const sorted = [...ids].sort();
  const neighbors = sorted.map((id) => ({ item_id: id, items: sorted.filter((o) => o !== id).map((o) => ({ item_id: o, count: 1 })) }));
  const target = { scope, segment: options.segment ?? 'default', window: dayWindow(options.day ?? '2026-01-01') };
  return finishArtifact('cooc', target, { members: { neighbors }, rows: neighbors.length }, env.clock.now().toISOString().slice(0, 19) + 'Z', sha256);
}

/** Publishes built artifacts for `day` (default segment unless given). @since 0.1.0 */
export function publish(env: TestEnv, built: BuiltArtifact[], options: { day?: string; segment?: string } = {}): Promise<PublishResult> {
  const target = { scope, segment: options.segment ?? 'default', window: dayWindow(options.day ?? '2026-01-01') };
  return publishArtifacts(env, target, built, []);
}

/** A built artifact's blob bytes (chunks may be strings or bytes). @since 0.1.0 */
export function blobBytes(built: BuiltArtifact): Uint8Array {
  const parts = [...(built.blob() as Iterable<string | Uint8Array>)].map((c) => (typeof c === 'string' ? new TextEncoder().encode(c) : c));
  return concatBytes(parts);
}
