import { keys, type Scope } from '../keys.js';
import type { ObjectStorage, Sha256Factory } from '../ports.js';
import type { PipelineEnv } from '../pipeline-env.js';
import { RecsysError } from '../errors.js';
import { readPartSet, type PartReport } from '../pipeline/ingest-parts.js';
import { readIngestReport } from '../pipeline/staging.js';
import { portableSha256 } from '../sha256-portable.js';

/*
 * Collecting the ingest parts of sharded days (`artifacts/…/_parts/<day>/`,
 * docs/how-to/scale-out.md). The parts hold the day's events once more; they
 * are needed until every shard has been assembled from them and the merge
 * has written the day's quarantine from them. The rule, with no clock in it
 * (object ages are not portable across stores, and a day's date says nothing
 * about when it was ingested): the parts of a day for n are deleted only when
 *
 *   1. they are one complete part set (every report present and consistent),
 *   2. every shard j < n has a shard ingest report naming exactly these part
 *      reports (so it was assembled from them) and its canonical shard
 *      partition is there with the size that report names, and
 *   3. a published version record cites every one of those shard partitions
 *      (uri and SHA-256) among its inputs: the day was merged (quarantine
 *      written) and published from these parts.
 *
 * Then no step of that run needs them: a later validate/compute of the day
 * reads the shard partitions (assembly is skipped when the parts are gone)
 * and a later merge keeps the quarantine file it wrote. Each part is deleted
 * buckets and quarantine first and its report last (a part without its
 * report does not exist), after re-reading the report: one rewritten in the
 * meantime (the day is being re-ingested) is left alone.
 */

/** One part set of a day that gc deleted (or would delete). @since 0.4.0 */
export interface GcPartsItem {
  readonly day: string;
  /** The n of the part set. */
  readonly parts: number;
  readonly objects: number;
  readonly bytes: number;
}

/** What the parts collection needs: the staging and canonical areas. */
export interface GcPartsEnv {
  readonly areas: { readonly artifacts: ObjectStorage; readonly canonical: ObjectStorage };
  readonly sha256?: Sha256Factory | undefined;
  readonly logger: PipelineEnv['logger'];
}

const hashOf = (sha256: Sha256Factory, p: PartReport): string => {
  const h = sha256();
  h.update(JSON.stringify(p));
  return h.digest();
};

/**
 * Deletes the ingest parts of the scope's sharded days that are published
 * (see the rule above). `published` holds `uri + "\n" + sha256` of every
 * input partition cited by a version record of the scope.
 * @since 0.4.0
 */
export async function collectParts(env: GcPartsEnv, scope: Scope, published: ReadonlySet<string>, dryRun: boolean): Promise<GcPartsItem[]> {
  const storage = env.areas.artifacts;
  const sha256 = env.sha256 ?? portableSha256;
  // The same view of the areas the pipeline's readers take.
  const penv = { ...env, sha256, areas: env.areas } as unknown as PipelineEnv;
  const prefix = keys.ingestPart(scope, 'DAY', { index: 0, count: 1 }).replace(/DAY\/0-of-1\.json$/, '');
  const sets = new Map<string, { day: string; n: number }>();
  for await (const obj of storage.list(prefix)) {
    const m = /^([0-9]{4}-[0-9]{2}-[0-9]{2})\/[0-9]+-of-([0-9]+)\.json$/.exec(obj.key.slice(prefix.length));
    if (m) sets.set(`${m[1]} ${m[2]}`, { day: m[1]!, n: Number(m[2]) });
  }
  const out: GcPartsItem[] = [];
  for (const { day, n } of [...sets.values()].sort((a, b) => a.day.localeCompare(b.day) || a.n - b.n)) {
    let parts: PartReport[] | undefined;
    try {
      parts = await readPartSet(penv, scope, day, n, 'gc');
    } catch (error) {
      // Incomplete or inconsistent (an ingest in progress, or a failed one): needed, or not ours to judge.
      if (RecsysError.isInstance(error) && error.kind === 'usage') continue;
      throw error;
    }
    if (!parts) continue;
    const hashes = parts.map((p) => hashOf(sha256, p));
    let done = true;
    for (let j = 0; j < n && done; j++) {
      const report = await readIngestReport(penv, scope, day, { index: j, count: n }).catch(() => undefined);
      done =
        report !== undefined &&
        report.parts?.join() === hashes.join() &&
        (await env.areas.canonical.stat(report.canonical.key))?.size === report.canonical.bytes &&
        published.has(`${report.canonical.uri}\n${report.canonical.sha256}`);
    }
    if (!done) continue;
    let objects = 0;
    let bytes = 0;
    for (const p of parts) {
      for (const key of [...p.buckets.map((b) => b.key), ...(p.quarantine ? [p.quarantine] : []), keys.ingestPart(scope, day, p.part)]) {
        const info = await storage.stat(key);
        if (info) {
          objects++;
          bytes += info.size;
        }
      }
    }
    if (!dryRun) {
      // Re-read: a report rewritten since the check belongs to a new ingest of the day, which needs its parts.
      const again = await readPartSet(penv, scope, day, n, 'gc').catch(() => undefined);
      if (!again || again.some((p, i) => hashOf(sha256, p) !== hashes[i])) {
        env.logger.warn({ ...scope, day, parts: n }, 'gc: the ingest parts changed while gc ran (the day is being re-ingested); kept');
        continue;
      }
      for (const p of parts) {
        for (const b of p.buckets) await storage.delete(b.key);
        if (p.quarantine) await storage.delete(p.quarantine);
        await storage.delete(keys.ingestPart(scope, day, p.part));
      }
    }
    out.push({ day, parts: n, objects, bytes });
    if (!dryRun) env.logger.info({ ...scope, day, parts: n, objects, bytes }, 'gc deleted the ingest parts of a published sharded day');
  }
  return out;
}
