/**
 * Characters allowed in a tenant, surface, segment, artifact type or version
 * when it becomes part of a storage key or file path.
 * @since 0.1.0
 */
export const PATH_SEGMENT_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Maximum length of a path segment. @since 0.1.0 */
export const PATH_SEGMENT_MAX_LENGTH = 128;

/**
 * Why a value is not a safe path segment, or `undefined` when it is.
 * Rules: 1–128 characters from `[A-Za-z0-9._-]`, and not `.` or `..`.
 * @since 0.1.0
 */
export function pathSegmentProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > PATH_SEGMENT_MAX_LENGTH) return `must be at most ${PATH_SEGMENT_MAX_LENGTH} characters (got ${value.length})`;
  if (value === '.' || value === '..') return `must not be "${value}"`;
  if (!PATH_SEGMENT_PATTERN.test(value)) return 'may only contain letters, digits, ".", "_" and "-"';
  return undefined;
}

/**
 * True when `value` can be used as one segment of a storage key or path.
 * @since 0.1.0
 */
export function isValidPathSegment(value: unknown): value is string {
  return pathSegmentProblem(value) === undefined;
}

const MARKER = Symbol.for('@recsys/contracts.invalid-path-segment');

/**
 * Thrown by {@link assertPathSegment}.
 * @since 0.1.0
 */
export class InvalidPathSegmentError extends Error {
  readonly code = 'INVALID_PATH_SEGMENT' as const;
  readonly [MARKER] = true;
  /** What the value is used as, e.g. `tenant`. */
  readonly field: string;
  /** The rejected value. */
  readonly value: unknown;

  constructor(field: string, value: unknown, problem: string) {
    super(`invalid ${field} ${JSON.stringify(typeof value === 'string' ? value : String(value))}: ${problem}`);
    this.name = 'InvalidPathSegmentError';
    this.field = field;
    this.value = value;
  }

  /** Recognises the error across installed copies of this package. */
  static isInstance(error: unknown): error is InvalidPathSegmentError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/**
 * Returns `value` when it is a valid path segment, otherwise throws
 * {@link InvalidPathSegmentError} naming `field`. Call it before any I/O.
 * @since 0.1.0
 */
export function assertPathSegment(field: string, value: unknown): string {
  const problem = pathSegmentProblem(value);
  if (problem !== undefined) throw new InvalidPathSegmentError(field, value, problem);
  return value as string;
}
