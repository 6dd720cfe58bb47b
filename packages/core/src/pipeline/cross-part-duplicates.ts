/**
 * The sessions of a shard that more than one ingest part holds, from each
 * part's bucket footer (bucket-format.ts: the FNV-1a 32 of every session of
 * the bucket, in the bucket's id order): per part, a flag per bucket session
 * id, 1 when some other part's footer lists the same hash.
 *
 * An event and its exact duplicate share a session, and within a part
 * ingest removed duplicates already, so only events of these sessions can
 * repeat an event of another part: compute fingerprints those and no others
 * (ingest-parts.ts). Parts are contiguous in reading order, so few sessions
 * cross a cut (in a day whose raw lines are grouped by session, only the
 * sessions cut in two). Two sessions whose ids hash alike are both flagged
 * when they are in different parts: a collision only costs their events a
 * fingerprint, it never hides a duplicate (equal ids hash alike).
 */
export interface CrossingSessions {
  /** Per part, per bucket session id: 1 when another part holds a session of the same hash. */
  readonly flags: Uint8Array[];
  /** Distinct hashes that more than one part holds. */
  readonly crossing: number;
}

/** The {@link CrossingSessions} of parts whose bucket footers are `footers` (in part order). */
export function crossingSessions(footers: readonly Uint32Array[]): CrossingSessions {
  const total = footers.reduce((n, f) => n + f.length, 0);
  let cap = 1024;
  while (cap < 2 * total) cap *= 2;
  const mask = cap - 1;
  const keys = new Uint32Array(cap);
  // 0: empty slot; p + 1: only part p holds the hash; -1: more than one part does.
  const owner = new Int32Array(cap);
  const slots = footers.map((f) => new Int32Array(f.length));
  let crossing = 0;
  for (let p = 0; p < footers.length; p++) {
    const footer = footers[p]!;
    const slot = slots[p]!;
    for (let k = 0; k < footer.length; k++) {
      const h = footer[k]!;
      // Within shard j every hash is j modulo n: the slot comes from a multiplicative mix's high bits.
      let i = Math.imul(h, 0x9e3779b1) >>> 0;
      i = (i ^ (i >>> 15)) & mask;
      while (owner[i] !== 0 && keys[i] !== h) i = (i + 1) & mask;
      if (owner[i] === 0) {
        keys[i] = h;
        owner[i] = p + 1;
      } else if (owner[i] !== p + 1 && owner[i] !== -1) {
        owner[i] = -1;
        crossing++;
      }
      slot[k] = i;
    }
  }
  const flags = slots.map((slot) => {
    const out = new Uint8Array(slot.length);
    if (crossing > 0) for (let k = 0; k < slot.length; k++) out[k] = owner[slot[k]!] === -1 ? 1 : 0;
    return out;
  });
  return { flags, crossing };
}
