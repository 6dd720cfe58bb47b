import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, systemClock, type Clock, type Logger, type ObjectStorage, type PipelineEnv, type RunIdentity, type StorageAreas } from '@recsys/core';
import { FsObjectStorage } from '@recsys/storage-fs';
import { nodeCrc32, nodeSha256, WorkerComputePool, WorkerParsePool } from '@recsys/runtime-node';
import type { AreaLocation, ResolvedConfig } from './config/load.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { loadS3Support, openS3Area } from './s3-storage.js';
import { openRawSource, openSignalsSink } from './pg-support.js';
import { canonicalWriteFault, signalsKillHook, testMemoryBudget } from './test-hooks.js';
import { interruptOnSignals, terminalProgress, type TerminalProgress } from './interrupt.js';

/** Opens the storage of one area (S3 areas share one client per endpoint and credentials). */
function openArea(name: string, location: AreaLocation, logger?: Logger): ObjectStorage {
  if (location.kind === 'fs') {
    const hooks = name === 'canonical_dir' ? canonicalWriteFault() : undefined;
    return new FsObjectStorage(location.dir, hooks ? { hooks } : {});
  }
  return openS3Area(name, location, logger);
}

/**
 * Opens every storage area of a config (loading the S3 adapter first when an
 * area is on S3); `logger` receives S3 retry warnings.
 */
export async function openAreas(config: ResolvedConfig, logger?: Logger): Promise<StorageAreas> {
  const a = config.areas;
  await loadS3Support(Object.values(a));
  return {
    raw: openArea('raw_source', a.raw, logger),
    canonical: openArea('canonical_dir', a.canonical, logger),
    quarantine: openArea('quarantine_dir', a.quarantine, logger),
    artifacts: openArea('artifacts_dir', a.artifacts, logger),
    objects: openArea('object_store', a.objects, logger),
    registry: openArea('registry', a.registry, logger),
    checkpoints: openArea('checkpoint_dir', a.checkpoints, logger),
  };
}

/** A sortable, unique run id: UTC time plus randomness. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Who is running, for history entries and records. */
export function runIdentity(): RunIdentity {
  return { runId: newRunId(), host: hostname(), user: currentUser(), pid: process.pid, tool: { name: TOOL_NAME, version: TOOL_VERSION } };
}

/**
 * Builds the pipeline environment for a command. The parse pool's workers
 * are the command's to close: `onClose` receives the function that does it.
 */
export async function pipelineEnv(config: ResolvedConfig, logger: Logger, onClose: (close: () => Promise<void>) => void): Promise<PipelineEnv> {
  const areas = await openAreas(config, logger);
  const workers = workerCount();
  const pool = workers === 0 ? undefined : new WorkerParsePool(workers);
  if (pool) onClose(() => pool.close());
  // Compute has its own threads (they start only for a day big enough to need them).
  const computePool = workers === 0 ? undefined : new WorkerComputePool(workers);
  if (computePool) onClose(() => computePool.close());
  const identity = runIdentity();
  // One folder per command, created only if something spills, removed when the command ends (also on failure).
  const scratchDir = join(config.scratchDir, `recsys-scratch-${identity.runId}`);
  onClose(() => rm(scratchDir, { recursive: true, force: true }));
  return {
    areas,
    limits: config.limits,
    volumeAnomaly: config.volumeAnomaly,
    blobFormat: config.blobFormat,
    clock: testClock() ?? systemClock,
    logger,
    identity,
    sha256: nodeSha256,
    crc32: nodeCrc32,
    spill: { memoryBudget: testMemoryBudget() ?? config.memoryBudget, scratch: new FsObjectStorage(scratchDir, { scratch: true }), memoryInUse: () => process.memoryUsage.rss() },
    parsePool: pool,
    computePool,
    rawSource: openRawSource(config.postgres, logger),
    signals: openSignalsSink(config.postgres, logger, signalsKillHook()),
    rawSourceKey: config.rawSourceKey,
  };
}

/**
 * The clock of a command: the system clock, or the test-only fixed clock of
 * `RECSYS_TEST_NOW` (so `status` can be asked about the age of sample data
 * "as of" a given instant in tests).
 */
export function commandClock(): Clock {
  return testClock() ?? systemClock;
}

/**
 * Test-only fixed clock: `RECSYS_TEST_NOW=<RFC 3339 instant>` makes every
 * timestamp (built_at, published_at, updated_at, history) that instant, so
 * tests can compare the files of separate processes byte for byte.
 */
function testClock(): Clock | undefined {
  const spec = process.env.RECSYS_TEST_NOW;
  if (!spec) return undefined;
  const ms = Date.parse(spec);
  if (Number.isNaN(ms)) throw new ConfigError('RECSYS_TEST_NOW', `must be an RFC 3339 instant (got ${JSON.stringify(spec)})`);
  return { now: () => new Date(ms) };
}

/**
 * Worker threads for parsing raw input and for computing cooc rows, each:
 * `RECSYS_WORKERS=0` does both on the main thread; unset, one per core (up to 8).
 */
function workerCount(): number | undefined {
  const configured = process.env.RECSYS_WORKERS;
  if (configured === undefined || configured === '') return undefined;
  const n = Number(configured);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError('RECSYS_WORKERS', `must be a whole number >= 0 (got ${JSON.stringify(configured)})`);
  return n;
}

/**
 * The environment of a command that processes days (`run`, the job steps):
 * {@link pipelineEnv} plus a clean stop on SIGINT/SIGTERM and, on a terminal
 * without `--json`, progress. Both are released when the command ends.
 */
export async function interruptiblePipelineEnv(
  config: ResolvedConfig,
  logger: Logger,
  json: boolean,
  onClose: (close: () => Promise<void>) => void,
): Promise<{ env: PipelineEnv; progress: TerminalProgress }> {
  const interrupt = interruptOnSignals();
  onClose(async () => interrupt.dispose());
  const progress = terminalProgress(interrupt.signal, process.stderr.isTTY === true && !json);
  onClose(async () => progress.clear());
  return { env: { ...(await pipelineEnv(config, logger, onClose)), progress, signal: interrupt.signal }, progress };
}
