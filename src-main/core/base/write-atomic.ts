// Writing a small file so that a crash leaves the old one or the new one, never half of one: a
// temporary name beside the target, then one rename. `sync` also puts the bytes on disk before the
// rename, for files a later step trusts after a power cut (manifests, upload checkpoints).
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

export interface AtomicWriteOptions {
  sync?: boolean;
  /** File mode of a new file (e.g. 0o600 for a secret). */
  mode?: number;
}

/** Replace `target` with `text`; on failure the temporary file is removed and `target` is as it was. */
export async function writeFileAtomic(target: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const file = await open(temp, 'wx', options.mode);
    try {
      await file.writeFile(text, 'utf8');
      if (options.sync) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
