// Apart from limits.ts, whose schema loads zod: the compute kernels check limits in worker threads
// that should not pay for loading it.
import { LimitExceededError } from './errors.js';
import type { Limits } from './limits.js';

/** Throws `LimitExceededError` (exit 4) when `observed` exceeds the limit. @since 0.1.0 */
export function checkLimit(limits: Limits, limit: keyof Limits, observed: number, detail = ''): void {
  const allowed = limits[limit];
  if (observed > allowed) throw new LimitExceededError(limit, observed, allowed, detail);
}
