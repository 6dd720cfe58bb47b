import type { Clock, Logger, ObjectStorage, ParsePool, RunIdentity, Sha256Factory } from './ports.js';
import type { Limits } from './limits.js';

/**
 * Where each kind of data lives (DESIGN §4). Areas may share one backend
 * (one bucket, one `.out/` folder) or not; keys inside each area follow the
 * layout in `keys.ts`.
 * @since 0.1.0
 */
export interface StorageAreas {
  /** Raw input (read-only for the pipeline). */
  readonly raw: ObjectStorage;
  readonly canonical: ObjectStorage;
  readonly quarantine: ObjectStorage;
  /** Job-mode staging of computed artifacts. */
  readonly artifacts: ObjectStorage;
  /** Published immutable blobs. */
  readonly objects: ObjectStorage;
  /** Records, manifests and history. */
  readonly registry: ObjectStorage;
  readonly checkpoints: ObjectStorage;
}

/**
 * Everything a pipeline step needs from its surroundings.
 * @since 0.1.0
 */
export interface PipelineEnv {
  readonly areas: StorageAreas;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly identity: RunIdentity;
  readonly sha256: Sha256Factory;
  /** Parses raw chunks on worker threads when given (the CLI does); otherwise on this thread. */
  readonly parsePool?: ParsePool | undefined;
}
