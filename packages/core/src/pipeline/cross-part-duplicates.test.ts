import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { fingerprintBytes } from '../ingest/fingerprint-set.js';
import { CrossPartDuplicates } from './cross-part-duplicates.js';

describe('duplicates across ingest parts', () => {
  test('keeps exactly the first of equal events across parts, as one set of every event would', () => {
    const utf8 = new TextEncoder();
    // An event: its session and the rest of its line; within a part no event twice (ingest removed those).
    const event = fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 3 }));
    const partArb = fc.uniqueArray(event, { selector: ([s, x]) => `${s}/${x}`, maxLength: 14 });
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 20 }), (parts, presized) => {
        const dups = new CrossPartDuplicates(presized);
        // Table session ids in first-seen order, as the shard's event table gives them.
        const ids = new Map<number, number>();
        const seen = new Set<string>();
        for (const part of parts) {
          dups.startPart(ids.size);
          for (const [s, x] of part) {
            if (!ids.has(s)) ids.set(s, ids.size);
            const line = utf8.encode(`{"session":"s${s}","x":${x}}`);
            fingerprintBytes(line, 0, line.length, dups.key);
            const key = `${s}/${x}`;
            expect(dups.keep(ids.get(s)!), `${key} in part ${parts.indexOf(part)}`).toBe(!seen.has(key));
            seen.add(key);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
