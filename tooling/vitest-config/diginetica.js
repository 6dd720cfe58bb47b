// The Diginetica sample (tooling/data/diginetica/train-item-views.csv) read
// the plain way, for the suites that check the pipeline against a brute
// force on real data: no @recsys code, only string splitting.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The original CSV of the bundled sample. */
export const DIGINETICA_CSV = fileURLToPath(new URL('../data/diginetica/train-item-views.csv', import.meta.url));
const SHA256 = '98da96e05c87ef12b739e4bfd9bc7b4864106ee77371f1db9eb4413e3f78d37e';

/**
 * Distinct events per UTC day, days in order (the pipeline drops exact
 * duplicates: same instant, session, item and user). Throws when the file is
 * not the one the tests were written against.
 */
export function digineticaEventsByDay() {
  const text = readFileSync(DIGINETICA_CSV, 'utf8');
  const sha = createHash('sha256').update(text).digest('hex');
  if (sha !== SHA256) throw new Error(`${DIGINETICA_CSV} changed: sha256 ${sha}, expected ${SHA256}`);
  const [header, ...rows] = text.split(/\r?\n/).filter((l) => l !== '');
  if (header !== 'session_id;user_id;item_id;timeframe;eventdate') throw new Error(`unexpected header ${header}`);
  const byDay = new Map();
  for (const row of rows) {
    const [session, user, item, timeframe, eventdate] = row.split(';');
    const ts = new Date(Date.parse(`${eventdate}T00:00:00Z`) + Number(timeframe)).toISOString();
    const day = ts.slice(0, 10);
    const events = byDay.get(day) ?? new Map();
    events.set(`${ts}|${session}|${item}|${user}`, { session, item });
    byDay.set(day, events);
  }
  return new Map([...byDay].sort(([a], [b]) => (a < b ? -1 : 1)).map(([d, e]) => [d, [...e.values()]]));
}

/**
 * Exposures per item and, per ordered pair of distinct items, the sessions
 * holding both, over `window` (days of `days`): plain Maps and Sets, a
 * session counting within its UTC day. The oracle the window and per-day
 * tests compare the pipeline's popularity and cooc with.
 * @param {Map<string, readonly { session: string; item: string }[]>} days
 * @param {readonly string[]} window
 */
export function bruteForceCounts(days, window) {
  const exposures = new Map();
  const together = new Map();
  for (const day of window) {
    const sessions = new Map();
    for (const { session, item } of days.get(day) ?? []) {
      exposures.set(item, (exposures.get(item) ?? 0) + 1);
      sessions.set(session, (sessions.get(session) ?? new Set()).add(item));
    }
    for (const items of sessions.values()) {
      for (const a of items) {
        for (const b of items) {
          if (a === b) continue;
          const row = together.get(a) ?? new Map();
          row.set(b, (row.get(b) ?? 0) + 1);
          together.set(a, row);
        }
      }
    }
  }
  return { exposures, together };
}
