/**
 * PostgreSQL adapters of recsys-pipelines (DESIGN §8): the raw source over
 * recsys-service's `exposure_events` and the signals sink that writes its
 * `item_popularity_daily`, `item_covisit_daily` and `item_tags` tables.
 * @packageDocumentation
 */
export { PgRawEventSource, type PgRawSourceOptions } from './raw-source.js';
export { PgSignalsSink, type PgSignalsSinkOptions } from './signals-sink.js';
export { resolveConnection, scrubSecrets, quoteTableName, connect, withClient, pgError, findTenantId, type PgConnection, type PgConnectionOptions } from './connection.js';
export { copyText, copyTextArray } from './copy-text.js';
