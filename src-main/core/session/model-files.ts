// The GGUF files a browser can open on this machine without an upload: those in the model folders
// and the upload folder, by name.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelFile } from '../api/contract.js';

/** Every `.gguf` file directly in `dirs` (folders that cannot be read are skipped), sorted by name. */
export async function listModelFiles(dirs: readonly string[]): Promise<ModelFile[]> {
  const files: ModelFile[] = [];
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((candidate) => /\.gguf$/i.test(candidate) && !candidate.startsWith('.'))) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isFile()) files.push({ path: file, fileName: name, bytes: info.size });
    }
  }
  return files.sort((a, b) => a.fileName.localeCompare(b.fileName));
}
