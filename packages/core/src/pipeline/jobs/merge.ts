import type { ItemExposure } from '../../compute/popularity.js';
import { finishArtifact } from '../../compute/artifacts.js';
import { kindOf } from '../../compute/kinds.js';
import { formatUtcSeconds } from '@recsys/contracts';
import type { PipelineEnv } from '../../pipeline-env.js';
import { checkCanonicalGate, checkDayLimits } from '../../validate/gates.js';
import { targetOf, type JobPlan } from '../plan.js';
import { stageArtifacts, type StagedArtifact } from '../staging.js';
import { mergePartials } from '../partials.js';
import { refuseFailedValidation } from '../validate-record.js';
import { checkPartials, type CheckedPartials } from './merge-check.js';
import { enterPhase } from '../day-steps.js';

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
    for (const set of checked.get(day)!) {
      const merged = await mergePartials(env.areas.objects, set.keys, set.headers);
      checkCanonicalGate(day, merged.counts, env.limits);
      checkDayLimits(day, { events: merged.events, sessions: merged.sessions, items: merged.items.size }, env.limits);
      const exposure: ItemExposure = { names: merged.items.values, counts: merged.exposures.data, ranks: merged.items.utf8Ranks() };
      const payload = kindOf(set.type)!.sharded!.merge({ exposure, pairs: merged.pairs }, env.limits);
      const built = finishArtifact(set.type, target, payload, builtAt, env.sha256);
      staged.push(...(await stageArtifacts(env, target, [built], merged.inputs, { shards: set.keys.length })));
      events = merged.events;
      shards = set.keys.length;
    }
    const result: MergeDayResult = { day, shards, events, staged };
    env.logger.info({ day, shards, staged: staged.map((s) => ({ type: s.type, version: s.version })) }, 'merged day');
    results.push(result);
    onDay?.(result);
  }
  return results;
}
