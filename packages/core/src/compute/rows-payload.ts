import { goEscapeJson } from '@recsys/contracts';
import type { PayloadSource } from './emit.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** As the contracts' serializer: an unpaired surrogate cannot be UTF-8, so it is written as U+FFFD (what Go's decoder yields). */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

/**
 * A payload member that is an array of small JSON objects (users of
 * `implicit`/`session_seq`, items of `content_sim`), emitted row by row so a
 * large artifact never becomes one giant string (V8 caps strings well below
 * what a big day of users can pretty-print to). Output is byte-identical to
 * `serializeForVersion`/`serializeArtifact` of `@recsys/contracts` for the
 * same member.
 * @since 0.1.0
 */
export function rowsPayload(key: string, rows: readonly object[]): PayloadSource {
  return {
    key,
    *write(out, pretty) {
      if (rows.length === 0) {
        out.text('[]');
        return;
      }
      out.text('[');
      for (let k = 0; k < rows.length; k++) {
        const sep = k > 0 ? ',' : '';
        // As a member at depth 1, elements sit at 4 spaces and their inner lines 4 deeper than JSON.stringify puts them.
        if (pretty) out.text(`${sep}\n    ${goEscapeJson(JSON.stringify(rows[k], wellFormed, 2)).replace(/\n/g, '\n    ')}`);
        else out.text(sep + goEscapeJson(JSON.stringify(rows[k], wellFormed)));
        if (out.ready) yield;
      }
      out.text(pretty ? '\n  ]' : ']');
    },
  };
}
