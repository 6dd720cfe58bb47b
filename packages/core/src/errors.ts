const MARKER = Symbol.for('@recsys/core.error');

/**
 * What went wrong, coarsely; each kind maps to one process exit code
 * (DESIGN §6): runtime 1, usage/config 2, validation 3, limit 4, stale 5.
 * @since 0.1.0
 */
export type ErrorKind = 'runtime' | 'usage' | 'config' | 'validation' | 'limit' | 'stale' | 'conflict' | 'not_found' | 'integrity';

/** Exit code for each error kind. @since 0.1.0 */
export const EXIT_CODES: Readonly<Record<ErrorKind, number>> = {
  runtime: 1,
  conflict: 1,
  not_found: 1,
  integrity: 1,
  usage: 2,
  config: 2,
  validation: 3,
  limit: 4,
  stale: 5,
};

/**
 * Base of every error raised by recsys-pipelines code. Carries a `kind`
 * (→ exit code), structured `context` for logs (file, line, key, limit…)
 * and the original `cause`. Check with {@link RecsysError.isInstance}, which
 * works across installed copies of the package.
 * @since 0.1.0
 */
export class RecsysError extends Error {
  readonly [MARKER] = true;
  readonly kind: ErrorKind;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(kind: ErrorKind, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecsysError';
    this.kind = kind;
    this.context = context;
  }

  /** Exit code of this error's kind. */
  get exitCode(): number {
    return EXIT_CODES[this.kind];
  }

  static isInstance(error: unknown): error is RecsysError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Bad flags or arguments (exit 2). @since 0.1.0 */
export class UsageError extends RecsysError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('usage', message, context, options);
    this.name = 'UsageError';
  }
}

/** Bad configuration file or value; `key` names the offending config key (exit 2). @since 0.1.0 */
export class ConfigError extends RecsysError {
  constructor(readonly key: string, problem: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('config', `config ${key}: ${problem}`, { key, ...context }, options);
    this.name = 'ConfigError';
  }
}

/** A validation gate blocked publishing (exit 3). @since 0.1.0 */
export class ValidationGateError extends RecsysError {
  constructor(readonly gate: string, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('validation', `validation gate "${gate}" failed: ${message}`, { gate, ...context }, options);
    this.name = 'ValidationGateError';
  }
}

/** A guardrail from config `limits` tripped (exit 4). @since 0.1.0 */
export class LimitExceededError extends RecsysError {
  constructor(
    readonly limit: string,
    readonly observed: number,
    readonly allowed: number,
    detail = '',
  ) {
    super(
      'limit',
      `limit ${limit} exceeded: observed ${observed}, allowed ${allowed} (config key limits.${limit})${detail ? `; ${detail}` : ''}`,
      { limit, observed, allowed, config_key: `limits.${limit}` },
    );
    this.name = 'LimitExceededError';
  }
}

/** Stored data does not match its declared hash or contract (exit 1). @since 0.1.0 */
export class IntegrityError extends RecsysError {
  constructor(message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super('integrity', message, context, options);
    this.name = 'IntegrityError';
  }
}

/** Something that must exist does not (exit 1). @since 0.1.0 */
export class NotFoundError extends RecsysError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('not_found', message, context);
    this.name = 'NotFoundError';
  }
}
