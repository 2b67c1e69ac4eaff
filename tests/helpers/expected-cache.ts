// What a worker's cache should hold for a model, computed from the GGUF file itself.
import { open } from 'node:fs/promises';
import { Fnv1a64 } from '../../src-main/core/cache/checksums.js';
import { digestOf } from '../../src-main/core/cache/entry-digest.js';
import { inspectModel, isCachedTensor, RPC_HASH_THRESHOLD, type TensorFacts } from '../../src-main/core/gguf/inspect-model.js';

/** One cached tensor, the name llama.cpp's RPC cache gives its bytes, and their digest. */
export interface ExpectedEntry {
  tensor: string;
  hash: string;
  size: number;
  digest: string;
  /** Where its bytes sit in the file. */
  offset: number;
}

/** Which tensors a load caches: upstream's client asks by hash for those over its threshold; Hearth's, given the model's manifest, for every tensor it lists. */
export type CachedBy = 'upstream' | 'manifest';

const CACHED: Record<CachedBy, (tensor: TensorFacts) => boolean> = {
  upstream: (tensor) => tensor.byteSize > RPC_HASH_THRESHOLD,
  manifest: isCachedTensor,
};

/**
 * The entries a worker holding every offloaded layer caches: each tensor the client asks for by
 * hash, except the token embedding, which llama.cpp keeps on the host CPU. A load without a
 * manifest (plain `llama-server --rpc`) caches what upstream does.
 */
export async function expectedEntries(model: string, cachedBy: CachedBy = 'upstream'): Promise<ExpectedEntry[]> {
  const facts = await inspectModel(model);
  const file = await open(model, 'r');
  try {
    const entries: ExpectedEntry[] = [];
    for (const tensor of facts.tensors) {
      if (!CACHED[cachedBy](tensor) || tensor.name === 'token_embd.weight') continue;
      const bytes = Buffer.alloc(tensor.byteSize);
      await file.read(bytes, 0, tensor.byteSize, tensor.fileOffset);
      entries.push({ tensor: tensor.name, hash: new Fnv1a64().update(bytes).digestHex(), size: tensor.byteSize, digest: digestOf(bytes), offset: tensor.fileOffset });
    }
    return entries;
  } finally {
    await file.close();
  }
}

/** Poll `check` until it returns a value (not undefined), or fail after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
