import type { Clock, Crc32, Logger, ObjectStorage, ParsePool, RawEventSource, RunIdentity, Sha256Factory, SignalsSink } from './ports.js';
import type { Limits } from './limits.js';
import type { BlobFormat } from './compute/emit.js';
import type { VolumeAnomalyConfig } from './validate/volume-anomaly.js';
import type { CoocRowPool } from './compute/cooc-threads.js';

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

/** A phase of one day of `run`. @since 0.1.0 */
export type DayPhase = 'ingest' | 'validate' | 'compute' | 'stage' | 'publish';

/**
 * Receives progress of long steps (the CLI draws it on a terminal). `ingest`
 * is called after each block of raw input is read; awaiting it is allowed,
 * so a caller can also stop the step there (throw) on a signal.
 * @since 0.1.0
 */
export interface ProgressSink {
  phase?(day: string, phase: DayPhase): void;
  ingest?(progress: { readonly day: string; readonly source: string; readonly bytes: number; readonly lines: number; readonly done?: boolean }): void | Promise<void>;
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
  /**
   * CRC-32 of ingest parts' buckets (written by `ingest --shard`, checked by
   * `compute --shard`): the Node runtime's `zlib.crc32` where the CLI finds
   * it; core's portable one when absent. Same values either way.
   * @since 0.10.0
   */
  readonly crc32?: Crc32 | undefined;
  /** Parses raw chunks on worker threads when given (the CLI does); otherwise on this thread. */
  readonly parsePool?: ParsePool | undefined;
  /**
   * Counts and writes cooc rows on worker threads when given (the CLI does,
   * unless `RECSYS_WORKERS=0`); otherwise on this thread. Same bytes either way.
   * @since 0.4.0
   */
  readonly computePool?: CoocRowPool | undefined;
  /** Where raw events come from when not from JSON Lines files in `areas.raw` (DESIGN §8.1). @since 0.2.0 */
  readonly rawSource?: RawEventSource | undefined;
  /** Where `run` writes each published day's signals, when set (DESIGN §8.2). @since 0.2.0 */
  readonly signals?: SignalsSink | undefined;
  /** The setting that chose `areas.raw` (e.g. `raw_events_dir`), named when a day has no raw input. */
  readonly rawSourceKey?: string | undefined;
  /**
   * The volume-anomaly gate (DESIGN §9, config `gates.volume_anomaly`), applied by `run`,
   * `validate` and `merge` when set; the CLI always sets it (on by default).
   * @since 0.3.0
   */
  readonly volumeAnomaly?: VolumeAnomalyConfig | undefined;
  /**
   * Whitespace of published blobs (config `blob_format`, DESIGN §3.4):
   * `compact` when absent, `pretty` on request. Never changes a version.
   * @since 0.4.0
   */
  readonly blobFormat?: BlobFormat | undefined;
  /** Progress of long steps, when someone watches. */
  readonly progress?: ProgressSink | undefined;
  /**
   * Aborted on SIGINT/SIGTERM: the run stops at the next safe point (within
   * ingest, or between the steps of a day, never inside a publish), throwing
   * the signal's reason after removing its temporary files.
   */
  readonly signal?: AbortSignal | undefined;
  /**
   * Memory budget and local scratch storage (config `memory_budget`,
   * `scratch_dir`; DESIGN §7): an ingest whose duplicate table would take
   * more than a quarter of `memoryBudget` bytes spills it to `scratch`
   * instead (`SpilledDedupe`); compute keeps to one thread when its threads
   * would not fit next to `memoryInUse()` (the process's resident bytes).
   * Without it everything stays in memory.
   * @since 0.5.0
   */
  readonly spill?: { readonly memoryBudget: number; readonly scratch: ObjectStorage; readonly memoryInUse?: (() => number) | undefined } | undefined;
}
