// The coordinator's questions to a member worker's cache, through the secure link: which entries
// it holds, and asking it to fill entries from its own disk or from another member. Workers of an
// older Hearth answer 404 to `fill`, `fetch` and `ingests`: that means "not supported" (the
// warm-up pushes instead), never an error.
import type { ManifestEntry } from '../gguf/manifest/hash-manifest.js';
import type { WantedEntry } from '../worker-api/wire.js';
import { WorkerRefusal } from '../worker-api/worker-client.js';
import type { CachePeer } from './peer-shares.js';

/** What a worker moved into its cache for a `fill` or `fetch`. */
export interface CacheTransfer {
  /** Entries now in its cache. */
  done: string[];
  bytes: number;
  /** Entries it could not get. */
  missing: string[];
}

/** The entries of `hashes` the peer's cache holds now. */
export async function cacheHas(peer: CachePeer, hashes: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  return new Set((await peer.worker.call('cacheHas', { hashes: [...hashes] }, { signal })).present);
}

/** Ask the peer to fill these entries from GGUF copies on its own disk; null when its worker cannot. */
export async function askFill(peer: CachePeer, entries: readonly ManifestEntry[], signal?: AbortSignal): Promise<CacheTransfer | null> {
  const answer = await unsupportedAsNull(peer.worker.call('fill', { entries: entries.map(wanted) }, { signal }));
  return answer && { done: answer.filled, bytes: answer.bytes, missing: answer.missing };
}

/** Ask the peer to pull these entries from another member (`source`) through its own link; null when its worker cannot. */
export async function askFetch(peer: CachePeer, source: CachePeer, entries: readonly ManifestEntry[], signal?: AbortSignal): Promise<CacheTransfer | null> {
  const answer = await unsupportedAsNull(peer.worker.call('fetch', { peer: source.id, entries: entries.map(wanted) }, { signal }));
  return answer && { done: answer.fetched, bytes: answer.bytes, missing: answer.missing };
}

/** How many bytes of an interrupted push of `entry` the peer kept (0 when none, or when its worker cannot resume). */
export async function ingestOffset(peer: CachePeer, entry: ManifestEntry, signal?: AbortSignal): Promise<number> {
  const ingest = await unsupportedAsNull(peer.worker.call('ingest', { hash: entry.hash }, { signal }));
  // An ingest of another size or digest is not this entry's: start over (which replaces it) rather than trust it.
  return ingest && ingest.size === entry.size && ingest.digest === entry.digest && ingest.offset <= entry.size ? ingest.offset : 0;
}

/** What a worker needs to check an entry it brings in: name, size and digest, from this machine's manifest. */
function wanted(entry: ManifestEntry): WantedEntry {
  return { hash: entry.hash, size: entry.size, digest: entry.digest };
}

/** A route the worker does not have (or an ingest it does not hold) as null; any other refusal stays an error. */
async function unsupportedAsNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof WorkerRefusal && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}
