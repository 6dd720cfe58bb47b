/**
 * Retry policy of every S3 request: bounded attempts, exponential backoff
 * with full jitter. Plugged into the SDK as its retry strategy, so requests
 * made by `@aws-sdk/lib-storage` (multipart parts) are retried the same way.
 */

/** How transient S3 failures are retried. @since 0.1.0 */
export interface RetryOptions {
  /** Attempts per request, including the first (default 5; 1 = no retries). */
  readonly maxAttempts?: number | undefined;
  /** Backoff base: the cap of the first retry's delay (default 100 ms). */
  readonly baseDelayMs?: number | undefined;
  /** Largest delay between two attempts (default 20 s). */
  readonly maxDelayMs?: number | undefined;
  /** Random source in [0, 1) for the jitter (tests pass a fixed one). */
  readonly random?: (() => number) | undefined;
}

/** The retry policy with defaults applied. @since 0.1.0 */
export interface ResolvedRetryOptions {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly random: () => number;
}

/** Defaults of {@link RetryOptions}. @since 0.1.0 */
export const DEFAULT_RETRY: Omit<ResolvedRetryOptions, 'random'> = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 20_000 };

/** Applies defaults and checks bounds. @since 0.1.0 */
export function resolveRetry(options: RetryOptions = {}): ResolvedRetryOptions {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`retry maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) throw new RangeError('retry delays must be >= 0');
  return { maxAttempts, baseDelayMs, maxDelayMs, random: options.random ?? Math.random };
}

/**
 * Delay before retry number `retry` (1 = first retry): "full jitter",
 * uniform in [0, min(maxDelay, base * 2^(retry-1))). Full jitter spreads
 * racing publishers apart instead of retrying them in lock-step.
 * @since 0.1.0
 */
export function backoffDelay(retry: number, options: ResolvedRetryOptions): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(options.random() * cap);
}

/** The SDK's classification of a failed attempt (see `@smithy/types` RetryErrorInfo). */
interface ErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  readonly retryAfterHint?: Date;
  readonly error?: unknown;
}

interface Token {
  getRetryCount(): number;
  getRetryDelay(): number;
}

function token(retryCount: number, delay: number): Token {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delay };
}

/**
 * An SDK `RetryStrategyV2`: retries an attempt that failed with a 500, 502,
 * 503 or 504, throttling (429/SlowDown), a timeout or a connection error
 * (what the SDK classifies as TRANSIENT or THROTTLING), at most
 * `maxAttempts - 1` times, sleeping {@link backoffDelay} in between (or the
 * server's Retry-After, when longer and within `maxDelayMs`). Client errors
 * (4xx, including 412 Precondition Failed and 404) are never retried.
 *
 * Unlike the SDK's standard strategy there is no shared retry quota, so the
 * bound is per request and easy to reason about.
 * @since 0.1.0
 */
export class BackoffRetryStrategy {
  readonly options: ResolvedRetryOptions;

  constructor(options: RetryOptions = {}) {
    this.options = resolveRetry(options);
  }

  /** Whether an attempt that failed this way is retried (when attempts remain). */
  static isRetryable(errorType: ErrorInfo['errorType']): boolean {
    // SERVER_ERROR is a 5xx other than 500/502/503/504 (e.g. 501 Not Implemented): retrying cannot help.
    return errorType === 'TRANSIENT' || errorType === 'THROTTLING';
  }

  async acquireInitialRetryToken(_scope: string): Promise<Token> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: Token, info: ErrorInfo): Promise<Token> {
    const retry = previous.getRetryCount() + 1;
    if (!BackoffRetryStrategy.isRetryable(info.errorType) || retry >= this.options.maxAttempts) {
      // The SDK rethrows the attempt's own error when this rejects.
      throw new Error('no retry');
    }
    let delay = backoffDelay(retry, this.options);
    if (info.retryAfterHint) {
      const hinted = info.retryAfterHint.getTime() - Date.now();
      if (hinted > delay) delay = Math.min(hinted, this.options.maxDelayMs);
    }
    return token(retry, delay);
  }

  recordSuccess(_token: Token): void {}
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

/**
 * Whether an error that escaped the SDK (its own retries exhausted, or one
 * raised while streaming a response body, which the SDK cannot retry) is a
 * transient network/server condition worth another attempt.
 * @since 0.1.0
 */
export function isTransientError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (e.name === 'AbortError') return false;
  if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.name === 'SlowDown' || e.name === 'ThrottlingException') return true;
  if (e.code !== undefined && TRANSIENT_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (TRANSIENT_STATUS.has(status) || status === 429)) return true;
  if (typeof e.message === 'string' && /^(aborted|socket hang up|premature close)$/i.test(e.message)) return true;
  return isTransientError(e.cause, depth + 1);
}

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
