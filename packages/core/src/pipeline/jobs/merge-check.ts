import type { ArtifactType } from '@recsys/contracts';
import { UsageError } from '../../errors.js';
import { keys } from '../../keys.js';
import type { PipelineEnv } from '../../pipeline-env.js';
import { targetOf, type JobPlan } from '../plan.js';
import { windowFolderOf } from '../staging.js';
import { SHARD_HASH, partialConfigHash, partialLimits, readPartialHeader, shardOfPartialKey, type PartialHeader } from '../partials.js';

/** The partials of one type and day that form one complete, consistent set, in shard order. */
export interface CheckedPartials {
  readonly type: ArtifactType;
  readonly day: string;
  readonly keys: string[];
  readonly headers: PartialHeader[];
}

function describeLimits(limits: Record<string, unknown>): string {
  return Object.entries(limits).map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/**
 * The partials of one type and day, checked to form one complete,
 * consistent set; otherwise a usage error (exit 2) naming every problem.
 */
export async function checkPartials(env: PipelineEnv, plan: JobPlan, type: ArtifactType, day: string): Promise<CheckedPartials> {
  const storage = env.areas.objects;
  const target = targetOf(plan, day);
  const prefix = keys.partialPrefix(plan.scope, plan.segment, type, windowFolderOf(target.window));
  const configHash = partialConfigHash(type, env.limits, env.sha256);
  const ownLimits = partialLimits(type, env.limits);
  const problems: string[] = [];
  const found: { key: string; header: PartialHeader }[] = [];
  for await (const obj of storage.list(prefix)) {
    const name = obj.key.slice(prefix.length);
    const named = shardOfPartialKey(name);
    if (!named || name.includes('/')) {
      problems.push(`unexpected object ${name} among the partials`);
      continue;
    }
    const header = await readPartialHeader(storage, obj.key);
    if (!header) continue;
    found.push({ key: obj.key, header });
    const where = `partial ${name}`;
    if (header.shard.index !== named.index || header.shard.count !== named.count) problems.push(`${where} holds shard ${header.shard.index}/${header.shard.count}, not ${named.index}/${named.count} as its name says`);
    const scopeOf = (h: { artifact_type: string; tenant: string; surface: string; segment: string }) => `${h.artifact_type} of ${h.tenant}/${h.surface} segment ${h.segment}`;
    const expected = { artifact_type: type, tenant: plan.scope.tenant, surface: plan.scope.surface, segment: plan.segment };
    if (scopeOf(header) !== scopeOf(expected)) problems.push(`${where} is ${scopeOf(header)}, not ${scopeOf(expected)}`);
    if (header.day !== day || header.window.start !== target.window.start || header.window.end !== target.window.end) {
      problems.push(`mismatched window: ${where} covers ${header.window.start}..${header.window.end}, expected ${target.window.start}..${target.window.end}`);
    }
    if (header.shard_hash !== SHARD_HASH) problems.push(`${where} was sharded with ${header.shard_hash}, this build uses ${SHARD_HASH}`);
    if (header.config_hash !== configHash) {
      problems.push(`mismatched config hash: ${where} was computed with ${describeLimits(header.limits)} (config hash ${header.config_hash.slice(0, 12)}), this merge uses ${describeLimits(ownLimits)} (${configHash.slice(0, 12)})`);
    }
  }
  const counts = [...new Set(found.map((f) => f.header.shard.count))].sort((a, b) => a - b);
  const n = plan.shardCount ?? (counts.length === 1 ? counts[0]! : undefined);
  if (found.length === 0) {
    problems.push(`no partials found${plan.shardCount !== undefined ? ` (expected ${plan.shardCount})` : ''}; run \`compute ${type} --shard i/n\` for every shard first`);
  } else if (n === undefined) {
    problems.push(`mismatched n: the partials disagree on the shard count (${counts.join(' vs ')}): ${found.map((f) => `${f.key.slice(prefix.length)}`).join(', ')}; remove the stale ones or pass --shard-count`);
  }
  const byIndex = new Map<number, { key: string; header: PartialHeader }[]>();
  if (n !== undefined) {
    for (const f of found) {
      if (f.header.shard.count !== n) {
        problems.push(`mismatched n: partial ${f.key.slice(prefix.length)} is shard ${f.header.shard.index} of ${f.header.shard.count}, expected ${n} shards`);
        continue;
      }
      const list = byIndex.get(f.header.shard.index) ?? [];
      list.push(f);
      byIndex.set(f.header.shard.index, list);
    }
    for (const [index, list] of [...byIndex].sort((a, b) => a[0] - b[0])) {
      if (list.length > 1) problems.push(`duplicate shard ${index}: ${list.map((f) => f.key.slice(prefix.length)).join(' and ')} both hold it`);
    }
    const missingShards: number[] = [];
    for (let i = 0; i < n; i++) if (!byIndex.has(i)) missingShards.push(i);
    if (found.length > 0 && missingShards.length > 0) problems.push(`missing shard${missingShards.length > 1 ? 's' : ''} ${missingShards.join(', ')} of ${n}`);
  }
  const ordered = n === undefined ? [] : Array.from({ length: n }, (_, i) => byIndex.get(i)?.[0]).filter((f) => f !== undefined);
  if (problems.length === 0 && ordered.length > 0) {
    const first = ordered[0]!.header.counts;
    const differs = ordered.filter((f) => f.header.counts.read !== first.read || f.header.counts.rejected !== first.rejected || f.header.counts.other_scope !== first.other_scope || f.header.counts.out_of_window !== first.out_of_window);
    if (differs.length > 0) {
      problems.push(
        `the shards ingested different raw input (lines read: ${ordered.map((f) => `shard ${f.header.shard.index}: ${f.header.counts.read}`).join(', ')}); re-run ingest and compute for every shard`,
      );
    }
  }
  if (problems.length > 0) {
    throw new UsageError(`merge ${type} ${plan.scope.tenant}/${plan.scope.surface} ${day}: refusing to merge the partials in ${storage.uri(prefix.slice(0, -1))}: ${problems.join('; ')}`, { type, day, problems });
  }
  return { type, day, keys: ordered.map((f) => f.key), headers: ordered.map((f) => f.header) };
}

