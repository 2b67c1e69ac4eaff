// A model's hash manifest: the stored one while the file is unchanged (size, modification time,
// inode of its real path), otherwise made again on every core and stored for next time.
import { realpath, stat } from 'node:fs/promises';
import { HearthError } from '../../base/errors.js';
import { CACHED_TENSOR_MIN_BYTES, inspectModel, isCachedTensor, type ModelFacts, type TensorFacts } from '../inspect-model.js';
import { sameFileVersion, type HashManifest, type ManifestFile } from './hash-manifest.js';
import type { HashProgress } from './hash-ranges.js';
import { readStoredManifest, storedManifestPath, writeStoredManifest } from './manifest-store.js';

/** What `loadOrMakeManifest` needs. */
export interface ManifestRequest {
  /** The model's path, or its facts from `inspectModel` (saves reading the header again). */
  model: ModelFacts | string;
  /** Hearth's data folder (`hearthPaths().dataDir`); manifests live in its `manifests/`. */
  dataDir: string;
  /** Called as tensors are hashed; never called when the stored manifest is used. */
  onProgress?: (progress: HashProgress) => void;
  signal?: AbortSignal;
  /** Hashing threads; one per core by default. */
  threads?: number;
}

/** The manifest of the model as it is on disk now; problems with the model become HearthErrors naming it. */
export async function loadOrMakeManifest(request: ManifestRequest): Promise<HashManifest> {
  const modelPath = typeof request.model === 'string' ? request.model : request.model.path;
  const file = await identify(modelPath);
  const target = storedManifestPath(request.dataDir, file.path);
  const stored = await readStoredManifest(target);
  const facts = typeof request.model === 'string' ? undefined : request.model;
  if (stored && sameFileVersion(stored.file, file) && stored.threshold === CACHED_TENSOR_MIN_BYTES && (!facts || sameTensors(stored, facts))) {
    return stored;
  }

  const model = facts ?? (await inspectModel(modelPath));
  const cached = model.tensors.filter(isCachedTensor);
  checkFits(modelPath, cached, file.size);
  // Loaded only to hash: a load whose manifest is stored never needs the hashing workers' code.
  const { hashRanges } = await import('./hash-ranges.js');
  const digests = await hashRanges(file.path, cached.map((tensor) => ({ offset: tensor.fileOffset, size: tensor.byteSize })), {
    threads: request.threads,
    onProgress: request.onProgress,
    signal: request.signal,
  });
  const after = await identify(modelPath);
  if (!sameFileVersion(file, after)) {
    throw new HearthError('model-changed', `${modelPath}: the file changed while Hearth was hashing it; try again once nothing is writing to it`);
  }
  const manifest: HashManifest = {
    version: 2,
    file,
    threshold: CACHED_TENSOR_MIN_BYTES,
    entries: cached.map((tensor, index) => ({ tensor: tensor.name, offset: tensor.fileOffset, size: tensor.byteSize, ...digests[index]! })),
  };
  await writeStoredManifest(target, manifest);
  return manifest;
}

/** The file's real path and identity now. */
async function identify(modelPath: string): Promise<ManifestFile> {
  try {
    const real = await realpath(modelPath);
    const info = await stat(real);
    if (!info.isFile()) throw new HearthError('bad-model', `${modelPath}: is not a file`);
    return { path: real, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (error) {
    if (error instanceof HearthError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read: permission denied' : `cannot be read (${(error as Error).message})`;
    throw new HearthError('bad-model', `${modelPath}: ${problem}`, { cause: error });
  }
}

/** The facts may be older than the file: refuse tensors that now run past its end. */
function checkFits(modelPath: string, tensors: readonly TensorFacts[], fileBytes: number): void {
  for (const tensor of tensors) {
    const end = tensor.fileOffset + tensor.byteSize;
    if (end > fileBytes) {
      throw new HearthError('bad-model', `${modelPath}: the file is truncated: tensor ${tensor.name} ends at byte ${end} but the file has ${fileBytes} bytes (was the download or copy interrupted?)`);
    }
  }
}

/** Whether a stored manifest lists exactly the facts' cached tensors, where they sit. */
function sameTensors(manifest: HashManifest, facts: ModelFacts): boolean {
  const cached = facts.tensors.filter(isCachedTensor);
  return cached.length === manifest.entries.length && cached.every((tensor, index) => {
    const entry = manifest.entries[index]!;
    return entry.tensor === tensor.name && entry.offset === tensor.fileOffset && entry.size === tensor.byteSize;
  });
}
