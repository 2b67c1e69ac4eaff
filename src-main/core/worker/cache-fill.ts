// Filling the cache from this machine's own copy of a model: each wanted entry is read from a
// local GGUF file at its tensor's offset and admitted through the cache's verified path, against
// the size and digest the coordinator's manifest gave, so no model byte crosses the network and
// neither a file that changed under us nor a local tensor that only shares the FNV-1a name can
// leave a wrong entry.
import { createReadStream } from 'node:fs';
import type { CacheStore } from '../cache/cache-store.js';
import { EntryRefusedError } from '../cache/entry-files.js';
import { HearthError } from '../base/errors.js';
import type { FillResult, WantedEntry } from '../worker-api/wire.js';
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

  /** Make the `entries` that are missing from local model files. */
  fill(entries: readonly WantedEntry[]): Promise<FillResult> {
    const run = this.#queue.then(() => this.#fill(entries));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #fill(entries: readonly WantedEntry[]): Promise<FillResult> {
    const unique = [...new Map(entries.map((entry) => [entry.hash, entry])).values()];
    const present = unique.filter((entry) => this.#cache.has(entry.hash)).map((entry) => entry.hash);
    const wanted = unique.filter((entry) => !this.#cache.has(entry.hash));
    const result: FillResult = { filled: [], bytes: 0, present, missing: [], warnings: [] };
    if (wanted.length === 0) return result;
    if (this.#models.dirs.length === 0) result.warnings.push('This worker has no model folders: start it with --models DIR or set "modelDirs".');
    const { found, warnings } = await this.#models.locate(wanted.map((entry) => entry.hash));
    result.warnings.push(...warnings);
    for (const { hash, size, digest } of wanted) {
      const source = found.get(hash);
      if (!source || source.size !== size || source.digest !== digest) {
        // Same name, other bytes: a tensor of another model that collides on FNV-1a, never this one.
        if (source) result.warnings.push(`${source.file}, tensor ${source.tensor}: has the name of entry ${hash} but not its size or digest (${source.size} bytes, ${source.digest}); not used.`);
        result.missing.push(hash);
        continue;
      }
      const bytes = createReadStream(source.file, { start: source.offset, end: source.offset + source.size - 1, highWaterMark: READ_CHUNK });
      try {
        await this.#cache.put(hash, size, bytes, digest);
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
