import { createHash, type Hash } from 'node:crypto';
import type { Sha256 } from '@recsys/core';

/** SHA-256 factory backed by `node:crypto` (for `PipelineEnv.sha256`). @since 0.1.0 */
export function nodeSha256(): Sha256 {
  return wrap(createHash('sha256'));
}

function wrap(hash: Hash): Sha256 {
  return {
    copy() {
      return wrap(hash.copy());
    },
    update(data: string | Uint8Array) {
      hash.update(data);
    },
    digest() {
      return hash.digest('hex');
    },
  };
}
