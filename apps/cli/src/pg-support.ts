import { ConfigError, type Logger, type RawEventSource, type SignalsSink } from '@recsys/core';
import type * as PgModule from '@recsys/storage-pg';
import type { PostgresConfig } from './config/postgres.js';

// Only configs that use the service's database load the PostgreSQL driver.
let pg: typeof PgModule | undefined;

/** Loads the PostgreSQL adapters when the config reads from or writes to the service's database (called while loading the config). */
export async function loadPgSupport(config: PostgresConfig): Promise<void> {
  if (pg || (!config.raw && !config.signals)) return;
  try {
    pg = await import('@recsys/storage-pg');
  } catch (error) {
    throw new ConfigError(config.raw ? 'raw_source.type' : 'db.dsn', `PostgreSQL needs the @recsys/storage-pg package, which could not be loaded: ${(error as Error).message}`, {}, { cause: error });
  }
  // Validate DSNs and table names now, so a bad config fails before any I/O.
  openRawSource(config);
  openSignalsSink(config);
}

/** The raw source over the service's `exposure_events`, when `raw_source.type` is `postgres`. */
export function openRawSource(config: PostgresConfig, logger?: Logger): RawEventSource | undefined {
  if (!config.raw || !pg) return undefined;
  const raw = config.raw;
  return new pg.PgRawEventSource({ dsn: raw.dsn, configKey: raw.dsnKey, tenantTable: raw.tenantTable, exposureTable: raw.exposureTable, logger });
}

/** The signals sink, when `db.dsn` is set; `beforeCommit` is the test-only kill hook. */
export function openSignalsSink(config: PostgresConfig, logger?: Logger, beforeCommit?: () => void): SignalsSink | undefined {
  if (!config.signals || !pg) return undefined;
  const db = config.signals;
  return new pg.PgSignalsSink({ dsn: db.dsn, configKey: 'db.dsn', autoCreateTenant: db.autoCreateTenant, statementTimeoutS: db.statementTimeoutS, logger, beforeCommit });
}
