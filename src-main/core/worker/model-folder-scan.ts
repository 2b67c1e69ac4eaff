// The GGUF files in a machine's model folders: what the cache is filled from and what a browser on
// `hearth serve` may open without an upload. One walk for both, so the UI lists every model the
// cache can be filled from.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** One model file found. */
export interface FoundModelFile {
  file: string;
  /** Its name within its folder. */
  name: string;
  bytes: number;
  mtimeMs: number;
  ino: number;
}

// A models folder can be deep or hold other things; a walk never goes further than this.
const MAX_DEPTH = 3;
const MAX_FILES = 10_000;
const GGUF_MAGIC = Buffer.from('GGUF', 'ascii');

/** Files that look like GGUF models (named *.gguf, or starting with its magic) in `dirs` and their subfolders, in walk order; unreadable folders become notes. */
export async function scanModelFolders(dirs: readonly string[]): Promise<{ files: FoundModelFile[]; notes: string[] }> {
  const files: FoundModelFile[] = [];
  const notes: string[] = [];
  let seen = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    const names = await readdir(dir).catch((error: Error) => {
      notes.push(`Model folder ${dir} cannot be read (${error.message}): skipped.`);
      return [] as string[];
    });
    for (const name of names.sort()) {
      if (name.startsWith('.') || ++seen > MAX_FILES) continue;
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null);
      if (info?.isDirectory() && depth < MAX_DEPTH) await walk(file, depth + 1);
      else if (info?.isFile() && (name.toLowerCase().endsWith('.gguf') || (await startsWithMagic(file)))) {
        files.push({ file, name, bytes: info.size, mtimeMs: info.mtimeMs, ino: info.ino });
      }
    }
  };
  for (const dir of dirs) await walk(dir, 1);
  if (seen > MAX_FILES) notes.push(`The model folders hold more than ${MAX_FILES} files: only the first ${MAX_FILES} were looked at.`);
  return { files, notes };
}

async function startsWithMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return false;
  try {
    const head = Buffer.alloc(GGUF_MAGIC.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(GGUF_MAGIC);
  } finally {
    await handle.close();
  }
}
