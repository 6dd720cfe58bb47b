import type { PipelineEnv } from '../pipeline-env.js';
import { catalogForSurface } from '../compute/content-sim.js';
import { loadCatalog, type Catalog, type CatalogFormat, type CatalogProblem, type CatalogSource } from '../catalog/catalog.js';
import { checkCatalogGate } from '../validate/gates.js';
import type { JobPlan } from './plan.js';

/** What a run read from its item catalog (reported with each day that used it). @since 0.1.0 */
export interface CatalogReport {
  readonly location: string;
  readonly format: CatalogFormat;
  readonly sha256?: string;
  /** Data rows read. */
  readonly rows: number;
  readonly malformed: number;
  /** The first malformed rows with their line numbers. */
  readonly problems: readonly CatalogProblem[];
  /** Items that apply to the surface (before `max_items_per_artifact`). */
  readonly items: number;
  readonly other_namespace: number;
  readonly no_tags: number;
}

/** How many malformed catalog rows are logged one by one. */
const LOGGED_PROBLEMS = 20;

/**
 * Reads the plan's item catalog once for the whole run, logs its malformed
 * rows with line numbers and applies the catalog gate, all before the
 * first day writes anything.
 */
export async function loadRunCatalog(env: PipelineEnv, plan: Pick<JobPlan, 'scope'>, source: CatalogSource): Promise<{ catalog: Catalog; report: CatalogReport }> {
  const catalog = await loadCatalog(source, env.sha256);
  for (const problem of catalog.problems.slice(0, LOGGED_PROBLEMS)) {
    env.logger.warn({ catalog: catalog.location, line: problem.line, reason: problem.reason, detail: problem.detail }, 'malformed catalog row');
  }
  const surface = catalogForSurface(catalog, plan.scope.surface);
  const report: CatalogReport = {
    location: catalog.location,
    format: catalog.format,
    ...(catalog.sha256 ? { sha256: catalog.sha256 } : {}),
    rows: catalog.rows,
    malformed: catalog.malformed,
    problems: catalog.problems,
    items: surface.items.length,
    other_namespace: surface.other_namespace,
    no_tags: surface.no_tags,
  };
  const { problems: _listed, ...summary } = report;
  env.logger.info({ ...summary, malformed_by_reason: catalog.malformed_by_reason }, 'read item catalog');
  checkCatalogGate(catalog, plan.scope.surface, env.limits);
  return { catalog, report };
}
