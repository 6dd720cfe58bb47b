/**
 * "Did you mean" for config keys: the closest known key by edit distance,
 * when it is close enough to be a typo (`outdir` → `out_dir`,
 * `raw_event_dir` → `raw_events_dir`). A dozen keys at most, so the plain
 * dynamic-programming Levenshtein distance is plenty.
 */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key closest to `key`, if within a typo's distance (a third of its length, at least 2); case and `-`/`_` are ignored. */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = levenshtein(norm(key), norm(candidate));
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.key : undefined;
}

/** `; did you mean \`x\`?`, or nothing. */
export function didYouMean(key: string, known: Iterable<string>): string {
  const match = closestKey(key, known);
  return match === undefined ? '' : `; did you mean \`${match}\`?`;
}
