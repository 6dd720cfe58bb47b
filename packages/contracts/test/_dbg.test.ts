import { it } from 'vitest';
import { CONTRACTS, invalidFixtures } from './fixtures.js';
it('dbg', () => {
  for (const c of CONTRACTS) for (const f of invalidFixtures(c)) {
    const r = c.safeParse(f.document);
    if (!r.success && r.error.issues.length > 1) console.log(c.dir, f.name, r.error.message);
  }
});
