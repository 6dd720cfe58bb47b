import { hostname, userInfo } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConfigError, systemClock, type Logger, type ObjectStorage, type PipelineEnv, type RunIdentity, type StorageAreas } from '@recsys/core';
import { FsObjectStorage, nodeSha256 } from '@recsys/storage-fs';
import type { AreaLocation, ResolvedConfig } from './config/load.js';
import { TOOL_NAME, TOOL_VERSION } from './version.js';
import { WorkerParsePool } from './parallel/parse-pool.js';

/** Opens the storage of one area. */
function openArea(name: string, location: AreaLocation): ObjectStorage {
  if (location.kind === 'fs') return new FsObjectStorage(location.dir);
  throw new ConfigError(name, 'S3 storage is not available in this build of recsys-pipelines (install @recsys/storage-s3)');
}

/** Opens every storage area of a config. */
export function openAreas(config: ResolvedConfig): StorageAreas {
  const a = config.areas;
  return {
    raw: openArea('raw_source', a.raw),
    canonical: openArea('canonical_dir', a.canonical),
    quarantine: openArea('quarantine_dir', a.quarantine),
    artifacts: openArea('artifacts_dir', a.artifacts),
    objects: openArea('object_store', a.objects),
    registry: openArea('registry', a.registry),
    checkpoints: openArea('checkpoint_dir', a.checkpoints),
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

/** Builds the pipeline environment for a command. */
export function pipelineEnv(config: ResolvedConfig, logger: Logger): PipelineEnv {
  return { areas: openAreas(config), limits: config.limits, clock: systemClock, logger, identity: runIdentity(), sha256: nodeSha256, parsePool: parsePool() };
}

/** Worker threads for parsing raw input; `RECSYS_WORKERS=0` parses on the main thread. */
function parsePool(): WorkerParsePool | undefined {
  const configured = process.env.RECSYS_WORKERS;
  if (configured === undefined || configured === '') return new WorkerParsePool();
  const n = Number(configured);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError('RECSYS_WORKERS', `must be a whole number >= 0 (got ${JSON.stringify(configured)})`);
  return n === 0 ? undefined : new WorkerParsePool(n);
}
