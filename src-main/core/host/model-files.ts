// The GGUF files a browser can open on this machine without an upload: those the cache can be
// filled from (the model folders, walked as the worker walks them) and the upload folder.
import type { ModelFile } from '../api/contract.js';
import { scanModelFolders } from '../worker/model-folder-scan.js';

/** Every model file in `dirs` (folders that cannot be read are skipped), sorted by name, each once. */
export async function listModelFiles(dirs: readonly string[]): Promise<ModelFile[]> {
  const { files } = await scanModelFolders(dirs);
  const unique = new Map(files.map((found) => [found.file, { path: found.file, fileName: found.name, bytes: found.bytes }]));
  return [...unique.values()].sort((a, b) => a.fileName.localeCompare(b.fileName) || a.path.localeCompare(b.path));
}
