import { readFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, resolveLimits, resolveVolumeAnomaly, type Limits, type VolumeAnomalyConfig } from '@recsys/core';
import { loadPgSupport } from '../pg-support.js';
import { ConfigFileSchema, GO_ONLY_KEYS, KNOWN_KEYS, MIN_MEMORY_BUDGET, SIZE_PATTERN, type StoreConfig, type ConfigFile } from './schema.js';
import { locateJsonSyntaxError } from './json-error.js';
import { resolvePostgres, type PostgresConfig } from './postgres.js';
import { didYouMean } from './suggest.js';

/** Where one storage area lives. */
export type AreaLocation =
  | { kind: 'fs'; dir: string }
  /** `key`: the config section it comes from (for error messages). */
  | { kind: 's3'; store: StoreConfig; subPrefix: string; key?: string };

/** A loaded, validated config with every path absolute. */
export interface ResolvedConfig {
  /** The config file, or `undefined` for the embedded default. */
  readonly file: string | undefined;
  readonly areas: {
    readonly raw: AreaLocation;
    readonly canonical: AreaLocation;
    readonly quarantine: AreaLocation;
    readonly artifacts: AreaLocation;
    readonly objects: AreaLocation;
    readonly registry: AreaLocation;
    readonly checkpoints: AreaLocation;
  };
  /** The setting that chose the raw area, for "no raw input" messages. */
  readonly rawSourceKey: string;
  readonly artifactKinds: string[];
  /** Item catalog for `content_sim`: absolute path (may hold `{tenant}`/`{surface}`) and format. */
  readonly catalog?: { readonly path: string; readonly format?: 'csv' | 'jsonl' };
  readonly limits: Limits;
  /** `gates.volume_anomaly`, resolved (on by default; off in the embedded default, which reads the samples). */
  readonly volumeAnomaly: VolumeAnomalyConfig;
  /** `blob_format` (`compact` when absent). */
  readonly blobFormat: 'compact' | 'pretty';
  /** `memory_budget` in bytes (a quarter of the machine's memory, 256 MiB–2 GiB, when absent). */
  readonly memoryBudget: number;
  /** `scratch_dir`, absolute (the system's temporary folder when absent). */
  readonly scratchDir: string;
  /** `window_days` (1 when absent). */
  readonly windowDays: number;
  /** The service's database: raw source and/or signals sink (DESIGN §8). */
  readonly postgres: PostgresConfig;
  /** Problems that do not stop the run (unknown sections…). */
  readonly warnings: string[];
}

/** The bundled sample data (shipped with the CLI package). */
export const SAMPLE_RAW_DIR = fileURLToPath(new URL('../sample-data/raw', import.meta.url));

export const DEFAULT_ARTIFACT_KINDS = ['popularity', 'cooc'];

/** The bundled item catalogs, one per sample tenant (`<tenant>.csv`). */
export const SAMPLE_CATALOG_DIR = fileURLToPath(new URL('../sample-data/catalog', import.meta.url));

/** Formats the first zod issue path as a config key (`limits.max_days_backfill`). */
function keyOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[');
}

/**
 * Reads and validates a config file (or the embedded default when `path`
 * is undefined). Relative paths resolve against the config file's folder
 * (the working directory for the embedded default). Pure apart from reading
 * the file: opening the storage it names is `openAreas`' job.
 */
export async function loadConfig(path: string | undefined, cwd: string): Promise<ResolvedConfig> {
  let raw: unknown = {};
  let base = cwd;
  const file = path === undefined ? undefined : resolve(cwd, path);
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError('--config', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { file }, { cause: error });
    }
    // Editors on Windows may save a byte order mark; it is not part of the JSON.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      raw = JSON.parse(text);
    } catch {
      // Never echo the text (V8's message may quote it, and a config can hold secrets), nor attach the
      // parser's error as the cause (it would be logged): name the file, line and column only.
      const where = locateJsonSyntaxError(text);
      const at = where ? `${file}:${where.line}:${where.column}` : file;
      throw new ConfigError('(file)', `${at}: not valid JSON${where ? `: ${where.problem}` : ''}`, { file, ...(where ? { line: where.line, column: where.column } : {}) });
    }
    base = dirname(file);
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    // A misspelt top-level key would otherwise be ignored and its default used silently (`outdir` → ./.out).
    for (const key of Object.keys(raw)) {
      if (KNOWN_KEYS.has(key) || GO_ONLY_KEYS.has(key)) continue;
      throw new ConfigError(key, `unknown key${didYouMean(key, KNOWN_KEYS)} (known keys: ${[...KNOWN_KEYS].join(', ')}; the Go implementation's ${[...GO_ONLY_KEYS].map((k) => `\`${k}\``).join(', ') || 'keys'} also load, ignored)`, { file });
    }
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? keyOf([...issue.path, issue.keys[0]!]) : keyOf(issue.path);
    const problem = issue.code === 'unrecognized_keys' ? `unknown key${didYouMean(issue.keys[0]!, keysAt(issue.path))}` : issue.message;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw new ConfigError(key, `${problem}${more}`, { file, issues: parsed.error.issues.map((i) => ({ key: keyOf(i.path), message: i.message })) });
  }
  const resolved = resolveConfig(parsed.data, file, base);
  // The PostgreSQL adapters validate DSNs and table names, so a bad config fails here, before any I/O.
  await loadPgSupport(resolved.postgres);
  return resolved;
}

/** The keys a config object at `path` may have (for "did you mean" inside sections). */
function keysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = ConfigFileSchema;
  const unwrap = (s: unknown): unknown => {
    let out = s as { unwrap?: () => unknown; shape?: unknown };
    while (typeof out.unwrap === 'function' && out.shape === undefined) out = out.unwrap() as typeof out;
    return out;
  };
  for (const segment of path) {
    const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
    if (!shape || typeof segment !== 'string' || !(segment in shape)) return [];
    schema = shape[segment];
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function resolveConfig(config: ConfigFile, file: string | undefined, base: string): ResolvedConfig {
  const warnings: string[] = [];
  for (const key of Object.keys(config)) {
    if (GO_ONLY_KEYS.has(key)) warnings.push(`config key "${key}" belongs to the Go implementation's config and is not used by recsys-pipelines; ignored`);
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const isS3 = (store: StoreConfig | undefined) => store?.type === 's3' || store?.type === 'minio';
  const outDir = abs(config.out_dir ?? (config.storage && !isS3(config.storage) ? config.storage.dir : undefined) ?? '.out');
  const fsArea = (dir: string | undefined, fallback: string): AreaLocation => ({ kind: 'fs', dir: abs(dir ?? fallback) });

  const storeArea = (store: StoreConfig, key: string, subPrefix: string, dirFallback: string): AreaLocation => {
    if (store.type === 's3' || store.type === 'minio') {
      if (!store.s3) throw new ConfigError(`${key}.s3`, `required when ${key}.type is "${store.type}"`);
      return { kind: 's3', store, subPrefix, key };
    }
    return { kind: 'fs', dir: abs(store.dir ?? dirFallback) };
  };

  const postgres = resolvePostgres(config);
  let raw: AreaLocation;
  let rawSourceKey: string | undefined;
  if (postgres.raw) {
    // With the database as raw source the raw area is unused; it stays a folder that is never read.
    raw = fsArea(config.raw_events_dir, `${outDir}/raw`);
    rawSourceKey = 'raw_source.postgres';
  } else if (config.raw_source) {
    raw = storeArea(config.raw_source as StoreConfig, 'raw_source', '', config.raw_events_dir ?? `${outDir}/raw`);
    rawSourceKey = 'raw_source';
  } else if (config.raw_events_dir) {
    raw = fsArea(config.raw_events_dir, '');
    rawSourceKey = 'raw_events_dir';
  } else if (file === undefined) {
    raw = { kind: 'fs', dir: SAMPLE_RAW_DIR };
    rawSourceKey = 'the embedded default config reads the bundled sample data; pass --config to read yours';
  }
  else throw new ConfigError('raw_events_dir', 'required (or raw_source): where the raw exposure events are');
  // (A misspelt raw_events_dir is caught above as an unknown key, with "did you mean `raw_events_dir`?".)

  // `storage: {type: "s3"}` puts every area without its own setting in that bucket, under <prefix>/<area>/.
  const shared = config.storage && isS3(config.storage) ? config.storage : undefined;
  const area = (dir: string | undefined, sub: string): AreaLocation =>
    dir === undefined && shared ? storeArea(shared, 'storage', sub, '') : fsArea(dir, `${outDir}/${sub}`);

  const objectStore = config.object_store;
  const objects = objectStore ? storeArea(objectStore, 'object_store', 'objectstore', config.object_store_dir ?? `${outDir}/objectstore`) : area(config.object_store_dir, 'objectstore');
  // With blobs on S3 and no registry configured, the registry lives in the same bucket (what recsys-service reads).
  const registryStore = config.registry ?? (objectStore && objects.kind === 's3' && !config.registry_dir ? objectStore : undefined);
  const registry = registryStore ? storeArea(registryStore, 'registry', 'registry', config.registry_dir ?? `${outDir}/registry`) : area(config.registry_dir, 'registry');

  const artifactKinds = config.artifact_kinds ?? DEFAULT_ARTIFACT_KINDS;
  let catalog: ResolvedConfig['catalog'];
  if (config.catalog) catalog = { path: abs(config.catalog.path), ...(config.catalog.format ? { format: config.catalog.format } : {}) };
  else if (file === undefined) catalog = { path: resolve(SAMPLE_CATALOG_DIR, '{tenant}.csv'), format: 'csv' };
  return {
    file,
    areas: {
      raw,
      canonical: area(config.canonical_dir, 'canonical'),
      quarantine: area(config.quarantine_dir, 'quarantine'),
      artifacts: area(config.artifacts_dir, 'artifacts'),
      objects,
      registry,
      checkpoints: area(config.checkpoint_dir, 'checkpoints'),
    },
    rawSourceKey,
    artifactKinds,
    ...(catalog ? { catalog } : {}),
    limits: resolveLimits(config.limits),
    // The embedded default reads the bundled samples: tiny days whose volume swings are not traffic.
    volumeAnomaly: file === undefined ? resolveVolumeAnomaly({ enabled: false }) : resolveVolumeAnomaly(config.gates?.volume_anomaly),
    blobFormat: config.blob_format ?? 'compact',
    memoryBudget: config.memory_budget === undefined ? defaultMemoryBudget() : parseSize('memory_budget', config.memory_budget),
    scratchDir: config.scratch_dir === undefined ? tmpdir() : abs(config.scratch_dir),
    windowDays: config.window_days ?? 1,
    postgres,
    warnings,
  };
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** Bytes of a size setting (`2GiB`, `512MiB`, `1.5GB`, or a whole number of bytes). */
export function parseSize(key: string, value: number | string): number {
  if (typeof value === 'number') return value;
  const m = SIZE_PATTERN.exec(value)!;
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2] ?? 'B']!);
  if (bytes < MIN_MEMORY_BUDGET) throw new ConfigError(key, `must be at least 64MiB (got ${JSON.stringify(value)} = ${bytes} bytes)`);
  return bytes;
}

/**
 * A quarter of the memory this process may use (the container's limit when
 * there is one, else the machine's), between 256 MiB and 2 GiB: the rest is
 * for other processes of the pod and the page cache.
 */
export function defaultMemoryBudget(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const machine = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  return Math.min(2 * 2 ** 30, Math.max(256 * 2 ** 20, Math.floor(machine / 4)));
}
