import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DaySignals, Logger, Scope, SignalsSink, SignalsWriteResult, UsageError } from '@recsys/core';
import { connect, findTenantId, pgError, quoteTableName, resolveConnection, unknownTenant, type PgConnection, type PgConnectionOptions } from './connection.js';
import { copyText, copyTextArray } from './copy-text.js';

/** Options of {@link PgSignalsSink}. @since 0.2.0 */
export interface PgSignalsSinkOptions extends PgConnectionOptions {
  /** Create the tenant row (`external_id` = name = the tenant) when it does not exist (default false: exit 2). */
  readonly autoCreateTenant?: boolean | undefined;
  /** Tenants table (default `tenants`). */
  readonly tenantTable?: string | undefined;
  readonly logger?: Logger | undefined;
  /**
   * Called inside the transaction after every row is loaded, just before
   * COMMIT. Test seam for crash tests (a process killed here must leave the
   * previous rows); not for production use.
   */
  readonly beforeCommit?: (() => void | Promise<void>) | undefined;
}

const POPULARITY = '"item_popularity_daily"';
const COVISIT = '"item_covisit_daily"';
const TAGS = '"item_tags"';

/** Rows of COPY text per write to the COPY stream. */
const ROWS_PER_CHUNK = 2000;

/**
 * Signals sink over recsys-service's tables (DESIGN §8.2). Each
 * (tenant, namespace, day) is replaced in one transaction: delete the
 * day's rows of the namespace, then bulk-load the new ones with `COPY`.
 * A concurrent reader sees the old day or the new day, never half; a rerun
 * leaves exactly the new rows; a failure or a killed process leaves the
 * previous rows. Writers of the same day are serialised by an advisory lock.
 * @since 0.2.0
 */
export class PgSignalsSink implements SignalsSink {
  readonly location: string;
  private readonly connection: PgConnection;
  private readonly tenantTable: string;

  constructor(private readonly options: PgSignalsSinkOptions) {
    this.connection = resolveConnection({ ...options, configKey: options.configKey ?? 'db.dsn' });
    this.tenantTable = quoteTableName('db.tenant_table', options.tenantTable ?? 'tenants');
    this.location = this.connection.location;
  }

  /**
   * Checks, before a run writes anything, that the tenant exists (or can be
   * created): an unknown tenant without `auto_create_tenant` is a usage error.
   */
  async prepare(scope: Scope): Promise<void> {
    if (this.options.autoCreateTenant) return;
    const client = await connect(this.connection);
    try {
      const id = await findTenantId(client, this.tenantTable, scope.tenant);
      if (id === undefined) throw this.unknown(scope.tenant);
    } catch (error) {
      throw pgError(this.connection, `cannot look up tenant ${JSON.stringify(scope.tenant)}`, error);
    } finally {
      await client.end().catch(() => {});
    }
  }

  private unknown(tenant: string): UsageError {
    return unknownTenant(this.connection, this.tenantTable, tenant, 'create it in the service, or set db.auto_create_tenant to true');
  }

  async writeDay(signals: DaySignals): Promise<SignalsWriteResult> {
    const client = await connect(this.connection);
    let step = 'begin the transaction';
    try {
      await client.query('BEGIN');
      step = 'look up the tenant';
      let created = false;
      let tenantId = await findTenantId(client, this.tenantTable, signals.tenant);
      if (tenantId === undefined) {
        if (!this.options.autoCreateTenant) throw this.unknown(signals.tenant);
        step = 'create the tenant';
        const res = await client.query<{ id: string }>(
          `INSERT INTO ${this.tenantTable} (external_id, name) VALUES ($1, $1) ON CONFLICT (external_id) DO UPDATE SET external_id = EXCLUDED.external_id RETURNING id::text AS id`,
          [signals.tenant],
        );
        tenantId = res.rows[0]!.id;
        created = true;
      }
      step = 'lock the day';
      // Two writers of one day would both delete, then collide on the primary key: take turns instead.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`recsys-signals|${tenantId}|${signals.namespace}|${signals.day}`]);
      const day = [tenantId, signals.namespace, signals.day];
      const prefix = `${tenantId}\t${copyText(signals.namespace)}\t`;
      const updatedAt = signals.updatedAt;
      const result: { popularity_rows?: number; covisit_rows?: number; tag_rows?: number; tenant_created?: boolean } = {};
      if (signals.popularity) {
        step = 'replace item_popularity_daily';
        await client.query(`DELETE FROM ${POPULARITY} WHERE tenant_id = $1 AND namespace = $2 AND day = $3`, day);
        const items = signals.popularity;
        result.popularity_rows = await copyRows(client, `COPY ${POPULARITY} (tenant_id, namespace, item_id, day, score, updated_at) FROM STDIN`, function* () {
          for (const item of items) yield `${prefix}${copyText(item.item_id)}\t${signals.day}\t${item.count}\t${updatedAt}\n`;
        });
      }
      if (signals.covisit) {
        step = 'replace item_covisit_daily';
        await client.query(`DELETE FROM ${COVISIT} WHERE tenant_id = $1 AND namespace = $2 AND day = $3`, day);
        const rows = signals.covisit;
        const suffix = `\t${signals.day}\t`;
        result.covisit_rows = await copyRows(client, `COPY ${COVISIT} (tenant_id, namespace, item_id, neighbor_id, day, score, updated_at) FROM STDIN`, function* () {
          for (const row of rows) {
            const head = `${prefix}${copyText(row.item_id)}\t`;
            for (const n of row.items) yield `${head}${copyText(n.item_id)}${suffix}${n.count}\t${updatedAt}\n`;
          }
        });
      }
      if (signals.tags) {
        step = 'replace item_tags';
        // Tags have no day: the catalog is the namespace's whole truth, so the namespace is replaced.
        await client.query(`DELETE FROM ${TAGS} WHERE tenant_id = $1 AND namespace = $2`, [tenantId, signals.namespace]);
        const tags = signals.tags;
        result.tag_rows = await copyRows(client, `COPY ${TAGS} (tenant_id, namespace, item_id, tags, price, created_at, updated_at) FROM STDIN`, function* () {
          for (const t of tags) yield `${prefix}${copyText(t.item_id)}\t${copyTextArray(t.tags)}\t${t.price === undefined ? '\\N' : t.price}\t${updatedAt}\t${updatedAt}\n`;
        });
      }
      if (created) result.tenant_created = true;
      step = 'commit';
      await this.options.beforeCommit?.();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw pgError(this.connection, `cannot write signals of ${signals.tenant}/${signals.namespace} ${signals.day} (${step}; nothing was changed)`, error);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Streams rows into a `COPY … FROM STDIN` in chunks; returns the row count. */
async function copyRows(client: pg.Client, sql: string, rows: () => Iterable<string>): Promise<number> {
  let count = 0;
  function* chunks(): Generator<string> {
    let buffer: string[] = [];
    for (const row of rows()) {
      buffer.push(row);
      count++;
      if (buffer.length >= ROWS_PER_CHUNK) {
        yield buffer.join('');
        buffer = [];
      }
    }
    if (buffer.length > 0) yield buffer.join('');
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), client.query(copyFrom(sql)));
  return count;
}
