// The hash manifest of a model file: the FNV-1a 64 llama.cpp's RPC client would compute for each
// tensor Hearth caches (ggml/src/ggml-rpc/ggml-rpc.cpp `fnv_hash`, sent as SET_TENSOR_HASH: upstream
// for tensors over `HASH_THRESHOLD`, Hearth's patched client for every tensor listed here), and the
// SHA-256 of the same bytes, tied to the exact file it was made from. FNV-1a only names entries the
// way llama.cpp looks them up; the SHA-256 is what a worker checks bytes from another machine
// against, since FNV-1a collisions are easy to make.

/** The probe covers this many bytes at each end of a tensor. */
export const PROBE_BYTES = 4096;

/** One tensor of at least the threshold's size: where its bytes sit, their FNV-1a 64 and a cheap probe (16 lowercase hex digits each), and their SHA-256. */
export interface ManifestEntry {
  tensor: string;
  /** Absolute offset of the tensor's data in the file. */
  offset: number;
  size: number;
  /** FNV-1a 64 of all `size` bytes: the name of the worker cache's entry for them. */
  hash: string;
  /** SHA-256 of all `size` bytes, `sha256:<64 hex>`: what a worker admitting them from another machine checks them against. */
  digest: string;
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
  /** 2 since it holds each tensor's digest; a stored manifest of version 1 is made again. */
  version: 2;
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
