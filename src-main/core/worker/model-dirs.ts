// The worker's model folders (`--models DIR`, setting `modelDirs`): where this machine keeps GGUF
// files its cache can be filled from. Kept beside the cache's index in the cache root, like the
// cap, so they belong to the cache folder they fill.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { HearthError } from '../base/errors.js';
import { writeFileAtomic } from '../base/write-atomic.js';

/** More folders than anyone keeps models in; each is walked on a fill. */
const MAX_MODEL_DIRS = 32;

function settingsPath(root: string): string {
  return path.join(root, 'hearth-model-dirs.json');
}

/** The folders stored for a cache root (none when nothing, or something unreadable, is stored). */
export async function loadModelDirs(root: string): Promise<string[]> {
  try {
    const raw = JSON.parse(await readFile(settingsPath(root), 'utf8')) as { version?: unknown; modelDirs?: unknown };
    if (raw.version !== 1 || !Array.isArray(raw.modelDirs)) return [];
    return raw.modelDirs.filter((dir): dir is string => typeof dir === 'string' && path.isAbsolute(dir)).slice(0, MAX_MODEL_DIRS);
  } catch {
    return [];
  }
}

/** Store the folders for a cache root atomically. */
export async function saveModelDirs(root: string, dirs: readonly string[]): Promise<void> {
  try {
    await writeFileAtomic(settingsPath(root), `${JSON.stringify({ version: 1, modelDirs: dirs })}\n`);
  } catch (error) {
    throw new HearthError('settings-write', `Could not save the model folders in ${root} (${(error as Error).message}): check that the cache folder is writable.`, { cause: error });
  }
}

/**
 * Check a list of model folders as a user or client gave it: absolute paths (the worker's working
 * folder is not the caller's) of folders that exist now. Returns them normalised, without repeats.
 */
export async function checkModelDirs(value: unknown): Promise<string[]> {
  if (!Array.isArray(value) || value.some((dir) => typeof dir !== 'string')) throw new HearthError('bad-model-dirs', 'Model folders must be a list of folder paths.');
  if (value.length > MAX_MODEL_DIRS) throw new HearthError('bad-model-dirs', `At most ${MAX_MODEL_DIRS} model folders, got ${value.length}.`);
  const dirs: string[] = [];
  for (const dir of value as string[]) {
    if (dir.length === 0 || dir.length > 4096 || dir.includes('\0') || !path.isAbsolute(dir)) {
      throw new HearthError('bad-model-dirs', `"${dir.slice(0, 200)}" is not an absolute folder path.`);
    }
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new HearthError('bad-model-dirs', `${dir}: no such folder (is the drive mounted?)`);
    const normal = path.resolve(dir);
    if (!dirs.includes(normal)) dirs.push(normal);
  }
  return dirs;
}
