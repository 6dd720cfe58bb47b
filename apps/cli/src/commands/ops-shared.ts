import { type Logger, type OpsEnv } from '@recsys/core';
import { nodeSha256 } from '@recsys/runtime-node';
import type { ResolvedConfig } from '../config/load.js';
import { commandClock, openAreas, runIdentity } from '../wiring.js';

/** What the operations commands need: only the blob and registry areas are touched. */
export async function opsEnv(config: ResolvedConfig, logger: Logger): Promise<OpsEnv> {
  const areas = await openAreas(config, logger);
  return { areas: { objects: areas.objects, registry: areas.registry, artifacts: areas.artifacts, canonical: areas.canonical }, clock: commandClock(), logger, identity: runIdentity(), sha256: nodeSha256 };
}
