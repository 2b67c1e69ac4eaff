// Which cache entries a plan puts on each peer: the cached tensors of the devices it holds, by
// the content hash llama.cpp's RPC client will ask the peer's cache for.
import type { HashManifest, ManifestEntry } from '../gguf/manifest/hash-manifest.js';
import { isCachedTensor } from '../gguf/inspect-model.js';
import type { SplitPlan } from '../planner/plan-types.js';
import type { WorkerClient } from '../worker-api/worker-client.js';

/** A member peer as the warm-up needs it: who, and its control API through the secure link. */
export interface CachePeer {
  id: string;
  name: string;
  worker: WorkerClient;
}

/** One peer's share of a plan: the entries its cache needs, in file order, one per distinct content. */
export interface PeerShare {
  peer: CachePeer;
  entries: ManifestEntry[];
  /** Bytes of those entries. */
  bytes: number;
}

/** Whether the plan puts any tensor a worker cache holds on a peer: only then do shares, and so the manifest's hashing, matter. */
export function planGivesPeersCachedTensors(plan: SplitPlan): boolean {
  return plan.devices.some((device) => device.device.peerId !== null && device.tensors.some(isCachedTensor));
}

/** Each member's share of the plan, in member order; members the plan gives no cached tensor are left out. */
export function peerShares(plan: SplitPlan, manifest: HashManifest, members: readonly CachePeer[]): PeerShare[] {
  const byTensor = new Map(manifest.entries.map((entry) => [entry.tensor, entry]));
  const shares: PeerShare[] = [];
  for (const peer of members) {
    // Two tensors with the same bytes are one cache entry: count and move it once.
    const seen = new Set<string>();
    const entries: ManifestEntry[] = [];
    for (const device of plan.devices) {
      if (device.device.peerId !== peer.id) continue;
      for (const tensor of device.tensors) {
        const entry = byTensor.get(tensor.name);
        if (!entry || seen.has(entry.hash)) continue;
        seen.add(entry.hash);
        entries.push(entry);
      }
    }
    if (entries.length === 0) continue;
    entries.sort((a, b) => a.offset - b.offset);
    shares.push({ peer, entries, bytes: entries.reduce((sum, entry) => sum + entry.size, 0) });
  }
  return shares;
}
