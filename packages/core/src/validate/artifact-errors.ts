import { ContractValidationError, type ContractIssue } from '@recsys/contracts';

/*
 * The errors of the streamed artifact check (artifact-stream.ts): bytes that
 * are not JSON, an object that changed between two reads, and content that
 * breaks the artifact contract (reported as the contract's own error).
 */

const ARTIFACT_CONTRACT = 'artifact.v1';

/** The stored bytes are not JSON (or not a JSON object). @since 0.1.0 */
export class ArtifactSyntaxError extends Error {
  /** Byte offset of the problem in the stored object. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'ArtifactSyntaxError';
    this.offset = offset;
  }
}

/** The object changed between the two reads of a two-pass check. @since 0.1.0 */
export class ArtifactChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArtifactChangedError';
  }
}

/** The artifact contract's error for these issues (what a whole-document parse throws). */
export function contractError(issues: readonly ContractIssue[], cause?: unknown): ContractValidationError {
  return new ContractValidationError(ARTIFACT_CONTRACT, issues, cause !== undefined ? { cause } : undefined);
}
