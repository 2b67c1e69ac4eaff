// What a worker's cache should hold for a model, computed from the GGUF file itself.
import { open } from 'node:fs/promises';
import { Fnv1a64 } from '../../src-main/core/cache/checksums.js';
import { inspectModel, RPC_HASH_THRESHOLD } from '../../src-main/core/gguf/inspect-model.js';

/** One large tensor and the name llama.cpp's RPC cache gives its bytes. */
export interface ExpectedEntry {
  tensor: string;
  hash: string;
  size: number;
}

/**
 * The entries a worker holding every offloaded layer caches: each tensor over the RPC hash
 * threshold except the token embedding, which llama.cpp keeps on the host CPU.
 */
export async function expectedEntries(model: string): Promise<ExpectedEntry[]> {
  const facts = await inspectModel(model);
  const file = await open(model, 'r');
  try {
    const entries: ExpectedEntry[] = [];
    for (const tensor of facts.tensors) {
      if (tensor.byteSize <= RPC_HASH_THRESHOLD || tensor.name === 'token_embd.weight') continue;
      const bytes = Buffer.alloc(tensor.byteSize);
      await file.read(bytes, 0, tensor.byteSize, tensor.fileOffset);
      entries.push({ tensor: tensor.name, hash: new Fnv1a64().update(bytes).digestHex(), size: tensor.byteSize });
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
