import type { ServerCacheEvent } from './cache-events.js';

/** What the cache did for loads: counted from the RPC server's own events, never assumed. */
export interface CacheStats {
  /** Cached tensors served from the worker's disk. */
  hits: number;
  /** Cached tensors the client had to send. */
  misses: number;
  /** Bytes loaded from the cache instead of the network. */
  bytesFromCache: number;
  /** Bytes the worker read from its RPC clients' sockets. */
  bytesReceived: number;
  /** Entries written by loads. */
  stores: number;
  /** Damaged entries found and dropped. */
  drops: number;
}

/** A zeroed counter set. */
export function emptyStats(): CacheStats {
  return { hits: 0, misses: 0, bytesFromCache: 0, bytesReceived: 0, stores: 0, drops: 0 };
}

/** Count one server event into `stats` (in place). */
export function countEvent(stats: CacheStats, event: ServerCacheEvent): void {
  switch (event.kind) {
    case 'hit':
      stats.hits++;
      stats.bytesFromCache += event.bytes;
      break;
    case 'miss':
      stats.misses++;
      break;
    case 'store':
      stats.stores++;
      break;
    case 'drop':
      stats.drops++;
      break;
    case 'client-close':
      stats.bytesReceived += event.received;
      break;
    default:
      break;
  }
}
