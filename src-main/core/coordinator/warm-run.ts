// A pre-warm of every peer's share of a plan: the shares (which needs the model's hashes), the
// announcement (so what arrives is in the model's view and pinned until the load), then every
// peer at once (warmup/warm-up.ts). Cancelling keeps what arrived; a later warm-up goes on from there.
import type { WarmupProgress } from '../../shared/cache-progress.js';
import type { HashManifest } from '../gguf/manifest/hash-manifest.js';
import { warmUp, type PeerWarmupReport } from '../warmup/warm-up.js';
import type { PeerShare } from '../warmup/peer-shares.js';
import { announceLoad } from './announce.js';
import type { PeerLink } from './peer-links.js';
import type { Planned } from './planned.js';
import { Run } from './run.js';

/** How a warm-up ended: every peer warm, some failed, cancelled, or nothing to warm (no peer gets a cached tensor). */
export interface WarmReport {
  state: 'done' | 'failed' | 'cancelled' | 'nothing';
  peers: PeerWarmupReport[];
  /** The failures, one per peer, when state is "failed". */
  error: string | null;
}

/** What a warm-up tells as it goes. */
export type WarmEvents = {
  /** Hashing the model's tensors (once per file): 0..1. */
  hashing: [number];
  /** Hashing is over: the peers are asked and warmed now. */
  warming: [];
  progress: [WarmupProgress];
  /** A peer confirmed it stored these entries. */
  stored: [peerId: string, hashes: string[]];
};

export type WarmRun = Run<WarmEvents, WarmReport>;

/** What a warm-up needs from its coordinator: the session's links, and the shares (hashing the model once). */
export interface WarmContext {
  links(planned: Planned): PeerLink[];
  shares(planned: Planned, onHashing: (fraction: number) => void, signal: AbortSignal): Promise<{ shares: PeerShare[]; manifest: HashManifest | null }>;
}

/** Start warming `planned`'s peers; `maxBytesPerSecond` paces each peer's pushes. */
export function startWarm(context: WarmContext, planned: Planned, options: { maxBytesPerSecond?: number }): WarmRun {
  return new Run<WarmEvents, WarmReport>(async (run, signal) => {
    let hashed;
    try {
      hashed = await context.shares(planned, (fraction) => run.emit('hashing', fraction), signal);
    } catch (error) {
      if (signal.aborted) return { state: 'cancelled', peers: [], error: null };
      throw error;
    }
    run.emit('warming');
    const { shares, manifest } = hashed;
    if (shares.length === 0 || !manifest) return { state: 'nothing', peers: [], error: null };
    await announceLoad(planned.plan, manifest, shares.map((share) => share.peer));
    const reports = await warmUp({
      shares,
      manifest,
      members: context.links(planned),
      maxBytesPerSecond: options.maxBytesPerSecond,
      signal,
      onProgress: (progress) => run.emit('progress', progress),
      onStored: (peerId, hashes) => run.emit('stored', peerId, hashes),
    }).catch((error: unknown) => {
      // Stopped while asking the peers what they hold, before any peer's warm-up began.
      if (signal.aborted) return [];
      throw error;
    });
    const failed = reports.filter((report) => report.state === 'failed');
    if (signal.aborted || reports.some((report) => report.state === 'cancelled')) return { state: 'cancelled', peers: reports, error: null };
    if (failed.length > 0) return { state: 'failed', peers: reports, error: failed.map((report) => `${report.peer}: ${report.error}`).join('; ') };
    return { state: 'done', peers: reports, error: null };
  });
}
