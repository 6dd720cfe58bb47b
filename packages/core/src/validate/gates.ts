import { ContractValidationError, parseArtifact, verifyArtifactVersion, type ArtifactV1 } from '@recsys/contracts';
import { ValidationGateError } from '../errors.js';
import type { Limits } from '../limits.js';
import { checkLimit } from '../check-limit.js';
import { SERVICE_ARTIFACT_MAX_BYTES } from '../limits.js';
import type { EventTable } from '../compute/event-table.js';
import type { ArtifactTarget } from '../compute/artifacts.js';
import type { IngestCounts } from '../ingest/ingest-day.js';
import type { Catalog } from '../catalog/catalog.js';
import { catalogForSurface } from '../compute/content-sim.js';
import { kindOf } from '../compute/kinds.js';
import { checkArtifactFacts } from './artifact-facts.js';

/**
 * Canonical gate (DESIGN §5.3): the day has events and the share of rejected
 * lines is within `limits.max_bad_event_ratio`. One shard of a sharded run
 * may legitimately be empty: `nonEmpty: false` leaves that check to the
 * merge, which sees the whole day.
 * @since 0.1.0
 */
export function checkCanonicalGate(day: string, counts: IngestCounts, limits: Limits, options: { nonEmpty?: boolean } = {}): void {
  const ratio = counts.read === 0 ? 0 : counts.rejected / counts.read;
  if (ratio > limits.max_bad_event_ratio) {
    const reasons = Object.entries(counts.rejected_by_reason).map(([r, n]) => `${r}=${n}`).join(', ');
    throw new ValidationGateError(
      'max_bad_event_ratio',
      `day ${day}: ${counts.rejected} of ${counts.read} lines rejected (ratio ${ratio.toFixed(6)} > limits.max_bad_event_ratio ${limits.max_bad_event_ratio}); reasons: ${reasons}`,
      { day, rejected: counts.rejected, read: counts.read, ratio, allowed: limits.max_bad_event_ratio, config_key: 'limits.max_bad_event_ratio' },
    );
  }
  if (counts.accepted === 0 && options.nonEmpty !== false) {
    throw new ValidationGateError('non_empty', `day ${day}: no events for this tenant/surface (read ${counts.read} lines, ${counts.other_scope} of other tenants/surfaces, ${counts.out_of_window} on other days); refusing to publish empty artifacts`, {
      day,
      ...counts,
    });
  }
}

/** How many malformed catalog rows a gate message lists. */
const LISTED_PROBLEMS = 10;

/**
 * Catalog gate (`content_sim` input), checked once per run before any day
 * is ingested:
 * 1. `catalog_bad_ratio`: malformed rows / data rows (header and blank
 *    lines not counted) must not exceed `limits.max_bad_event_ratio`, the
 *    same limit as raw events but a separate ratio, so a small broken
 *    catalog cannot hide behind a large clean day of events (or vice versa);
 * 2. `catalog_empty`: at least one item must apply to the surface (namespace
 *    unset or equal to it, at least one tag), since publishing an empty
 *    `content_sim` would wipe what is being served.
 * The message lists the first malformed rows with their line numbers.
 * @since 0.1.0
 */
export function checkCatalogGate(catalog: Catalog, surface: string, limits: Limits): void {
  const ratio = catalog.rows === 0 ? 0 : catalog.malformed / catalog.rows;
  if (ratio > limits.max_bad_event_ratio) {
    const listed = catalog.problems.slice(0, LISTED_PROBLEMS).map((p) => `line ${p.line}: ${p.reason} (${p.detail})`);
    const more = catalog.malformed > listed.length ? `; and ${catalog.malformed - listed.length} more` : '';
    throw new ValidationGateError(
      'catalog_bad_ratio',
      `item catalog ${catalog.location}: ${catalog.malformed} of ${catalog.rows} rows malformed (ratio ${ratio.toFixed(6)} > limits.max_bad_event_ratio ${limits.max_bad_event_ratio}): ${listed.join('; ')}${more}`,
      {
        catalog: catalog.location,
        malformed: catalog.malformed,
        rows: catalog.rows,
        ratio,
        allowed: limits.max_bad_event_ratio,
        config_key: 'limits.max_bad_event_ratio',
        malformed_by_reason: catalog.malformed_by_reason,
        problems: catalog.problems.slice(0, LISTED_PROBLEMS),
      },
    );
  }
  const forSurface = catalogForSurface(catalog, surface);
  if (forSurface.items.length === 0) {
    throw new ValidationGateError(
      'catalog_empty',
      `item catalog ${catalog.location}: no item applies to surface ${JSON.stringify(surface)} (${catalog.items.length} well-formed rows: ${forSurface.other_namespace} of another namespace, ${forSurface.no_tags} without tags); refusing to publish an empty content_sim`,
      { catalog: catalog.location, surface, rows: catalog.rows, other_namespace: forSurface.other_namespace, no_tags: forSurface.no_tags },
    );
  }
}

/** What the per-run limits count of a day. @since 0.1.0 */
export interface DayTotals {
  readonly events: number;
  readonly sessions: number;
  readonly items: number;
}

/**
 * Per-run guardrails on a day's events (exit 4 when tripped): the one check
 * `run`, `validate`, `compute` and `merge` apply, whatever they counted with.
 * @since 0.1.0
 */
export function checkDayLimits(day: string, totals: DayTotals, limits: Limits): void {
  checkLimit(limits, 'max_events_per_run', totals.events, `day ${day}`);
  checkLimit(limits, 'max_sessions_per_run', totals.sessions, `day ${day}`);
  checkLimit(limits, 'max_distinct_items_per_run', totals.items, `day ${day}`);
}

/**
 * {@link checkDayLimits} on a day's event table.
 * @since 0.1.0
 */
export function checkTableLimits(day: string, table: EventTable, limits: Limits): void {
  checkDayLimits(day, { events: table.length, sessions: table.sessions.size, items: table.items.size }, limits);
}

function longest(rows: readonly { items: readonly unknown[] }[]): number {
  let max = 0;
  for (const row of rows) if (row.items.length > max) max = row.items.length;
  return max;
}

/** Rows of a parsed artifact and the longest row, by its kind's payload key and row limit. */
function payloadSize(a: ArtifactV1): { rows: number; maxRow: number } {
  const kind = kindOf(a.artifact_type);
  const payload = kind ? ((a as unknown as Record<string, readonly unknown[]>)[kind.payloadKey] ?? []) : [];
  return { rows: payload.length, maxRow: kind?.rowLimit ? longest(payload as readonly { items: readonly unknown[] }[]) : 0 };
}

/**
 * Artifact byte gate (DESIGN §5.4): a blob larger than
 * `limits.max_artifact_bytes` is one recsys-service would refuse to load
 * (`RECSYS_ARTIFACT_MAX_BYTES`), so it is never published (exit 3).
 * @since 0.1.0
 */
export function checkArtifactBytes(artifact: { type: string; version: string }, bytes: number, limits: Limits): void {
  const limit = limits.max_artifact_bytes;
  if (bytes <= limit) return;
  const n = (v: number) => v.toLocaleString('en-US');
  throw new ValidationGateError(
    'artifact_bytes',
    `${artifact.type} ${artifact.version}: the blob is ${n(bytes)} bytes, over limits.max_artifact_bytes ${n(limit)}; recsys-service refuses artifacts larger than its RECSYS_ARTIFACT_MAX_BYTES (default ${n(SERVICE_ARTIFACT_MAX_BYTES)}), so it is not published. Lower limits.max_items_per_artifact / limits.max_neighbors_per_item, or raise limits.max_artifact_bytes together with the service's RECSYS_ARTIFACT_MAX_BYTES`,
    { type: artifact.type, version: artifact.version, bytes, allowed: limit, config_key: 'limits.max_artifact_bytes', service_setting: 'RECSYS_ARTIFACT_MAX_BYTES' },
  );
}

/**
 * Artifact gate (DESIGN §5.3) on published bytes: parses with the contract,
 * checks type/tenant/surface/segment/window, recomputes the hash, and checks
 * sizes against the limits. Returns the parsed artifact.
 * @since 0.1.0
 */
export async function checkArtifactGate(bytes: string, expected: { type: string; version: string; target: ArtifactTarget }, limits: Limits): Promise<ArtifactV1> {
  const where = `${expected.type} ${expected.version}`;
  let artifact: ArtifactV1;
  try {
    artifact = parseArtifact(JSON.parse(bytes));
  } catch (error) {
    const detail = ContractValidationError.isInstance(error) ? error.message : `not JSON: ${(error as Error).message}`;
    throw new ValidationGateError('artifact_contract', `${where}: ${detail}`, { type: expected.type, version: expected.version }, { cause: error });
  }
  checkArtifactBytes(expected, new TextEncoder().encode(bytes).length, limits);
  const check = await verifyArtifactVersion(artifact);
  const { rows, maxRow } = payloadSize(artifact);
  checkArtifactFacts(where, { ...artifact, rows, maxRow, computedVersion: check.ok ? check.version : check.computed }, expected, limits);
  return artifact;
}
