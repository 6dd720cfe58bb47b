import type { ConfigFile } from './schema.js';

/*
 * The service's database (DESIGN §8), resolved from the config: where raw
 * exposures are read from (`raw_source.type: "postgres"`) and where signals
 * are written (`db.dsn`). Kept apart from the storage areas: neither is an
 * object store.
 */

/** `raw_source.postgres`, with the DSN fallback to `db.dsn` applied. */
export interface PostgresRawConfig {
  /** Undefined: DATABASE_URL, else the libpq variables (PGHOST…). */
  readonly dsn?: string;
  /** The config key the DSN comes from, for messages. */
  readonly dsnKey: string;
  readonly tenantTable?: string;
  readonly exposureTable?: string;
}

/** `db`: the signals sink, set only when `db.dsn` is. */
export interface PostgresSignalsConfig {
  readonly dsn: string;
  readonly autoCreateTenant: boolean;
  readonly statementTimeoutS?: number;
}

export interface PostgresConfig {
  readonly raw?: PostgresRawConfig;
  readonly signals?: PostgresSignalsConfig;
}

export function resolvePostgres(config: ConfigFile): PostgresConfig {
  const db = config.db;
  const dbDsn = db?.dsn?.trim() ? db.dsn.trim() : undefined;
  const source = config.raw_source;
  let raw: PostgresRawConfig | undefined;
  if (source && (source.type === 'postgres' || source.type === 'postgresql')) {
    const own = source.postgres?.dsn?.trim() ? source.postgres.dsn.trim() : undefined;
    const dsn = own ?? dbDsn;
    raw = {
      ...(dsn !== undefined ? { dsn } : {}),
      dsnKey: own !== undefined ? 'raw_source.postgres.dsn' : dbDsn !== undefined ? 'db.dsn' : 'raw_source.postgres.dsn',
      ...(source.postgres?.tenant_table !== undefined ? { tenantTable: source.postgres.tenant_table } : {}),
      ...(source.postgres?.exposure_table !== undefined ? { exposureTable: source.postgres.exposure_table } : {}),
    };
  }
  const signals: PostgresSignalsConfig | undefined = dbDsn
    ? { dsn: dbDsn, autoCreateTenant: db?.auto_create_tenant === true, ...(db?.statement_timeout_s !== undefined ? { statementTimeoutS: db.statement_timeout_s } : {}) }
    : undefined;
  return { ...(raw ? { raw } : {}), ...(signals ? { signals } : {}) };
}
