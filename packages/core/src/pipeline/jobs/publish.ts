import type { ArtifactType, InputPartition } from '@recsys/contracts';
import { NotFoundError, ValidationGateError } from '../../errors.js';
import type { PipelineEnv } from '../../pipeline-env.js';
import type { PublishStepHook } from '../../publish/publish.js';
import { artifactTargetOf, type JobPlan } from '../plan.js';
import { acceptedAnomalyMessage, recordedVolumeVerdict } from '../volume-gate.js';
import { enterPhase, completeDayStep, logPublishedDay, publishDayStep, type PublishDayResult } from '../day-steps.js';
import { loadStaged, stagedVersion } from '../staging.js';
import { dayList } from './messages.js';

function sameInputs(a: readonly InputPartition[], b: readonly InputPartition[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * `publish`: per day, publishes the staged artifacts of the requested
 * types with the pointer last (DESIGN §5.5), all types of a day in one
 * manifest change, exactly as `run` does; advances the checkpoint with
 * `--incremental`. Fails (exit 1) before publishing anything when a
 * requested type is not staged for a day.
 * @since 0.1.0
 */
export async function publishJob(env: PipelineEnv, plan: JobPlan, onDay?: (day: PublishDayResult) => void, hook?: PublishStepHook): Promise<PublishDayResult[]> {
  const missing: { day: string; types: ArtifactType[] }[] = [];
  let stagedAny = false;
  for (const day of plan.days) {
    const absent: ArtifactType[] = [];
    for (const type of plan.types) {
      if ((await stagedVersion(env, artifactTargetOf(plan, day), type)) === undefined) absent.push(type);
      else stagedAny = true;
    }
    if (absent.length > 0) missing.push({ day, types: absent });
  }
  const where = `${plan.scope.tenant}/${plan.scope.surface} segment ${plan.segment}`;
  if (plan.days.length > 0 && !stagedAny) {
    throw new NotFoundError(
      `nothing staged to publish for ${where} on ${dayList(plan.days)} (looked for ${plan.types.join(', ')} under ${env.areas.artifacts.uri(`${plan.scope.tenant}/${plan.scope.surface}/${plan.segment}`)}); run \`recsys-pipelines compute\` (or \`merge\`) first`,
      { days: plan.days, types: plan.types },
    );
  }
  if (missing.length > 0) {
    const list = missing.map((m) => `${m.day}: ${m.types.join(', ')}`).join('; ');
    throw new NotFoundError(`not staged for ${where}: ${list}; compute them first or publish only the staged types with --artifacts`, { missing });
  }
  const results: PublishDayResult[] = [];
  for (const day of plan.days) {
    enterPhase(env, day, 'publish');
    const target = artifactTargetOf(plan, day);
    const loaded = [];
    for (const type of plan.types) loaded.push((await loadStaged(env, target, type))!);
    const inputs = loaded[0]!.meta.inputs;
    const stale = loaded.filter((l) => !sameInputs(l.meta.inputs, inputs));
    if (stale.length > 0) {
      throw new ValidationGateError(
        'staged_inputs',
        `day ${day}: the staged artifacts were computed from different canonical data (${loaded.map((l) => `${l.built.type} from ${l.meta.inputs.map((i) => i.sha256.slice(0, 12)).join('+')}`).join(', ')}); re-run compute for every type`,
        { day },
      );
    }
    const verdict = env.volumeAnomaly ? await recordedVolumeVerdict(env, plan.scope, day) : undefined;
    const result = await publishDayStep(env, plan, day, loaded.map((l) => l.built), inputs, hook, acceptedAnomalyMessage(verdict));
    await completeDayStep(env, plan, day);
    logPublishedDay(env, result);
    results.push(result);
    onDay?.(result);
  }
  return results;
}
