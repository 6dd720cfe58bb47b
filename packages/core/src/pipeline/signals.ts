import { DEFAULT_SEGMENT, manifestKey, parseCoocArtifact, parsePopularityArtifact, type ArtifactType } from '@recsys/contracts';
import { concatBytes } from '../bytes.js';
import { IntegrityError, NotFoundError } from '../errors.js';
import type { ArtifactTarget, BuiltArtifact } from '../compute/artifacts.js';
import type { Catalog } from '../catalog/catalog.js';
import { catalogForSurface } from '../compute/content-sim.js';
import { Registry } from '../registry/registry.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { CovisitSignalRow, DaySignals, PopularitySignal, SignalsSink, SignalsWriteResult } from '../ports.js';

export type { CovisitSignalRow, DaySignals, PopularitySignal, SignalsSink, SignalsWriteResult, TagSignal } from '../ports.js';
import { loadStaged } from './staging.js';

/*
 * Signals (DESIGN §8.2): recsys-service, in its default mode, reads
 * popularity and co-visitation from tables in its own database instead of
 * our artifacts. After a day's artifacts pass their gates, the day's rows
 * are derived from those artifacts (so the tables and the blobs always
 * agree) and handed to a SignalsSink, which replaces the day atomically.
 */

/** What the signals step did for one day. @since 0.2.0 */
export interface DaySignalsReport {
  readonly day: string;
  readonly written: boolean;
  /** Why nothing was written (non-default segment). */
  readonly skipped?: string;
  readonly location: string;
  /** Where each artifact came from (`staged` or `published`) with its version. */
  readonly sources?: Readonly<Record<string, { readonly from: 'staged' | 'published' | 'run'; readonly version: string }>>;
  readonly rows?: SignalsWriteResult;
}

/** The artifact types that feed signal tables. @since 0.2.0 */
export const SIGNAL_ARTIFACT_TYPES: readonly ArtifactType[] = ['popularity', 'cooc'];

async function blobJson(built: BuiltArtifact): Promise<unknown> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of built.blob()) {
    parts.push(chunk);
    length += chunk.length;
  }
  return JSON.parse(new TextDecoder().decode(concatBytes(parts, length)));
}

/**
 * Why a segment's signals are not written: the service's tables have no
 * segment column, so only the default segment feeds them. `undefined` for
 * the default segment.
 * @since 0.2.0
 */
export function signalsSkipReason(segment: string): string | undefined {
  return segment === DEFAULT_SEGMENT ? undefined : `segment "${segment}" is not written to the signal tables: they have no segment column, only the "${DEFAULT_SEGMENT}" segment feeds them`;
}

/** A day's artifacts to derive signals from, with where each came from. */
export interface SignalInputs {
  readonly artifacts: ReadonlyMap<ArtifactType, { readonly built: BuiltArtifact; readonly from: 'staged' | 'published' | 'run' }>;
  readonly catalog?: Catalog | undefined;
}

/**
 * Derives a day's signals from its artifacts and writes them: popularity
 * items, every (row item → neighbour) entry of cooc, and the catalog's tags
 * of the surface. Non-default segments write nothing (the report says why).
 * @since 0.2.0
 */
export async function writeDaySignals(env: PipelineEnv, sink: SignalsSink, target: ArtifactTarget, day: string, inputs: SignalInputs): Promise<DaySignalsReport> {
  const skipped = signalsSkipReason(target.segment);
  if (skipped) {
    env.logger.info({ day, segment: target.segment }, skipped);
    return { day, written: false, skipped, location: sink.location };
  }
  const sources: Record<string, { from: 'staged' | 'published' | 'run'; version: string }> = {};
  let popularity: PopularitySignal[] | undefined;
  let covisit: CovisitSignalRow[] | undefined;
  for (const [type, { built, from }] of inputs.artifacts) {
    sources[type] = { from, version: built.version };
    const json = await blobJson(built);
    if (type === 'popularity') popularity = parsePopularityArtifact(json).items;
    else if (type === 'cooc') covisit = parseCoocArtifact(json).neighbors;
  }
  const tags = inputs.catalog
    ? catalogForSurface(inputs.catalog, target.scope.surface).items.map((i) => ({ item_id: i.item_id, tags: i.tags, ...(i.price !== undefined ? { price: i.price } : {}) }))
    : undefined;
  const signals: DaySignals = {
    tenant: target.scope.tenant,
    namespace: target.scope.surface,
    day,
    ...(popularity ? { popularity } : {}),
    ...(covisit ? { covisit } : {}),
    ...(tags ? { tags } : {}),
    updatedAt: env.clock.now().toISOString(),
  };
  const rows = await sink.writeDay(signals);
  env.logger.info({ day, ...target.scope, location: sink.location, rows }, 'wrote signals');
  return { day, written: true, location: sink.location, sources, rows };
}

/**
 * The artifact of `type` for a day, staged (job mode) or else the one the
 * manifest points at when its window is that day.
 * @since 0.2.0
 */
export async function signalArtifact(env: PipelineEnv, target: ArtifactTarget, type: ArtifactType): Promise<{ built: BuiltArtifact; from: 'staged' | 'published' }> {
  const staged = await loadStaged(env, target, type);
  if (staged) return { built: staged.built, from: 'staged' };
  const current = await new Registry(env.areas.registry).readManifest(target.scope);
  const uri = current?.manifest.current[manifestKey(type, target.segment)];
  const key = uri === undefined ? undefined : env.areas.objects.keyOfUri(uri);
  if (uri !== undefined && key !== undefined) {
    const data = await env.areas.objects.get(key);
    if (!data) throw new IntegrityError(`published ${type} ${uri} is missing`, { uri });
    const json = JSON.parse(new TextDecoder().decode(data)) as { window?: { start?: string; end?: string }; build?: { version?: string; built_at?: string } };
    if (json.window?.start === target.window.start && json.window?.end === target.window.end) {
      const built: BuiltArtifact = { type, version: json.build?.version ?? '', builtAt: json.build?.built_at ?? '', rows: 0, blob: () => [data] };
      return { built, from: 'published' };
    }
  }
  throw new NotFoundError(`no staged or published ${type} artifact for ${target.scope.tenant}/${target.scope.surface} segment ${target.segment} window ${target.window.start}; run compute (or run) for that day first`, { type, window: target.window });
}

/** What the `signals` step works on: a scope, a segment and the days. @since 0.2.0 */
export interface SignalsPlan {
  readonly scope: ArtifactTarget['scope'];
  readonly segment: string;
  readonly days: readonly string[];
  /** Which artifact types feed the tables (default: popularity and cooc). */
  readonly types?: readonly ArtifactType[];
}

/**
 * The `signals` job step: per day, the staged (or else published) artifacts
 * → the day's signal tables, so a scheduler can run it after `publish`.
 * @since 0.2.0
 */
export async function signalsJob(
  env: PipelineEnv,
  plan: SignalsPlan,
  sink: SignalsSink,
  options: { readonly catalog?: Catalog | undefined; readonly dayWindow: (day: string) => ArtifactTarget['window'] },
  onDay?: (report: DaySignalsReport) => void,
): Promise<DaySignalsReport[]> {
  const reports: DaySignalsReport[] = [];
  const types = (plan.types ?? SIGNAL_ARTIFACT_TYPES).filter((t) => SIGNAL_ARTIFACT_TYPES.includes(t));
  if (!signalsSkipReason(plan.segment) && plan.days.length > 0) await sink.prepare?.(plan.scope);
  for (const day of plan.days) {
    const target: ArtifactTarget = { scope: plan.scope, segment: plan.segment, window: options.dayWindow(day) };
    const artifacts = new Map<ArtifactType, { built: BuiltArtifact; from: 'staged' | 'published' }>();
    // A skipped segment needs no artifacts; looking them up could only fail.
    if (!signalsSkipReason(plan.segment)) for (const type of types) artifacts.set(type, await signalArtifact(env, target, type));
    const report = await writeDaySignals(env, sink, target, day, { artifacts, catalog: options.catalog });
    reports.push(report);
    onDay?.(report);
  }
  return reports;
}
