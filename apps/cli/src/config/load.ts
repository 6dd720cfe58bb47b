import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, resolveLimits, type Limits } from '@recsys/core';
import { ConfigFileSchema, KNOWN_KEYS, type StoreConfig, type ConfigFile } from './schema.js';

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
  readonly artifactKinds: string[];
  /** Item catalog for `content_sim`: absolute path (may hold `{tenant}`/`{surface}`) and format. */
  readonly catalog?: { readonly path: string; readonly format?: 'csv' | 'jsonl' };
  readonly limits: Limits;
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
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ConfigError('(file)', `${file} is not valid JSON: ${(error as Error).message}`, { file }, { cause: error });
    }
    base = dirname(file);
  }
  const parsed = ConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? keyOf([...issue.path, issue.keys[0]!]) : keyOf(issue.path);
    const problem = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
    throw new ConfigError(key, `${problem}${more}`, { file, issues: parsed.error.issues.map((i) => ({ key: keyOf(i.path), message: i.message })) });
  }
  return resolveConfig(parsed.data, file, base);
}

function resolveConfig(config: ConfigFile, file: string | undefined, base: string): ResolvedConfig {
  const warnings: string[] = [];
  for (const key of Object.keys(config)) {
    if (!KNOWN_KEYS.has(key)) warnings.push(`config key "${key}" is not used by recsys-pipelines and is ignored`);
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

  let raw: AreaLocation;
  if (config.raw_source) raw = storeArea(config.raw_source, 'raw_source', '', config.raw_events_dir ?? `${outDir}/raw`);
  else if (config.raw_events_dir) raw = fsArea(config.raw_events_dir, '');
  else if (file === undefined) raw = { kind: 'fs', dir: SAMPLE_RAW_DIR };
  else throw new ConfigError('raw_events_dir', 'required (or raw_source): where the raw exposure events are');

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
    artifactKinds,
    ...(catalog ? { catalog } : {}),
    limits: resolveLimits(config.limits),
    warnings,
  };
}
