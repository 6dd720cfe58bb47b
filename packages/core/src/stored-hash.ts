import type { ObjectStorage, Sha256Factory } from './ports.js';

/**
 * SHA-256 and size of a stored object, streamed (never held whole in
 * memory); `undefined` when the object does not exist.
 * @since 0.1.0
 */
export async function hashStoredObject(sha256: Sha256Factory, storage: ObjectStorage, key: string): Promise<{ sha256: string; size: number } | undefined> {
  const stream = await storage.read(key);
  if (!stream) return undefined;
  const hash = sha256();
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest(), size };
}
