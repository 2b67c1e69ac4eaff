// The GGUF files in this machine's model folders, indexed by the content hashes of their cached
// tensors (the names the cache gives them), so the cache can be filled from a local copy of a
// model whatever its file is called. Indexed lazily: a file's manifest is read (or made, once,
// and kept in the data folder by loadOrMakeManifest) only when a wanted hash is still unfound.
import { checkModelDirs, loadModelDirs, saveModelDirs } from './model-dirs.js';
import { scanModelFolders } from './model-folder-scan.js';

/** Where a tensor's bytes sit in a local model file. */
export interface LocalTensor {
  file: string;
  tensor: string;
  offset: number;
  size: number;
  /** The SHA-256 of its bytes when the file was hashed (its manifest's). */
  digest: string;
}

/** What a search found, and the files it had to pass over (with why). */
export interface LocalSearch {
  found: Map<string, LocalTensor>;
  warnings: string[];
}

interface IndexedFile {
  /** Size, modification time and inode: a file that changes is indexed again. */
  identity: string;
  tensors: Map<string, LocalTensor> | null;
  /** Why the file cannot be used, when `tensors` is null. */
  problem: string | null;
}

/** The model folders of a worker, and the index of the GGUF files in them. */
export class LocalModels {
  readonly #root: string;
  readonly #dataDir: string;
  #dirs: string[];
  readonly #files = new Map<string, IndexedFile>();

  private constructor(root: string, dataDir: string, dirs: string[]) {
    this.#root = root;
    this.#dataDir = dataDir;
    this.#dirs = dirs;
  }

  /** The folders stored for cache root `root` (or `dirs`, checked and stored in their place); manifests go to `dataDir`. */
  static async open(root: string, dataDir: string, dirs?: readonly string[]): Promise<LocalModels> {
    const models = new LocalModels(root, dataDir, await loadModelDirs(root));
    if (dirs !== undefined) await models.setDirs(dirs);
    return models;
  }

  /** The model folders, in the order they are searched. */
  get dirs(): string[] {
    return [...this.#dirs];
  }

  /** Replace the model folders (each must exist) and keep the choice for the cache folder. */
  async setDirs(dirs: readonly unknown[]): Promise<void> {
    const checked = await checkModelDirs(dirs);
    await saveModelDirs(this.#root, checked);
    this.#dirs = checked;
  }

  /** Find local copies of the tensors named by `hashes`: files already indexed first, then the rest until all are found. */
  async locate(hashes: Iterable<string>): Promise<LocalSearch> {
    const wanted = new Set(hashes);
    const found = new Map<string, LocalTensor>();
    const warnings: string[] = [];
    const { files, notes } = await this.#candidates();
    warnings.push(...notes);
    const fresh: { file: string; identity: string }[] = [];
    for (const candidate of files) {
      const indexed = this.#files.get(candidate.file);
      if (indexed?.identity === candidate.identity) take(indexed, found, wanted, warnings);
      else fresh.push(candidate);
    }
    for (const { file, identity } of fresh) {
      if (wanted.size === 0) break;
      const indexed = await this.#index(file, identity);
      take(indexed, found, wanted, warnings);
    }
    return { found, warnings };
  }

  async #index(file: string, identity: string): Promise<IndexedFile> {
    let indexed: IndexedFile;
    try {
      // Loaded on first use: only a fill needs the manifest and GGUF modules.
      const { loadOrMakeManifest } = await import('../gguf/manifest/load-or-make-manifest.js');
      const manifest = await loadOrMakeManifest({ model: file, dataDir: this.#dataDir });
      const tensors = new Map<string, LocalTensor>();
      for (const entry of manifest.entries) tensors.set(entry.hash, { file, tensor: entry.tensor, offset: entry.offset, size: entry.size, digest: entry.digest });
      indexed = { identity, tensors, problem: null };
    } catch (error) {
      // A damaged or foreign file is passed over, never fatal; it is looked at again once it changes.
      const message = (error as Error).message;
      indexed = { identity, tensors: null, problem: message.includes(file) ? message : `${file}: ${message}` };
    }
    this.#files.set(file, indexed);
    return indexed;
  }

  /** The model files now, with their identity. */
  async #candidates(): Promise<{ files: { file: string; identity: string }[]; notes: string[] }> {
    const { files, notes } = await scanModelFolders(this.#dirs);
    return { files: files.map((found) => ({ file: found.file, identity: `${found.bytes}:${found.mtimeMs}:${found.ino}` })), notes };
  }
}

function take(indexed: IndexedFile, found: Map<string, LocalTensor>, wanted: Set<string>, warnings: string[]): void {
  if (!indexed.tensors) return void warnings.push(`Skipped ${indexed.problem}`);
  for (const hash of wanted) {
    const tensor = indexed.tensors.get(hash);
    if (!tensor) continue;
    found.set(hash, tensor);
    wanted.delete(hash);
  }
}
