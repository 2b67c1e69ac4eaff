// The hash manifest of a model file: the FNV-1a 64 llama.cpp's RPC client would compute for each
// tensor Hearth caches (ggml/src/ggml-rpc/ggml-rpc.cpp `fnv_hash`, sent as SET_TENSOR_HASH: upstream
// for tensors over `HASH_THRESHOLD`, Hearth's patched client for every tensor listed here), tied to
// the exact file it was made from.

/** The probe covers this many bytes at each end of a tensor. */
export const PROBE_BYTES = 4096;

/** One tensor of at least the threshold's size: where its bytes sit, their FNV-1a 64 and a cheap probe, as 16 lowercase hex digits. */
export interface ManifestEntry {
  tensor: string;
  /** Absolute offset of the tensor's data in the file. */
  offset: number;
  size: number;
  /** FNV-1a 64 of all `size` bytes: the name of the worker cache's entry for them. */
  hash: string;
  /** FNV-1a 64 of the first PROBE_BYTES bytes followed by the last PROBE_BYTES (one running hash): a guard a reader can check quickly. */
  probe: string;
}

/** The file a manifest was made from, as it was then (`path` is the real path, links resolved). */
export interface ManifestFile {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** Every cached tensor's hash, for one version of one model file. */
export interface HashManifest {
  version: 1;
  file: ManifestFile;
  /** Tensors of at least this many bytes are listed (`CACHED_TENSOR_MIN_BYTES` when it was made). */
  threshold: number;
  /** In file order. */
  entries: ManifestEntry[];
}

/** Whether two readings of a file are the same version of it: same real path, size, modification time and inode. */
export function sameFileVersion(a: ManifestFile, b: ManifestFile): boolean {
  return a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}
