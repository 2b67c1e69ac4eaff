// Filling the cache from this machine's own copy of a model: each wanted entry is read from a
// local GGUF file at its tensor's offset and admitted through the cache's verified path, so no
// model byte crosses the network and a file that changed under us can never leave a wrong entry.
import { createReadStream } from 'node:fs';
import type { CacheStore } from '../cache/cache-store.js';
import { EntryRefusedError } from '../cache/entry-files.js';
import { HearthError } from '../base/errors.js';
import type { FillResult } from '../worker-api/wire.js';
import type { LocalModels } from './local-models.js';

const READ_CHUNK = 1 << 20;

/** Fills a cache from local model files, one fill at a time (they compete for the same disk). */
export class LocalFill {
  readonly #cache: CacheStore;
  readonly #models: LocalModels;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(cache: CacheStore, models: LocalModels) {
    this.#cache = cache;
    this.#models = models;
  }

  /** Make the entries `hashes` that are missing from local model files. */
  fill(hashes: readonly string[]): Promise<FillResult> {
    const run = this.#queue.then(() => this.#fill(hashes));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #fill(hashes: readonly string[]): Promise<FillResult> {
    const unique = [...new Set(hashes)];
    const present = unique.filter((hash) => this.#cache.has(hash));
    const wanted = unique.filter((hash) => !this.#cache.has(hash));
    const result: FillResult = { filled: [], bytes: 0, present, missing: [], warnings: [] };
    if (wanted.length === 0) return result;
    if (this.#models.dirs.length === 0) result.warnings.push('This worker has no model folders: start it with --models DIR or set "modelDirs".');
    const { found, warnings } = await this.#models.locate(wanted);
    result.warnings.push(...warnings);
    for (const hash of wanted) {
      const source = found.get(hash);
      if (!source) {
        result.missing.push(hash);
        continue;
      }
      const bytes = createReadStream(source.file, { start: source.offset, end: source.offset + source.size - 1, highWaterMark: READ_CHUNK });
      try {
        await this.#cache.put(hash, source.size, bytes);
        result.filled.push(hash);
        result.bytes += source.size;
      } catch (error) {
        bytes.destroy();
        // No room is the user's to fix, and says so (507). Bytes that are not the entry (the file was
        // rewritten since it was indexed) or a file that cannot be read: nothing was admitted, say why.
        if (error instanceof HearthError && !(error instanceof EntryRefusedError)) throw error;
        result.missing.push(hash);
        result.warnings.push(`${source.file}, tensor ${source.tensor}: ${(error as Error).message}`);
      }
    }
    return result;
  }
}
