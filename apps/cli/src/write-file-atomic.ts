import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RecsysError } from '@recsys/core';

/**
 * Writes a text file the CLI produces for others (a report, a node-exporter
 * textfile) atomically: a temp file beside it, fsync, rename, so a reader
 * (a collector, a shared drive) never sees half a file. `flag` names the
 * option in the error. Returns the absolute path written.
 */
export async function writeFileAtomic(flag: string, file: string, text: string): Promise<string> {
  const path = resolve(file);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    return path;
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw new RecsysError('runtime', `cannot write ${flag} ${path}: ${(error as Error).message}`, { file: path }, { cause: error });
  }
}
