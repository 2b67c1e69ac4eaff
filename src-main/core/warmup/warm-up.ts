// Pre-warm: bring every peer's cache up to its share of a plan before the load, all peers at
// once (one stream each, so each link carries its own peer's share and nothing else).
import { setMaxListeners } from 'node:events';
import type { WarmupProgress } from '../../shared/cache-progress.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import { askPresence, coverageOf, shareHashes } from './coverage.js';
import { PeerProgress } from './peer-progress.js';
import type { CachePeer, PeerShare } from './peer-shares.js';
import { warmPeer } from './warm-peer.js';

/** A warm-up to run. */
export interface WarmupRequest {
  /** Each peer's share (`peerShares`). */
  shares: readonly PeerShare[];
  manifest: HashManifest;
  /** Every member of the cluster: peers with a share, and those that may hold entries to move. */
  members: readonly CachePeer[];
  /** Per peer, bytes per second for pushes; unlimited when left out. */
  maxBytesPerSecond?: number;
  /** Abort to cancel: what arrived stays, and a later warm-up resumes from there. */
  signal?: AbortSignal;
  onProgress?: (progress: WarmupProgress) => void;
  /** Told of entries a peer confirmed it stored (to update a CoverageWatch at once). */
  onStored?: (peerId: string, hashes: string[]) => void;
  clock?: () => number;
}

/** How one peer's warm-up ended. */
export interface PeerWarmupReport extends WarmupProgress {
  /** Its share was already in its cache for this many entries and bytes when the warm-up began. */
  cachedEntries: number;
  cachedBytes: number;
  /** Entries this warm-up brought in (pushed, filled or fetched). */
  entries: number;
  /** Bytes interrupted earlier pushes had left on the peer, not sent again. */
  resumedBytes: number;
  seconds: number;
}

/** Warm every share; resolves when each peer is done, failed or cancelled (see each report's state). */
export async function warmUp(request: WarmupRequest): Promise<PeerWarmupReport[]> {
  const clock = request.clock ?? Date.now;
  const started = clock();
  // Every request to every peer listens to the one signal: past Node's ten that is no leak.
  if (request.signal) setMaxListeners(0, request.signal);
  const presence = await askPresence(request.members, shareHashes(request.shares), request.signal);
  const coverage = coverageOf(request.shares, presence);
  const peers = request.shares.map((share, index) => {
    const cached = coverage[index]!;
    const progress = new PeerProgress(share, { entries: cached.cachedEntries, bytes: cached.cachedBytes }, (snapshot) => request.onProgress?.(snapshot), { clock });
    return { share, progress, error: presence.errors.get(share.peer.id) };
  });
  // Where each peer starts from, before anything moves.
  for (const { progress } of peers) request.onProgress?.(progress.snapshot());
  await Promise.all(peers.map(async ({ share, progress, error }) => {
    if (error) return progress.enter('failed', error);
    await warmPeer({ share, file: request.manifest.file.path, presence, members: request.members, progress, maxBytesPerSecond: request.maxBytesPerSecond, signal: request.signal, onStored: request.onStored });
  }));
  const seconds = (clock() - started) / 1000;
  return peers.map(({ progress }) => {
    const snapshot = progress.snapshot();
    return {
      ...snapshot,
      cachedEntries: progress.cachedAtStart.entries,
      cachedBytes: progress.cachedAtStart.bytes,
      entries: snapshot.entriesDone - progress.cachedAtStart.entries,
      resumedBytes: progress.resumedBytes,
      seconds,
    };
  });
}
