import { createHash } from 'node:crypto';
import type { Sha256 } from '@recsys/core';

/** SHA-256 factory backed by `node:crypto` (for `PipelineEnv.sha256`). @since 0.1.0 */
export function nodeSha256(): Sha256 {
  const hash = createHash('sha256');
  return {
    update(data: string | Uint8Array) {
      hash.update(data);
    },
    digest() {
      return hash.digest('hex');
    },
  };
}
