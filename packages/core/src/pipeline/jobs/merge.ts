import type { ItemExposure } from '../../compute/popularity.js';
import { finishArtifact } from '../../compute/artifacts.js';
import { kindOf } from '../../compute/kinds.js';
import { MissingPairsError } from '../../compute/cooc.js';
import { formatUtcSeconds } from '@recsys/contracts';
import type { PipelineEnv } from '../../pipeline-env.js';
import { checkCanonicalGate, checkDayLimits } from '../../validate/gates.js';
import { targetOf, type JobPlan } from '../plan.js';
import { stageArtifacts, type StagedArtifact } from '../staging.js';
import { DayItems, mergePartials, type MergedPartials } from '../partials.js';
import { applyVolumeGate, recordedVolumeVerdict } from '../volume-gate.js';
import { buildWindowArtifacts, windowNeedsPairs } from '../window-artifacts.js';
import { dayAggregateOfCounts } from '../../compute/day-aggregate.js';
import { refuseFailedValidation } from '../validate-record.js';
import { checkPartials, type CheckedPartials } from './merge-check.js';
import { enterPhase } from '../day-steps.js';
import { assembleQuarantine, readPartSet } from '../ingest-parts.js';

/** One merged day. @since 0.1.0 */
export interface MergeDayResult {
  readonly day: string;
  readonly shards: number;
  readonly events: number;
  readonly staged: StagedArtifact[];
}

/**
 * `merge <type…>`: per day, checks that the partials of every requested
 * type form one complete set (same n, every shard exactly once, same window,
 * scope and config hash, same raw input) — all days before merging any —
 * then sums them, applies the canonical gate and the per-run limits to the
 * whole day, applies top-N / min-support / neighbour caps with the same
 * functions as the single-process path, and stages the final artifact.
 * @since 0.1.0
 */
export async function mergeJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: MergeDayResult) => void): Promise<MergeDayResult[]> {
  const checked = new Map<string, CheckedPartials[]>();
  for (const day of plan.days) {
    const sets: CheckedPartials[] = [];
    for (const type of plan.types) sets.push(await checkPartials(env, plan, type, day));
    checked.set(day, sets);
    // A shard whose partition failed validate must not reach the day's artifact.
    const judged = new Set<string>();
    for (const header of sets.flatMap((set) => set.headers)) {
      for (const input of header.inputs) {
        const id = `${header.shard.index}/${header.shard.count}/${input.sha256}`;
        if (judged.has(id)) continue;
        judged.add(id);
        await refuseFailedValidation(env, 'merge', plan.scope, day, header.shard, input.sha256);
      }
    }
  }
  const results: MergeDayResult[] = [];
  for (const day of plan.days) {
    enterPhase(env, day, 'compute');
    const target = targetOf(plan, day);
    const builtAt = formatUtcSeconds(env.clock.now().getTime());
    const staged: StagedArtifact[] = [];
    let events = 0;
    let shards = 0;
    // The day's quarantine, once, from the ingest parts (each shard's report only sums their counts).
    const partCount = checked.get(day)![0]?.headers[0]?.shard.count;
    const parts = partCount !== undefined ? await readPartSet(env, plan.scope, day, partCount, 'merge') : undefined;
    if (parts) await assembleQuarantine(env, plan.scope, day, parts);
    const merged: { set: CheckedPartials; merged: MergedPartials }[] = [];
    // Every type's partials of a shard list the same items: the day's items are merged once.
    const dayItems = new DayItems();
    // A one-day artifact is built from the pairs its kind needs (with a cut, those of the most exposed items; the
    // others are decoded, checked and not kept); a window's day aggregate keeps every pair.
    const oneDay = !(plan.windowDays !== undefined && plan.windowDays > 1);
    for (const set of checked.get(day)!) {
      const pairItems = oneDay ? kindOf(set.type)?.sharded?.pairItems : undefined;
      const m = await mergePartials(env.areas.objects, set.keys, set.headers, dayItems, pairItems && ((exposure) => pairItems(exposure, env.limits)));
      checkCanonicalGate(day, m.counts, env.limits);
      checkDayLimits(day, { events: m.events, sessions: m.sessions, items: m.items.size }, env.limits);
      merged.push({ set, merged: m });
      events = m.events;
      shards = set.keys.length;
    }
    // The merge is the first step that sees the whole day of a sharded run: it judges its volume.
    if (env.volumeAnomaly && merged.length > 0) {
      const { set, merged: m } = merged[0]!;
      const verdict = await recordedVolumeVerdict(env, plan.scope, day);
      const accept = plan.acceptAnomaly === true || (verdict?.outcome === 'accepted' && verdict.observed.accepted_events === m.counts.accepted && verdict.observed.distinct_items === m.items.size);
      await applyVolumeGate(env, plan.scope, day, { accepted_events: m.counts.accepted, distinct_items: m.items.size }, { config: env.volumeAnomaly, accept, shards: set.headers.map((h) => h.shard) });
    }
    if (plan.windowDays !== undefined && plan.windowDays > 1) {
      // One aggregate of the day, from partials with pair counts when there are (they also hold the exposures).
      const source = merged.find((x) => kindOf(x.set.type)?.sharded?.pairs) ?? merged[0]!;
      const m = source.merged;
      const aggregate = dayAggregateOfCounts(day, m.items, m.exposures, windowNeedsPairs(plan.types) ? m.pairs : undefined, m.events, m.sessions);
      const w = await buildWindowArtifacts(env, target, day, plan.windowDays, plan.types, { inputs: m.inputs, aggregate }, builtAt);
      staged.push(...(await stageArtifacts(env, w.target, w.built, w.inputs, { shards })));
    } else {
      for (const { set, merged: m } of merged) {
        const exposure: ItemExposure = { names: m.items.values, counts: m.exposures.data, ranks: m.ranks };
        const merge = kindOf(set.type)!.sharded!.merge;
        let payload;
        try {
          payload = merge({ exposure, pairs: m.pairs }, env.limits);
        } catch (error) {
          if (!(error instanceof MissingPairsError)) throw error;
          // The rows are not all among the items whose pairs were kept (rare): every pair, read again.
          const every = await mergePartials(env.areas.objects, set.keys, set.headers, dayItems);
          payload = merge({ exposure, pairs: every.pairs }, env.limits);
        }
        const built = finishArtifact(set.type, target, payload, builtAt, env.sha256, env.blobFormat);
        staged.push(...(await stageArtifacts(env, target, [built], m.inputs, { shards: set.keys.length })));
      }
    }
    const result: MergeDayResult = { day, shards, events, staged };
    env.logger.info({ day, shards, staged: staged.map((s) => ({ type: s.type, version: s.version })) }, 'merged day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}
