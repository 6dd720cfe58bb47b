import type { JobPlan } from '../plan.js';

/** ` --shard i/n` for messages that name the command to run, or nothing. */
export function shardText(plan: Pick<JobPlan, 'shard'>): string {
  return plan.shard ? ` --shard ${plan.shard.index}/${plan.shard.count}` : '';
}

/** Lists days as `a, b, c` or a range when they are many. */
export function dayList(days: readonly string[]): string {
  return days.length <= 10 ? days.join(', ') : `${days.slice(0, 5).join(', ')}, … ${days.at(-1)} (${days.length} days)`;
}
