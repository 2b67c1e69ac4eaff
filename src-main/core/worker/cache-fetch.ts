// Moving shares: pulling entries this worker now needs from another member's cache instead of
// from the coordinator. Each entry comes from the member's control API through the secure link
// (its `GET /v1/cache/entries/<hash>` sends only verified bytes) and is admitted here through the
// cache's verified path against the size and SHA-256 digest the coordinator's manifest gave for it,
// never what the member says: a member can serve bytes that match an entry's FNV-1a name and still
// be another tensor, but not bytes that match its digest.
import type http from 'node:http';
import type { CacheStore } from '../cache/cache-store.js';
import { EntryRefusedError } from '../cache/entry-files.js';
import { HearthError } from '../base/errors.js';
import { readText } from '../net/http-request.js';
import type { FetchResult, WantedEntry } from '../worker-api/wire.js';
import { WorkerClient } from '../worker-api/worker-client.js';

/** How this worker reaches a member's control API: a loopback endpoint through the secure link (ClusterNode.endpointFor). */
export interface PeerControlEndpoints {
  endpointFor(peerId: string, service: 'control'): Promise<string>;
}

/** A stream that died on the way (the link, the peer), as opposed to an answer. */
class TransportError extends Error {}

const IDLE_TIMEOUT_MS = 30_000;

/** Copies entries from member peers' caches into this one. */
export class PeerFetch {
  readonly #cache: CacheStore;
  /** One endpoint per peer, kept: each is a listening socket the cluster holds until it stops. */
  readonly #endpoints = new Map<string, Promise<string>>();

  constructor(cache: CacheStore) {
    this.#cache = cache;
  }

  /** Copy the `entries` that are missing here from member `peerId`; throws the cluster's HearthError when it is no usable member. */
  async fetch(cluster: PeerControlEndpoints, peerId: string, entries: readonly WantedEntry[]): Promise<FetchResult> {
    const unique = [...new Map(entries.map((entry) => [entry.hash, entry])).values()];
    const result: FetchResult = { fetched: [], bytes: 0, present: unique.filter((entry) => this.#cache.has(entry.hash)).map((entry) => entry.hash), missing: [], warnings: [] };
    const wanted = unique.filter((entry) => !this.#cache.has(entry.hash));
    let endpoint = await this.#endpoint(cluster, peerId, false);
    let retried = false;
    for (let index = 0; index < wanted.length; index++) {
      const entry = wanted[index]!;
      try {
        if (!(await this.#copy(endpoint, peerId, entry, result.warnings))) result.missing.push(entry.hash);
        else {
          result.fetched.push(entry.hash);
          result.bytes += entry.size;
        }
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if (!retried) {
          // The link may have gone stale (a new cluster key, a restarted peer): one fresh endpoint, then give up.
          retried = true;
          endpoint = await this.#endpoint(cluster, peerId, true);
          index--;
          continue;
        }
        result.missing.push(...wanted.slice(index).map((left) => left.hash));
        result.warnings.push(`Peer ${peerId} stopped answering (${error.message}): ${wanted.length - index} entries not fetched.`);
        break;
      }
    }
    return result;
  }

  #endpoint(cluster: PeerControlEndpoints, peerId: string, fresh: boolean): Promise<string> {
    let endpoint = fresh ? undefined : this.#endpoints.get(peerId);
    if (!endpoint) {
      endpoint = cluster.endpointFor(peerId, 'control');
      this.#endpoints.set(peerId, endpoint);
      const mine = endpoint;
      mine.catch(() => this.#endpoints.get(peerId) === mine && this.#endpoints.delete(peerId));
    }
    return endpoint;
  }

  /** Copy one entry: true once admitted, false when the peer does not have it or sent something else. */
  async #copy(endpoint: string, peerId: string, entry: WantedEntry, warnings: string[]): Promise<boolean> {
    const { hash, size, digest } = entry;
    const response = await get(endpoint, hash);
    if (response.statusCode === 404) {
      response.resume();
      return false;
    }
    const length = Number(response.headers['content-length']);
    if (response.statusCode !== 200 || length !== size) {
      // A broken error reply, or an entry of another size than the manifest's: what arrived is enough for a warning.
      const text = response.statusCode === 200 ? `${response.headers['content-length']} bytes, not the ${size} of the coordinator's manifest` : await readText(response, { maxChars: 300, cut: true }).catch(() => '');
      response.destroy();
      warnings.push(`Peer ${peerId} answered ${response.statusCode} for entry ${hash}: ${text}`);
      return false;
    }
    try {
      await this.#cache.put(hash, size, response, digest);
      return true;
    } catch (error) {
      response.destroy();
      if (error instanceof EntryRefusedError) {
        warnings.push(`Peer ${peerId} sent bytes that are not entry ${hash} (${error.message}): not admitted.`);
        return false;
      }
      if (error instanceof HearthError) throw error; // no room here: the user's to fix
      throw new TransportError((error as Error).message);
    }
  }
}

function get(endpoint: string, hash: string): Promise<http.IncomingMessage> {
  const member = new WorkerClient({ name: `the member at ${endpoint}`, baseUrl: `http://${endpoint}/` });
  return new Promise((resolve, reject) => {
    const request = member.entryRequest('GET', hash, { idleTimeoutMs: IDLE_TIMEOUT_MS });
    request.once('response', resolve);
    request.on('error', (error) => reject(new TransportError(error.message)));
    request.end();
  });
}
