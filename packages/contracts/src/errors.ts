const MARKER = Symbol.for('@recsys/contracts.error');

/**
 * One problem found while validating a document against a contract.
 * @since 0.1.0
 */
export interface ContractIssue {
  /** JSON path of the offending value, e.g. `$.items[3].count`. `$` is the document root. */
  readonly path: string;
  /** Machine-readable issue code (zod's issue code, e.g. `invalid_type`, `unrecognized_keys`). */
  readonly code: string;
  /** Human-readable explanation. */
  readonly message: string;
}

/**
 * Thrown by every `parseX` helper when a document does not satisfy its
 * contract. The message lists every issue with its JSON path, so a log line
 * alone is enough to fix the producer.
 *
 * Use {@link ContractValidationError.isInstance} rather than `instanceof`:
 * it also recognises errors thrown by another installed copy of this package.
 * @since 0.1.0
 */
export class ContractValidationError extends Error {
  /** Stable discriminant for error handling across package copies. */
  readonly code = 'CONTRACT_VALIDATION' as const;
  readonly [MARKER] = true;
  /** The contract the document was checked against, e.g. `manifest.v1`. */
  readonly contract: string;
  /** Every issue found (never empty). */
  readonly issues: readonly ContractIssue[];

  constructor(contract: string, issues: readonly ContractIssue[], options?: { cause?: unknown }) {
    super(formatIssues(contract, issues), options);
    this.name = 'ContractValidationError';
    this.contract = contract;
    this.issues = issues;
  }

  /** True for any `ContractValidationError`, from this or any other copy of the package. */
  static isInstance(error: unknown): error is ContractValidationError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

function formatIssues(contract: string, issues: readonly ContractIssue[]): string {
  const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}`);
  return `invalid ${contract} (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}
