import type { InputPartition } from '@recsys/contracts';
import { IntegrityError } from '../errors.js';
import { keys, type Scope } from '../keys.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { EventTable } from '../compute/event-table.js';
import { countSessionPairs } from '../compute/cooc.js';
import { DayAggregateFormatError, WindowSum, dayAggregateOf, decodeDayAggregate, encodeDayAggregate, type DayAggregate, type WindowSums } from '../compute/day-aggregate.js';
import { splitLines } from '../ingest/line-splitter.js';
import { readCanonicalPartition } from './canonical-reader.js';
import { readIngestReport } from './staging.js';

/*
 * Stored per-day aggregates (objects area), the input of rolling windows
 * (DESIGN §9, docs/explanation/windows.md):
 *
 *   <tenant>/<surface>/_days/<day>.json
 *
 * A cache derived from the day's canonical partition(s), which stay the
 * source of truth: the aggregate names the partitions it was computed from,
 * and one whose partitions are no longer the day's current ones (the day was
 * re-ingested: late data), or that lacks pair counts a window now needs, is
 * rebuilt from the canonical partition, never from raw input.
 */

/** Key of a day's stored aggregate in the objects area. @since 0.3.0 */
export function dayAggregateKey(scope: Scope, day: string): string {
  return keys.ingestReport(scope, day).replace(/_ingest\/([0-9-]+)\.json$/, '_days/$1.json');
}

/** Stores a day's aggregate (atomic, deterministic bytes). @since 0.3.0 */
export async function writeDayAggregate(env: PipelineEnv, scope: Scope, inputs: readonly InputPartition[], aggregate: DayAggregate): Promise<void> {
  const writer = await env.areas.objects.writer(dayAggregateKey(scope, aggregate.day));
  try {
    let buffered: string[] = [];
    let size = 0;
    for (const line of encodeDayAggregate(scope, inputs, aggregate)) {
      buffered.push(line);
      size += line.length;
      // Awaiting per line would dominate; write in blocks of about 1 MiB.
      if (size >= 1 << 20) {
        await writer.write(buffered.join(''));
        buffered = [];
        size = 0;
      }
    }
    if (buffered.length > 0) await writer.write(buffered.join(''));
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
}

/** A stored aggregate with the partitions it was computed from, or `undefined` when missing or unreadable. @since 0.3.0 */
export async function readDayAggregate(env: PipelineEnv, scope: Scope, day: string): Promise<{ inputs: InputPartition[]; aggregate: DayAggregate } | undefined> {
  const key = dayAggregateKey(scope, day);
  const stream = await env.areas.objects.read(key);
  if (!stream) return undefined;
  async function* lines(): AsyncGenerator<string> {
    for await (const line of splitLines(stream!)) {
      if (line.kind !== 'line') throw new DayAggregateFormatError('not a valid line', line.lineNo);
      yield line.text;
    }
  }
  try {
    const { header, aggregate } = await decodeDayAggregate(lines());
    if (header.day !== day || header.tenant !== scope.tenant || header.surface !== scope.surface) throw new DayAggregateFormatError('describes another day or scope than its key', 1);
    return { inputs: header.inputs, aggregate };
  } catch (error) {
    if (!(error instanceof DayAggregateFormatError)) throw error;
    // A cache: a damaged entry is rebuilt from the canonical partition, and said so.
    env.logger.warn({ uri: env.areas.objects.uri(key), problem: error.message }, 'day aggregate unreadable; rebuilding it from the canonical partition');
    return undefined;
  }
}

/**
 * The day's current canonical partition(s), from its ingest report(s): the
 * whole day's, or else one complete set of shard reports — the set `stored`
 * (an aggregate a merge wrote) was computed from when it is still current,
 * otherwise the complete set with the most shards.
 */
async function currentInputs(env: PipelineEnv, scope: Scope, day: string, stored: readonly InputPartition[] | undefined): Promise<InputPartition[] | undefined> {
  const report = await readIngestReport(env, scope, day);
  if (report) return [{ day, uri: report.canonical.uri, sha256: report.canonical.sha256, events: report.counts.accepted }];
  const prefix = keys.ingestReport(scope, day).replace(/\.json$/, '.shard-');
  const byCount = new Map<number, Map<number, InputPartition>>();
  for await (const obj of env.areas.artifacts.list(prefix)) {
    const m = /\.shard-(\d+)-of-(\d+)\.json$/.exec(obj.key);
    if (!m) continue;
    const shard = { index: Number(m[1]), count: Number(m[2]) };
    const r = await readIngestReport(env, scope, day, shard).catch(() => undefined);
    if (!r) continue;
    const set = byCount.get(shard.count) ?? new Map<number, InputPartition>();
    set.set(shard.index, { day, uri: r.canonical.uri, sha256: r.canonical.sha256, events: r.counts.accepted });
    byCount.set(shard.count, set);
  }
  const complete = [...byCount].filter(([n, set]) => set.size === n).map(([n, set]) => Array.from({ length: n }, (_, i) => set.get(i)!));
  if (stored) {
    const same = complete.find((inputs) => sameInputs(inputs, stored));
    if (same) return same;
  }
  return complete.sort((a, b) => b.length - a.length)[0];
}

const sameInputs = (a: readonly InputPartition[], b: readonly InputPartition[]) => a.length === b.length && a.every((p, k) => p.sha256 === b[k]!.sha256 && p.uri === b[k]!.uri);

/** What {@link loadWindow} summed. @since 0.3.0 */
export interface LoadedWindow {
  readonly sums: WindowSums;
  /** Every partition the window was computed from, oldest day first (the version records' `inputs`). */
  readonly inputs: InputPartition[];
  /** Days of the window that were never ingested (summed as empty). */
  readonly missing: string[];
  /** Days whose stored aggregate was missing or stale and was rebuilt from the canonical partition. */
  readonly rebuilt: string[];
}

/** Options of {@link loadWindow}. @since 0.3.0 */
export interface LoadWindowOptions {
  /** Whether the window's kinds need session pair counts. */
  readonly pairs: boolean;
  /** Days already aggregated in memory (the day being run), with their inputs: not read back. */
  readonly known?: ReadonlyMap<string, { readonly inputs: readonly InputPartition[]; readonly aggregate: DayAggregate }> | undefined;
}

/**
 * Sums the aggregates of a window's days: each day's stored aggregate when
 * it matches the day's current canonical partition, else one rebuilt from
 * that partition (and stored). Days never ingested are listed as missing.
 * @since 0.3.0
 */
export async function loadWindow(env: PipelineEnv, scope: Scope, days: readonly string[], options: LoadWindowOptions): Promise<LoadedWindow> {
  const sum = new WindowSum();
  const inputs: InputPartition[] = [];
  const missing: string[] = [];
  const rebuilt: string[] = [];
  for (const day of days) {
    env.signal?.throwIfAborted();
    const known = options.known?.get(day);
    if (known) {
      sum.add(known.aggregate);
      inputs.push(...known.inputs);
      continue;
    }
    const stored = await readDayAggregate(env, scope, day);
    const current = await currentInputs(env, scope, day, stored?.inputs);
    if (!current) {
      missing.push(day);
      continue;
    }
    if (stored && sameInputs(stored.inputs, current) && (!options.pairs || stored.aggregate.pairs)) {
      sum.add(stored.aggregate);
      inputs.push(...stored.inputs);
      continue;
    }
    const aggregate = await aggregateFromCanonical(env, scope, day, current, options.pairs);
    await writeDayAggregate(env, scope, current, aggregate);
    sum.add(aggregate);
    inputs.push(...current);
    rebuilt.push(day);
  }
  return { sums: sum.result(), inputs, missing, rebuilt };
}

/**
 * A day's aggregate computed from its canonical partition(s) (each checked
 * against the hash its ingest report names; a sharded day's sessions never
 * span shards, so its partitions add up to the day).
 */
async function aggregateFromCanonical(env: PipelineEnv, scope: Scope, day: string, inputs: readonly InputPartition[], pairs: boolean): Promise<DayAggregate> {
  const table = new EventTable({ users: false, instants: false });
  for (const partition of inputs) {
    const key = env.areas.canonical.keyOfUri(partition.uri) ?? keys.canonicalPartition(scope, day);
    const read = await readCanonicalPartition(env, key, { scope, day, check: 'fast', table });
    if (!read || read.sha256 !== partition.sha256) {
      throw new IntegrityError(`canonical partition ${env.areas.canonical.uri(key)} of ${day} ${read ? 'changed since its ingest report was written' : 'is missing'}; re-run ingest for ${day}`, { day });
    }
  }
  return dayAggregateOf(day, table, pairs ? countSessionPairs(table, env.limits) : undefined);
}
