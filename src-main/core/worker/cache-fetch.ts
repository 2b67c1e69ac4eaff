// Moving shares: pulling entries this worker now needs from another member's cache instead of
// from the coordinator. Each entry comes from the member's control API through the secure link
// (its `GET /v1/cache/entries/<hash>` sends only verified bytes) and is admitted here through the
// cache's verified path, so a peer can never plant a wrong entry.
import type http from 'node:http';
import type { CacheStore } from '../cache/cache-store.js';
import { EntryRefusedError } from '../cache/entry-files.js';
import { HearthError } from '../base/errors.js';
import { readText } from '../net/http-request.js';
import type { FetchResult } from '../worker-api/wire.js';
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

  /** Copy the entries `hashes` that are missing here from member `peerId`; throws the cluster's HearthError when it is no usable member. */
  async fetch(cluster: PeerControlEndpoints, peerId: string, hashes: readonly string[]): Promise<FetchResult> {
    const unique = [...new Set(hashes)];
    const result: FetchResult = { fetched: [], bytes: 0, present: unique.filter((hash) => this.#cache.has(hash)), missing: [], warnings: [] };
    const wanted = unique.filter((hash) => !this.#cache.has(hash));
    let endpoint = await this.#endpoint(cluster, peerId, false);
    let retried = false;
    for (let index = 0; index < wanted.length; index++) {
      const hash = wanted[index]!;
      try {
        const size = await this.#copy(endpoint, hash, result.warnings);
        if (size === null) result.missing.push(hash);
        else {
          result.fetched.push(hash);
          result.bytes += size;
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
        result.missing.push(...wanted.slice(index));
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

  /** Copy one entry: its size once admitted, null when the peer does not have it. */
  async #copy(endpoint: string, hash: string, warnings: string[]): Promise<number | null> {
    const response = await get(endpoint, hash);
    if (response.statusCode === 404) {
      response.resume();
      return null;
    }
    const length = Number(response.headers['content-length']);
    if (response.statusCode !== 200 || !Number.isSafeInteger(length)) {
      // A broken error reply: what arrived is enough for a warning.
      const text = await readText(response, { maxChars: 300, cut: true }).catch(() => '');
      warnings.push(`Peer answered ${response.statusCode} for entry ${hash}: ${text}`);
      return null;
    }
    try {
      await this.#cache.put(hash, length, response);
      return length;
    } catch (error) {
      response.destroy();
      if (error instanceof EntryRefusedError) {
        warnings.push(`Peer sent bytes that are not entry ${hash} (${error.message}): not admitted.`);
        return null;
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
