// The cluster as the UI shows it, from the cluster node's directory.
import type { ClusterStatus, PeerSummary } from '../api/contract.js';
import type { PeerView } from '../peers/cluster-node.js';

/** One peer for the Cluster screen. */
export function peerSummary(peer: PeerView): PeerSummary {
  const { advert } = peer;
  return {
    id: advert.id,
    name: advert.name,
    addresses: peer.addresses,
    linkPort: advert.linkPort,
    version: advert.version,
    release: advert.release,
    online: peer.online,
    compatible: peer.compatible,
    reason: peer.reason,
    member: peer.member,
    source: peer.source,
    devices: advert.devices,
    cacheUsedBytes: advert.cacheUsedBytes,
    cacheCapBytes: advert.cacheCapBytes,
  };
}

/** The cluster now; members first, then by name. */
export function clusterStatus(node: { fingerprint: string; peers(): PeerView[]; pairing: { current: ClusterStatus['pairing'] } } | null, unavailable: string): ClusterStatus {
  if (!node) return { fingerprint: '', peers: [], pairing: null, unavailable };
  const peers = node.peers().map(peerSummary).sort((a, b) => Number(b.member) - Number(a.member) || a.name.localeCompare(b.name));
  return { fingerprint: node.fingerprint, peers, pairing: node.pairing.current, unavailable: null };
}
