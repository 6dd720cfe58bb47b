import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CATALOG_FORMATS, ConfigError, UsageError, type CatalogFormat, type CatalogSource, type Scope } from '@recsys/core';
import type { ResolvedConfig } from './config/load.js';

/** The catalog format implied by a file name, if any. */
export function catalogFormatOf(path: string): CatalogFormat | undefined {
  const name = path.toLowerCase();
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

function parseFormat(value: string): CatalogFormat {
  const format = value.trim().toLowerCase();
  if (!(CATALOG_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--catalog-format must be one of ${CATALOG_FORMATS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return format as CatalogFormat;
}

/**
 * Fills `{tenant}` and `{surface}` in a configured catalog path (both are
 * validated path segments, so the result cannot climb out of its folder).
 */
function fillPlaceholders(path: string, scope: Scope): string {
  const filled = path.replaceAll('{tenant}', scope.tenant).replaceAll('{surface}', scope.surface);
  const unknown = /\{[^}]*\}/.exec(filled);
  if (unknown) throw new ConfigError('catalog.path', `unknown placeholder ${unknown[0]} in ${path} (supported: {tenant}, {surface})`);
  return filled;
}

/** What `run` was told about the catalog. */
export interface CatalogFlags {
  readonly catalog?: string | undefined;
  readonly catalogFormat?: string | undefined;
}

/**
 * The item catalog of a run: `--catalog <file>` (relative to the working
 * directory) or else the config's `catalog.path`. The format is
 * `--catalog-format`, else the config's `catalog.format` (config path only),
 * else the extension. A missing file is a usage/config error (exit 2),
 * checked before the run writes anything. Returns `undefined` when neither
 * is set (planRun then refuses `content_sim`).
 */
export async function catalogSource(flags: CatalogFlags, config: ResolvedConfig, scope: Scope, cwd: string): Promise<CatalogSource | undefined> {
  const fromFlag = flags.catalog !== undefined;
  let path: string;
  let format: CatalogFormat | undefined = flags.catalogFormat !== undefined ? parseFormat(flags.catalogFormat) : undefined;
  if (fromFlag) {
    path = resolve(cwd, flags.catalog!);
  } else if (config.catalog) {
    path = fillPlaceholders(config.catalog.path, scope);
    format ??= config.catalog.format;
  } else {
    return undefined;
  }
  format ??= catalogFormatOf(path);
  if (!format) {
    const problem = `cannot tell the catalog format of ${path} from its extension (.csv, .jsonl, .ndjson)`;
    if (fromFlag) throw new UsageError(`${problem}; pass --catalog-format csv|jsonl`);
    throw new ConfigError('catalog.format', `${problem}; set catalog.format to "csv" or "jsonl"`);
  }
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    if (fromFlag) throw new UsageError(`--catalog: cannot read ${path}: ${why}`, { catalog: path }, { cause: error });
    const hint = config.file === undefined ? ' (the embedded default config only has catalogs for the bundled sample tenants; pass --catalog <file>)' : '';
    throw new ConfigError('catalog.path', `cannot read ${path}: ${why}${hint}`, { catalog: path }, { cause: error });
  }
  return {
    location: path,
    format,
    open: async () => createReadStream(path),
  };
}
