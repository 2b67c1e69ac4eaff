// Warm one peer's cache for its share, cheapest way first: entries from GGUF copies on its own
// disk (no network at all), then from another member that holds them (their link, not ours),
// and only then pushed from this machine, one entry at a time in file order.
import type { ManifestEntry } from '../gguf/manifest/hash-manifest.js';
import { askFetch, askFill, type CacheTransfer } from './cache-client.js';
import type { ClusterPresence } from './coverage.js';
import type { PeerProgress } from './peer-progress.js';
import type { CachePeer, PeerShare } from './peer-shares.js';
import { pushEntry } from './push-entry.js';

/** What warming one peer needs. */
export interface PeerWarmRequest {
  share: PeerShare;
  /** The GGUF the manifest was made from (what pushes read). */
  file: string;
  /** Who holds what, asked just before. */
  presence: ClusterPresence;
  /** Every member, the possible sources of moved entries. */
  members: readonly CachePeer[];
  progress: PeerProgress;
  maxBytesPerSecond?: number;
  signal?: AbortSignal;
  /** Told of entries the peer confirmed it stored. */
  onStored?: (peerId: string, hashes: string[]) => void;
}

// One fill or fetch asks for at most this much: progress in steps, and a cancel waits for at most one.
const BATCH_BYTES = 1024 ** 3;

/** Warm the peer; never throws: the outcome is the progress's final state (done, failed or cancelled). */
export async function warmPeer(request: PeerWarmRequest): Promise<void> {
  const { share, presence, progress } = request;
  const held = presence.present.get(share.peer.id) ?? new Set<string>();
  let missing = share.entries.filter((entry) => !held.has(entry.hash));
  try {
    if (missing.length > 0) {
      progress.enter('filling');
      missing = await transferBatches(request, missing, 'filled', (entries) => askFill(share.peer, entries, request.signal));
    }
    let canFetch = true;
    for (const source of request.members) {
      if (source.id === share.peer.id || missing.length === 0 || !canFetch) continue;
      const theirs = missing.filter((entry) => presence.present.get(source.id)?.has(entry.hash));
      if (theirs.length === 0) continue;
      progress.enter('fetching');
      const left = await transferBatches(request, theirs, 'fetched', async (entries) => {
        const answer = await askFetch(share.peer, source, entries, request.signal);
        canFetch = answer !== null;
        return answer;
      });
      const got = new Set(theirs.filter((entry) => !left.includes(entry)).map((entry) => entry.hash));
      missing = missing.filter((entry) => !got.has(entry.hash));
    }
    for (const entry of missing) {
      if (progress.state !== 'pushing') progress.enter('pushing');
      request.signal?.throwIfAborted();
      const pushed = await pushEntry({ peer: share.peer, file: request.file, entry, maxBytesPerSecond: request.maxBytesPerSecond, signal: request.signal, onBytes: (bytes) => progress.moving(bytes) });
      if (pushed.resumedBytes > 0) progress.resumed(pushed.resumedBytes);
      progress.stored(entry.size, 'pushed', pushed.sentBytes);
      request.onStored?.(share.peer.id, [entry.hash]);
    }
    progress.enter('done');
  } catch (error) {
    if (request.signal?.aborted) progress.enter('cancelled');
    else progress.enter('failed', (error as Error).message);
  }
}

/** Ask for `entries` in batches; returns those the peer could not get (all of them when its worker cannot do it). */
async function transferBatches(request: PeerWarmRequest, entries: ManifestEntry[], source: 'filled' | 'fetched', ask: (entries: ManifestEntry[]) => Promise<CacheTransfer | null>): Promise<ManifestEntry[]> {
  const left: ManifestEntry[] = [];
  for (let start = 0; start < entries.length;) {
    const batch: ManifestEntry[] = [];
    let bytes = 0;
    while (start < entries.length && (batch.length === 0 || bytes + entries[start]!.size <= BATCH_BYTES)) {
      bytes += entries[start]!.size;
      batch.push(entries[start++]!);
    }
    request.signal?.throwIfAborted();
    const answer = await ask(batch);
    if (answer === null) return [...left, ...batch, ...entries.slice(start)];
    const done = new Set(answer.done);
    const got = batch.filter((entry) => done.has(entry.hash));
    // The worker's word on the bytes it moved, spread over the entries it got.
    const gotBytes = got.reduce((sum, entry) => sum + entry.size, 0);
    for (const entry of got) request.progress.stored(entry.size, source, gotBytes > 0 ? Math.round((answer.bytes * entry.size) / gotBytes) : entry.size);
    if (got.length > 0) request.onStored?.(request.share.peer.id, got.map((entry) => entry.hash));
    left.push(...batch.filter((entry) => !done.has(entry.hash)));
  }
  return left;
}
