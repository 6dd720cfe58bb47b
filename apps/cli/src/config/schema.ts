import { z } from 'zod';
import { GatesConfigSchema, LimitsSchema, MAX_WINDOW_DAYS } from '@recsys/core';

/** S3 connection settings, as in the Go implementation's config. */
export const S3SettingsSchema = z.strictObject({
  endpoint: z.string().optional(),
  bucket: z.string().min(1),
  access_key: z.string().optional(),
  secret_key: z.string().optional(),
  region: z.string().optional(),
  prefix: z.string().optional(),
  use_ssl: z.boolean().optional(),
  /** Path-style addressing (`endpoint/bucket/key`); default true when an endpoint is set. */
  force_path_style: z.boolean().optional(),
  /** Attempts per S3 request, including the first (ours; default 5). */
  max_attempts: z.int().min(1).max(20).optional(),
  /** Per-request timeout in milliseconds: until the response starts, and socket inactivity (ours; default 30000). */
  request_timeout_ms: z.int().min(100).optional(),
});

export type S3Settings = z.infer<typeof S3SettingsSchema>;

/** A storage backend: a directory, or an S3 bucket/prefix. */
export const StoreSchema = z.strictObject({
  type: z.enum(['fs', 'filesystem', 'local', 's3', 'minio']),
  dir: z.string().optional(),
  s3: S3SettingsSchema.optional(),
});

export type StoreConfig = z.infer<typeof StoreSchema>;

// ---------------------------------------------------------------- PostgreSQL
// The service's database (DESIGN §8), with the Go implementation's keys.

/** `raw_source.postgres`: where recsys-service keeps the exposures it served. */
export const PostgresRawSettingsSchema = z.strictObject({
  /** Falls back to `db.dsn`, then `DATABASE_URL`, then the libpq variables (PGHOST…). */
  dsn: z.string().optional(),
  /** Default `tenants`; `table` or `schema.table`. */
  tenant_table: z.string().min(1).optional(),
  /** Default `exposure_events`; `table` or `schema.table`. */
  exposure_table: z.string().min(1).optional(),
});

/** `raw_source`: a storage backend, or the service's database (`type: "postgres"`). */
export const RawSourceSchema = z.strictObject({
  type: z.enum(['fs', 'filesystem', 'local', 's3', 'minio', 'postgres', 'postgresql']),
  dir: z.string().optional(),
  s3: S3SettingsSchema.optional(),
  postgres: PostgresRawSettingsSchema.optional(),
});

export type RawSourceConfig = z.infer<typeof RawSourceSchema>;

/** `db`: the service's database, where `run` and `signals` write the signal tables. */
export const DbSchema = z.strictObject({
  dsn: z.string().optional(),
  /** Create a missing tenant row instead of failing with exit 2 (default false). */
  auto_create_tenant: z.boolean().optional(),
  /** Server-side statement_timeout of every statement, in seconds (default: the server's). */
  statement_timeout_s: z.number().min(0).optional(),
  /** The Go implementation's pool size; accepted and unused (one connection per day's write). */
  max_conns: z.int().min(1).optional(),
});

export type DbConfig = z.infer<typeof DbSchema>;
// ------------------------------------------------------------ end PostgreSQL

/**
 * The config file. Keys and sections of the Go implementation load
 * unchanged; unknown top-level sections are ignored with a warning, while
 * typos inside the sections we use are errors.
 */
/** Smallest `memory_budget` accepted (64 MiB): below it nothing useful fits. */
export const MIN_MEMORY_BUDGET = 64 * 1024 * 1024;

/** A size: a number with an optional binary or decimal unit. */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/;

export const ConfigFileSchema = z.looseObject({
  out_dir: z.string().min(1).optional(),
  raw_events_dir: z.string().min(1).optional(),
  canonical_dir: z.string().min(1).optional(),
  quarantine_dir: z.string().min(1).optional(),
  checkpoint_dir: z.string().min(1).optional(),
  artifacts_dir: z.string().min(1).optional(),
  object_store_dir: z.string().min(1).optional(),
  registry_dir: z.string().min(1).optional(),
  raw_source: RawSourceSchema.optional(),
  object_store: StoreSchema.optional(),
  registry: StoreSchema.optional(),
  /**
   * Where every area the tool writes lives (ours; not in the Go config):
   * with `type: "s3"`, canonical, quarantine, artifacts (staging), object
   * store, registry and checkpoints all go to the bucket under
   * `<prefix>/<area>/` unless their own key (`object_store`, `registry`,
   * `*_dir`) says otherwise. With `type: "fs"`, `dir` is like `out_dir`.
   */
  storage: StoreSchema.optional(),
  artifact_kinds: z.array(z.string().min(1)).optional(),
  /**
   * Item catalog for `content_sim` (ours; not in the Go config). `path` is
   * relative to the config file's folder and may contain `{tenant}` and
   * `{surface}`; `format` defaults from the extension (.csv, .jsonl).
   */
  catalog: z
    .strictObject({
      path: z.string().min(1),
      format: z.enum(['csv', 'jsonl']).optional(),
    })
    .optional(),
  limits: LimitsSchema.optional(),
  /** Tunable gates (ours): `volume_anomaly` (DESIGN §9). */
  gates: GatesConfigSchema.optional(),
  /**
   * Whitespace of published artifact blobs (ours; DESIGN §3.4): `compact`
   * (default) or `pretty` (2-space indent, as the Go implementation writes).
   * Never changes a version.
   */
  blob_format: z.enum(['compact', 'pretty']).optional(),
  /**
   * Memory budget of one process (ours; DESIGN §7): bytes, or a size such as
   * `"2GiB"`, `"512MiB"`. An ingest whose duplicate table would take more than
   * a quarter of it spills the table to `scratch_dir`. Default: a quarter of
   * the machine's (or container's) memory, between 256 MiB and 2 GiB.
   */
  memory_budget: z.union([z.int().min(MIN_MEMORY_BUDGET), z.string().regex(SIZE_PATTERN, 'must be a size such as "2GiB", "512MiB" or a number of bytes')]).optional(),
  /** Local folder for spill files (ours; DESIGN §7); default: the system's temporary folder. Removed after each command. */
  scratch_dir: z.string().min(1).optional(),
  /** Each day's artifacts cover the N days ending with it (ours; DESIGN §9); default 1. */
  window_days: z.int().min(1).max(MAX_WINDOW_DAYS).optional(),
  /** The service's database for signals (DESIGN §8.2). */
  db: DbSchema.optional(),
});

export type ConfigFile = z.infer<typeof ConfigFileSchema>;

/** Top-level keys this version understands. */
export const KNOWN_KEYS = new Set(Object.keys(ConfigFileSchema.shape));

/**
 * Top-level keys of the Go implementation's config (recsys-suite's
 * `recsys-pipelines`, `internal/app/config`: `EnvConfig`) that this tool does
 * not use: accepted with a warning, so a Go config file loads unchanged. Any
 * other unknown top-level key is an error ("did you mean …?").
 */
export const GO_ONLY_KEYS: ReadonlySet<string> = new Set(['db'].filter((key) => !KNOWN_KEYS.has(key)));
