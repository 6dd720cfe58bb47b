import { goEscapeJson } from '@recsys/contracts';

/*
 * Fast path for a batch of payload elements: a conservative check of the
 * element shape (it may refuse what the contract accepts, never the reverse)
 * and the canonical compact text written directly. Anything it refuses goes
 * through the contract parser and `serializeForVersion`, which decide (and
 * word the error). A property test holds the two paths together.
 */
const EDGE_SPACE = /^\s|\s$/;
const GO_ESCAPE_TEST = /[<>&\u2028\u2029]/;

function idOk(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && !EDGE_SPACE.test(s) && s.isWellFormed();
}
function hasKeys(o: unknown, a: string, b: string): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const k = Object.keys(o);
  return k.length === 2 && ((k[0] === a && k[1] === b) || (k[0] === b && k[1] === a));
}
const countOk = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const scoreOk = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Canonical text of `rows` (comma-joined), or `undefined` when the fast check refuses one. */
export function fastCanonical(type: string, rows: readonly unknown[], stats: { maxRow: number }): string | undefined {
  const out: string[] = [];
  const str = JSON.stringify;
  for (const row of rows) {
    switch (type) {
      case 'popularity':
        if (!hasKeys(row, 'item_id', 'count') || !idOk(row.item_id) || !countOk(row.count)) return undefined;
        out.push(`{"item_id":${str(row.item_id)},"count":${str(row.count)}}`);
        break;
      case 'content_sim': {
        if (!hasKeys(row, 'item_id', 'tags') || !idOk(row.item_id) || !Array.isArray(row.tags)) return undefined;
        for (const t of row.tags as unknown[]) if (!idOk(t)) return undefined;
        out.push(`{"item_id":${str(row.item_id)},"tags":${str(row.tags)}}`);
        break;
      }
      case 'cooc':
      case 'implicit':
      case 'session_seq': {
        const idKey = type === 'cooc' ? 'item_id' : 'user_id';
        const valueKey = type === 'cooc' ? 'count' : 'score';
        const valueOk = type === 'cooc' ? countOk : scoreOk;
        if (!hasKeys(row, idKey, 'items') || !idOk(row[idKey]) || !Array.isArray(row.items)) return undefined;
        const items = row.items as unknown[];
        if (items.length > stats.maxRow) stats.maxRow = items.length;
        let text = `{"${idKey}":${str(row[idKey])},"items":[`;
        for (let k = 0; k < items.length; k++) {
          const it = items[k];
          if (!hasKeys(it, 'item_id', valueKey) || !idOk(it.item_id) || !valueOk(it[valueKey])) return undefined;
          text += `${k === 0 ? '' : ','}{"item_id":${str(it.item_id)},"${valueKey}":${str(it[valueKey])}}`;
        }
        out.push(text + ']}');
        break;
      }
      default:
        return undefined;
    }
  }
  const joined = out.join(',');
  return GO_ESCAPE_TEST.test(joined) ? goEscapeJson(joined) : joined;
}
