import { z } from 'zod';
import { IntegrityError, ValidationGateError, type RecsysError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import type { ShardSpec } from '../shard.js';

/*
 * What `validate` leaves for the later job-mode steps: when a day (shard)
 * fails a canonical gate, a record naming the gate and the canonical
 * partition it judged, at
 *
 *   artifacts/<tenant>/<surface>/_validate/<day>[.shard-<i>-of-<n>].failed.json
 *
 * `compute` and `merge` refuse a day with such a record for the partition
 * they would read (exit 3), as `run` stops at the gate, so a failed
 * `validate` can never be followed by zero-row artifacts being staged and
 * published. Only failures are recorded, and a passing `validate` removes
 * the record: a day that passes leaves exactly the files `run` leaves.
 */

const FailureSchema = z.strictObject({
  v: z.literal(1),
  tenant: z.string(),
  surface: z.string(),
  day: z.string(),
  shard: z.strictObject({ index: z.int().min(0), count: z.int().min(1) }).optional(),
  /** SHA-256 of the canonical partition that failed (from its ingest report). */
  canonical_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  gate: z.string(),
  kind: z.string(),
  exit_code: z.int(),
  message: z.string(),
});

/** A failed canonical gate as recorded by `validate`. @since 0.1.0 */
export type ValidateFailure = z.infer<typeof FailureSchema>;

/** Which gate an error of `validate` is: the gate name, the limit name, or the error kind. */
function gateOf(error: RecsysError): string {
  const named = error.context.gate ?? error.context.limit;
  return typeof named === 'string' ? named : error.kind;
}

/**
 * Records that `validate` failed for a day (shard) whose canonical partition
 * hashes to `canonicalSha256`. Deterministic bytes (no timestamp), so a
 * repeated failing `validate` rewrites the same record.
 * @since 0.1.0
 */
export async function recordValidateFailure(env: PipelineEnv, scope: Scope, day: string, shard: ShardSpec | undefined, canonicalSha256: string, error: RecsysError): Promise<void> {
  const record: ValidateFailure = {
    v: 1,
    tenant: scope.tenant,
    surface: scope.surface,
    day,
    ...(shard ? { shard: { index: shard.index, count: shard.count } } : {}),
    canonical_sha256: canonicalSha256,
    gate: gateOf(error),
    kind: error.kind,
    exit_code: error.exitCode,
    message: error.message,
  };
  await env.areas.artifacts.put(keys.validateFailure(scope, day, shard), JSON.stringify(record, null, 2) + '\n');
}

/** Removes a day's failure record (a no-op when there is none). @since 0.1.0 */
export async function clearValidateFailure(env: PipelineEnv, scope: Scope, day: string, shard: ShardSpec | undefined): Promise<void> {
  await env.areas.artifacts.delete(keys.validateFailure(scope, day, shard));
}

/** The failure `validate` recorded for a day (shard), or `undefined`. @since 0.1.0 */
export async function readValidateFailure(env: PipelineEnv, scope: Scope, day: string, shard: ShardSpec | undefined): Promise<ValidateFailure | undefined> {
  const storage = env.areas.artifacts;
  const key = keys.validateFailure(scope, day, shard);
  const data = await storage.get(key);
  if (!data) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(data));
  } catch (error) {
    throw new IntegrityError(`validate record ${storage.uri(key)} is not JSON: ${(error as Error).message}`, { uri: storage.uri(key) }, { cause: error });
  }
  const result = FailureSchema.safeParse(parsed);
  if (!result.success) throw new IntegrityError(`validate record ${storage.uri(key)} is malformed: ${result.error.issues[0]!.message}`, { uri: storage.uri(key) });
  return result.data;
}

/**
 * Refuses (exit 3) a day (shard) whose canonical partition, hashing to
 * `canonicalSha256`, failed a gate in `validate`. A record about another
 * partition (the day was re-ingested since) does not count: the new
 * partition has not been judged yet.
 * @since 0.1.0
 */
export async function refuseFailedValidation(env: PipelineEnv, step: 'compute' | 'merge', scope: Scope, day: string, shard: ShardSpec | undefined, canonicalSha256: string): Promise<void> {
  const failure = await readValidateFailure(env, scope, day, shard);
  if (!failure || failure.canonical_sha256 !== canonicalSha256) return;
  const shardFlag = shard ? ` --shard ${shard.index}/${shard.count}` : '';
  throw new ValidationGateError(
    failure.gate,
    `${step} refuses day ${day}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}: \`validate\` failed on this canonical partition (exit ${failure.exit_code}: ${failure.message}). Fix the raw input or the limit, then re-run \`recsys-pipelines ingest${shardFlag}\` and \`validate${shardFlag}\` for ${day} before ${step}`,
    { day, ...(shard ? { shard } : {}), recorded_gate: failure.gate, record: env.areas.artifacts.uri(keys.validateFailure(scope, day, shard)) },
  );
}
