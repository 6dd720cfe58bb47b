import type { Clock, Logger, RunIdentity, Sha256Factory } from '../ports.js';
import type { StorageAreas } from '../pipeline-env.js';

/**
 * What the operations (rollback, status, verify, gc, history) need: the blob
 * and registry areas, a clock, and who is acting. A `PipelineEnv` is one.
 * @since 0.1.0
 */
export interface OpsEnv {
  readonly areas: Pick<StorageAreas, 'objects' | 'registry'> & Partial<Pick<StorageAreas, 'artifacts' | 'canonical'>>;
  readonly clock: Clock;
  readonly identity: RunIdentity;
  readonly logger: Logger;
  /**
   * SHA-256 for streamed blob checks (the CLI passes `node:crypto`'s);
   * core's portable implementation when absent.
   */
  readonly sha256?: Sha256Factory | undefined;
}

/** Resolves after `ms` milliseconds (timers exist in every JS runtime; no Node import needed). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
