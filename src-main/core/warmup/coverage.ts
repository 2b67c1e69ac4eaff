// Coverage: how much of each peer's share of a plan its cache holds, asked of every member at
// once. The same answers say which member holds which entry, so a peer's missing entries can
// come from another member instead of this machine.
import type { PeerCoverage } from '../../shared/cache-progress.js';
import { cacheHas } from './cache-client.js';
import type { CachePeer, PeerShare } from './peer-shares.js';

/** Which of the asked entries each member's cache holds, by peer id; a member that did not answer has an error instead. */
export interface ClusterPresence {
  present: Map<string, Set<string>>;
  errors: Map<string, string>;
  /** When it was asked (ms since the epoch). */
  at: number;
}

/** Every distinct entry of any share: what to ask each member about. */
export function shareHashes(shares: readonly PeerShare[]): string[] {
  return [...new Set(shares.flatMap((share) => share.entries.map((entry) => entry.hash)))];
}

/** Ask every member (in parallel) which of `hashes` it holds. */
export async function askPresence(members: readonly CachePeer[], hashes: readonly string[], signal?: AbortSignal, clock: () => number = Date.now): Promise<ClusterPresence> {
  const present = new Map<string, Set<string>>();
  const errors = new Map<string, string>();
  await Promise.all(members.map(async (member) => {
    try {
      present.set(member.id, await cacheHas(member, hashes, signal));
    } catch (error) {
      if (signal?.aborted) throw error;
      errors.set(member.id, (error as Error).message);
    }
  }));
  return { present, errors, at: clock() };
}

/** Each share's coverage in `presence`; a peer that did not answer keeps `previous` figures, with its error. */
export function coverageOf(shares: readonly PeerShare[], presence: ClusterPresence, previous: readonly PeerCoverage[] = []): PeerCoverage[] {
  return shares.map((share) => {
    const error = presence.errors.get(share.peer.id) ?? null;
    const held = presence.present.get(share.peer.id);
    const before = previous.find((coverage) => coverage.peerId === share.peer.id);
    const cached = held ? share.entries.filter((entry) => held.has(entry.hash)) : null;
    return {
      peerId: share.peer.id,
      peer: share.peer.name,
      shareEntries: share.entries.length,
      shareBytes: share.bytes,
      cachedEntries: cached ? cached.length : (before?.cachedEntries ?? 0),
      cachedBytes: cached ? cached.reduce((sum, entry) => sum + entry.size, 0) : (before?.cachedBytes ?? 0),
      checkedAt: held ? presence.at : (before?.checkedAt ?? 0),
      error,
    };
  });
}

/** Coverage of each share now: one round of questions to the members. */
export async function measureCoverage(shares: readonly PeerShare[], signal?: AbortSignal): Promise<PeerCoverage[]> {
  const presence = await askPresence(shares.map((share) => share.peer), shareHashes(shares), signal);
  return coverageOf(shares, presence);
}
