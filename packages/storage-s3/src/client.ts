import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { BackoffRetryStrategy, isTransientError, type RetryOptions } from './retry.js';

/** A failed attempt of one S3 request, as seen before the retry decision. @since 0.1.0 */
export interface S3AttemptFailure {
  /** SDK command name, e.g. `PutObjectCommand`. */
  readonly operation: string;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  /** 1-based attempt number of this request. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Whether the failure is transient (timeouts, resets, 5xx, throttling): only those are retried. */
  readonly transient: boolean;
  readonly error: Error;
}

/** Connection settings of {@link createS3Client}. @since 0.1.0 */
export interface S3ClientSettings {
  /** `https://host[:port]` (or `host[:port]`, see `useSsl`); omit for AWS S3. */
  readonly endpoint?: string | undefined;
  /** Region; default `us-east-1` with a custom endpoint, else the AWS chain (`AWS_REGION`, profile). */
  readonly region?: string | undefined;
  /** Static credentials; omit both to use the standard AWS credential chain (env, profile, IMDS, web identity…). */
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
  /** Scheme for an `endpoint` given without one (default true: `https://`). */
  readonly useSsl?: boolean | undefined;
  /** Path-style addressing (`endpoint/bucket/key`); default true when `endpoint` is set. */
  readonly forcePathStyle?: boolean | undefined;
  /** Per-request timeout: until response headers, and socket inactivity (default 30 s). */
  readonly requestTimeoutMs?: number | undefined;
  /** TCP connect timeout (default 5 s). */
  readonly connectionTimeoutMs?: number | undefined;
  /** Retry policy of every request (default: 5 attempts, full-jitter backoff from 100 ms). */
  readonly retry?: RetryOptions | undefined;
  /** Concurrent sockets per client (default 50). */
  readonly maxSockets?: number | undefined;
  /** Called for every failed attempt (for logging retries; never receives credentials). */
  readonly onAttemptFailed?: ((failure: S3AttemptFailure) => void) | undefined;
}

/** Adds a scheme to a bare `host[:port]` endpoint. @since 0.1.0 */
export function normalizeEndpoint(endpoint: string, useSsl = true): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `${useSsl ? 'https' : 'http'}://${trimmed}`;
}

/**
 * Creates an `S3Client` configured for recsys-pipelines: the
 * {@link BackoffRetryStrategy} (bounded attempts, full jitter), timeouts on
 * every request (a stalled connection fails and is retried instead of
 * hanging the run), keep-alive sockets, and path-style addressing by default
 * for custom endpoints (MinIO, Ceph RGW).
 * @since 0.1.0
 */
export function createS3Client(settings: S3ClientSettings = {}): S3Client {
  const { endpoint, accessKeyId, secretAccessKey, sessionToken } = settings;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new TypeError('S3 credentials need both an access key id and a secret access key (or neither, for the AWS credential chain)');
  }
  const strategy = new BackoffRetryStrategy(settings.retry);
  const timeout = settings.requestTimeoutMs ?? 30_000;
  const agent = { keepAlive: true, maxSockets: settings.maxSockets ?? 50 };
  const config: S3ClientConfig = {
    retryStrategy: strategy,
    maxAttempts: strategy.options.maxAttempts,
    requestHandler: {
      connectionTimeout: settings.connectionTimeoutMs ?? 5_000,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
      socketTimeout: timeout,
      httpAgent: agent,
      httpsAgent: agent,
    },
  };
  if (endpoint !== undefined && endpoint !== '') {
    config.endpoint = normalizeEndpoint(endpoint, settings.useSsl ?? true);
    config.forcePathStyle = settings.forcePathStyle ?? true;
    config.region = settings.region ?? 'us-east-1';
  } else {
    if (settings.forcePathStyle !== undefined) config.forcePathStyle = settings.forcePathStyle;
    if (settings.region !== undefined) config.region = settings.region;
  }
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
  }
  const client = new S3Client(config);
  const onAttemptFailed = settings.onAttemptFailed;
  if (onAttemptFailed) {
    // Runs inside the retry middleware (lower priority in the same step), so it sees every attempt.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          const input = args.input as { Bucket?: string; Key?: string };
          const header = (args.request as { headers?: Record<string, string> } | undefined)?.headers?.['amz-sdk-request'] ?? '';
          const m = /attempt=(\d+); max=(\d+)/.exec(header);
          onAttemptFailed({
            operation: context.commandName ?? 'unknown',
            bucket: input.Bucket,
            key: input.Key,
            attempt: m ? Number(m[1]) : 1,
            maxAttempts: m ? Number(m[2]) : strategy.options.maxAttempts,
            status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
            transient: isTransientError(error),
            error: error as Error,
          });
          throw error;
        }
      },
      { step: 'finalizeRequest', priority: 'low', name: 'recsysAttemptObserver' },
    );
  }
  return client;
}
