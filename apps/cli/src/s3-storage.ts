import { ConfigError, RecsysError, type Logger, type ObjectStorage } from '@recsys/core';
import type * as S3Module from '@recsys/storage-s3';
import type { AreaLocation } from './config/load.js';
import type { S3Settings } from './config/schema.js';

type S3Location = Extract<AreaLocation, { kind: 's3' }>;
type S3Client = ReturnType<typeof S3Module.createS3Client>;

// The AWS SDK costs ~0.4 s to import; only configs that use S3 pay for it.
let s3: typeof S3Module | undefined;

/**
 * Loads the S3 adapter when any of `areas` is on S3. `openAreas` calls it
 * before {@link openS3Area}; it is the one place that touches `process.env`
 * for S3 (see below), and only when S3 is used.
 */
export async function loadS3Support(areas: readonly AreaLocation[]): Promise<void> {
  if (s3 || !areas.some((a) => a.kind === 's3')) return;
  // Silences the SDK's one-time "future versions need Node 22" warning, which would break the JSON-lines stderr.
  // The SDK reads this variable itself, so it has to be set before the first client exists.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  try {
    s3 = await import('@recsys/storage-s3');
  } catch (error) {
    throw new ConfigError('object_store.type', `S3 storage needs the @recsys/storage-s3 package, which could not be loaded: ${(error as Error).message}`, {}, { cause: error });
  }
}

/** One client per distinct endpoint/region/credentials/tuning, shared by every area that uses it. */
const clients = new Map<string, S3Client>();

function clientFor(settings: S3Settings, key: string, logger: Logger | undefined): S3Client {
  const id = JSON.stringify([settings.endpoint, settings.region, settings.access_key, settings.secret_key, settings.use_ssl, settings.force_path_style, settings.max_attempts, settings.request_timeout_ms]);
  let client = clients.get(id);
  if (client) return client;
  if ((settings.access_key === undefined) !== (settings.secret_key === undefined)) {
    throw new ConfigError(`${key}.s3.${settings.access_key === undefined ? 'access_key' : 'secret_key'}`, 'access_key and secret_key go together (or leave both out to use the AWS credential chain)');
  }
  client = s3!.createS3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    accessKeyId: settings.access_key,
    secretAccessKey: settings.secret_key,
    useSsl: settings.use_ssl,
    forcePathStyle: settings.force_path_style,
    requestTimeoutMs: settings.request_timeout_ms,
    retry: { maxAttempts: settings.max_attempts },
    onAttemptFailed: (f) => {
      // Only transient failures are retried and worth a warning; 404/412 are ordinary answers. Never log credentials.
      if (!f.transient) return;
      logger?.warn(
        { op: f.operation, bucket: f.bucket, key: f.key, attempt: f.attempt, max_attempts: f.maxAttempts, status: f.status, error: f.error.name, code: (f.error as { code?: string }).code },
        f.attempt < f.maxAttempts ? 'S3 request failed; retrying' : 'S3 request failed; no attempts left',
      );
    },
  });
  clients.set(id, client);
  return client;
}

/**
 * Opens an S3 area: the bucket of its config section, under
 * `<prefix>/<area sub-prefix>` (objects → `objectstore`, registry →
 * `registry`, raw → the raw_source prefix itself).
 */
export function openS3Area(name: string, location: S3Location, logger?: Logger): ObjectStorage {
  if (!s3) throw new RecsysError('runtime', `internal error: S3 support was not loaded before opening ${name}`);
  const key = location.key ?? name;
  const settings = location.store.s3!;
  let prefix: string;
  try {
    prefix = s3.normalizePrefix([s3.normalizePrefix(settings.prefix), location.subPrefix].filter((p) => p !== '').join('/'));
  } catch (error) {
    throw new ConfigError(`${key}.s3.prefix`, (error as Error).message, {}, { cause: error });
  }
  return new s3.S3ObjectStorage({ client: clientFor(settings, key, logger), bucket: settings.bucket, prefix, retry: { maxAttempts: settings.max_attempts } });
}
