import Cursor from 'pg-cursor';
import { UsageError, type Logger, type RawEventSource, type RawInput, type RawInputChunk, type RejectReason, type Scope } from '@recsys/core';
import { checkRawEvent, nextDay } from '@recsys/core/internal';
import { connect, findTenantId, pgError, quoteTableName, resolveConnection, unknownTenant, withClient, type PgConnection, type PgConnectionOptions } from './connection.js';

/** Options of {@link PgRawEventSource}. @since 0.2.0 */
export interface PgRawSourceOptions extends PgConnectionOptions {
  /** Tenants table (default `tenants`), `table` or `schema.table`. */
  readonly tenantTable?: string | undefined;
  /** Exposures table (default `exposure_events`), `table` or `schema.table`. */
  readonly exposureTable?: string | undefined;
  /** The config section the table names come from, for errors (default `raw_source.postgres`). */
  readonly configSection?: string | undefined;
  /** Rows fetched per cursor round trip (default 5000): with the chunk size, what bounds memory. */
  readonly batchRows?: number | undefined;
  /** Raw JSON Lines bytes handed to ingest per chunk (default 1 MiB). */
  readonly chunkBytes?: number | undefined;
  readonly logger?: Logger | undefined;
}

/** `2026-01-01 10:00:00.123456+00` (a UTC timestamptz as text) → `2026-01-01T10:00:00.123456Z`. */
const PG_UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)\+00$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Raw source over recsys-service's `exposure_events` (DESIGN §8.1). Each
 * row of the (tenant, surface, UTC day) becomes one raw event v1 per element
 * of `response.items` — `ts` = `occurred_at` with its microseconds (read as
 * text, never through a millisecond `Date`), `session_id`, `request_id`,
 * `item_id`, `rank` — streamed through a server-side cursor so memory stays
 * bounded whatever the day's size. A row that cannot become valid events
 * (wrong `response` shape, null session, empty item id…) is yielded as a
 * rejected record located by `(occurred_at, id)`, for quarantine; the day
 * goes on. An unknown tenant is a usage error, never an empty day.
 * @since 0.2.0
 */
export class PgRawEventSource implements RawEventSource {
  readonly location: string;
  private readonly connection: PgConnection;
  private readonly tenantTable: string;
  private readonly exposureTable: string;
  private readonly tenantIds = new Map<string, string>();

  constructor(private readonly options: PgRawSourceOptions) {
    const section = options.configSection ?? 'raw_source.postgres';
    this.connection = resolveConnection({ ...options, configKey: options.configKey ?? `${section}.dsn` });
    this.tenantTable = quoteTableName(`${section}.tenant_table`, options.tenantTable ?? 'tenants');
    this.exposureTable = quoteTableName(`${section}.exposure_table`, options.exposureTable ?? 'exposure_events');
    this.location = `${this.connection.location} ${this.exposureTable.replace(/"/g, '')}`;
  }

  /** The tenant's uuid; a usage error (exit 2) when the database has no such tenant. */
  async tenantId(tenant: string): Promise<string> {
    const known = this.tenantIds.get(tenant);
    if (known) return known;
    let id: string | undefined;
    try {
      id = await withClient(this.connection, (client) => findTenantId(client, this.tenantTable, tenant));
    } catch (error) {
      throw pgError(this.connection, `cannot look up tenant ${JSON.stringify(tenant)} in ${this.tenantTable}`, error);
    }
    if (id === undefined) throw unknownTenant(this.connection, this.tenantTable, tenant, 'an unknown tenant is refused rather than read as a day without events');
    this.tenantIds.set(tenant, id);
    return id;
  }

  async inputsForDay(scope: Scope, day: string): Promise<RawInput[]> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new UsageError(`not a day: ${JSON.stringify(day)}`);
    const tenantId = await this.tenantId(scope.tenant);
    const uri = `${this.connection.location}?table=${encodeURIComponent(this.exposureTable.replace(/"/g, ''))}&tenant=${encodeURIComponent(scope.tenant)}&surface=${encodeURIComponent(scope.surface)}&day=${day}`;
    return [{ uri, open: async () => this.read(scope, tenantId, day) }];
  }

  private async *read(scope: Scope, tenantId: string, day: string): AsyncGenerator<RawInputChunk> {
    const { connection } = this;
    const batch = this.options.batchRows ?? 5000;
    const target = this.options.chunkBytes ?? 1 << 20;
    // Text casts: the driver parses nothing (no jsonb → object → JSON, no timestamps through Date).
    const sql =
      `SELECT occurred_at::text, id::text, session_id, request_id::text, response::text FROM ${this.exposureTable} ` +
      'WHERE tenant_id = $1 AND surface = $2 AND occurred_at >= $3::timestamptz AND occurred_at < $4::timestamptz ORDER BY occurred_at, id';
    const params = [tenantId, scope.surface, `${day} 00:00:00+00`, `${nextDay(day)} 00:00:00+00`];
    const tenantJson = JSON.stringify(scope.tenant);
    const surfaceJson = JSON.stringify(scope.surface);
    const client = await connect(connection);
    let cursor: Cursor<string[]> | undefined;
    try {
      cursor = client.query(new Cursor<string[]>(sql, params, { rowMode: 'array' }));
      let lines: string[] = [];
      let size = 0;
      for (;;) {
        let rows: string[][];
        try {
          rows = await cursor.read(batch);
        } catch (error) {
          throw pgError(connection, `cannot read ${this.exposureTable} for ${scope.tenant}/${scope.surface} ${day}`, error);
        }
        if (rows.length === 0) break;
        for (const row of rows) {
          const [occurredAt, id, sessionId, requestId, responseText] = row as [string, string, string | null, string | null, string];
          const m = PG_UTC_TIMESTAMP.exec(occurredAt);
          const ts = m ? `${m[1]}T${m[2]}Z` : occurredAt;
          const problem = (reason: RejectReason, detail: string) => ({ reason, detail });
          let failed: { reason: RejectReason; detail: string } | undefined;
          const out: string[] = [];
          if (!m) failed = problem('invalid_timestamp', `occurred_at ${JSON.stringify(occurredAt)} is not a UTC timestamp`);
          let response: unknown;
          if (!failed) {
            try {
              response = JSON.parse(responseText);
            } catch {
              failed = problem('invalid_response', 'response is not JSON');
            }
          }
          const items = isObject(response) ? response.items : undefined;
          if (!failed && !Array.isArray(items)) failed = problem('invalid_response', `response must be an object with an "items" array, got ${describe(response)}`);
          if (!failed) {
            const list = items as unknown[];
            for (let k = 0; k < list.length; k++) {
              const item = list[k];
              if (!isObject(item)) {
                failed = problem('invalid_response', `response.items[${k}] must be an object, got ${describe(item)}`);
                break;
              }
              const event: Record<string, unknown> = { v: 1, ts, tenant: scope.tenant, surface: scope.surface, item_id: item.item_id };
              if (sessionId !== null) event.session_id = sessionId;
              if (requestId !== null) event.request_id = requestId;
              if (item.rank !== undefined && item.rank !== null) event.rank = item.rank;
              const checked = checkRawEvent(event);
              if (!checked.ok) {
                const what = sessionId === null && checked.reason === 'missing_field' ? 'session_id is null' : checked.detail;
                failed = { reason: checked.reason, detail: `response.items[${k}]: ${what}` };
                break;
              }
              // Built by hand: ids are re-validated and normalised by ingest like any raw line.
              out.push(
                `{"v":1,"ts":"${ts}","tenant":${tenantJson},"surface":${surfaceJson},"session_id":${JSON.stringify(sessionId)},"item_id":${JSON.stringify(item.item_id)}` +
                  `${requestId !== null ? `,"request_id":"${requestId}"` : ''}${event.rank !== undefined ? `,"rank":${event.rank as number}` : ''}}\n`,
              );
            }
          }
          if (failed) {
            if (lines.length > 0) {
              yield Buffer.from(lines.join(''));
              lines = [];
              size = 0;
            }
            yield {
              kind: 'reject',
              location: { occurred_at: ts, id },
              reason: failed.reason,
              detail: `row (occurred_at ${ts}, id ${id}): ${failed.detail}`,
              raw: `{"occurred_at":${JSON.stringify(ts)},"id":${JSON.stringify(id)},"session_id":${JSON.stringify(sessionId)},"request_id":${JSON.stringify(requestId)},"response":${responseText}}`,
            };
            continue;
          }
          for (const line of out) {
            lines.push(line);
            size += line.length;
          }
          if (size >= target) {
            yield Buffer.from(lines.join(''));
            lines = [];
            size = 0;
          }
        }
      }
      if (lines.length > 0) yield Buffer.from(lines.join(''));
    } finally {
      await cursor?.close().catch(() => {});
      await client.end().catch(() => {});
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object without "items"';
  return `a ${typeof value}`;
}
