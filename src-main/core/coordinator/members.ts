// Who the coordinator may use: the member peers online and compatible now, each with where its
// secure link listens, and the peers seen but not usable, with why. Where they come from (a
// running cluster node, or a command's own look at the LAN) is the MemberSource's business.
import type { PeerState } from '../peers/peer-directory.js';
import type { LinkAddress, LinkDialer } from '../peers/link/member-dialer.js';
import type { PlanPeer } from '../planner/cluster-devices.js';

/** A member peer the coordinator may plan over and reach. */
export interface Member extends PlanPeer {
  /** Where its secure link listens now. */
  address: LinkAddress;
}

/** The usable members, in a stable order (the same cluster gives the same plan at every load), and the rest with why. */
export interface ClusterMembers {
  members: Member[];
  skipped: { name: string; reason: string }[];
}

/** Where members come from, and how to reach them. */
export interface MemberSource {
  current(): ClusterMembers;
  dial: LinkDialer;
  /** Hear of a peer coming, changing (paired again, new devices) or going; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Sort the peers a directory knows into members and the rest; `fingerprint` is this machine's cluster's. */
export function membersOf(peers: readonly PeerState[], fingerprint: string): ClusterMembers {
  const members: Member[] = [];
  const skipped: ClusterMembers['skipped'] = [];
  for (const peer of [...peers].sort((a, b) => a.advert.id.localeCompare(b.advert.id))) {
    const reason = unusable(peer, fingerprint);
    if (reason) skipped.push({ name: peer.advert.name, reason });
    else members.push({ id: peer.advert.id, name: peer.advert.name, devices: peer.advert.devices, address: { host: peer.addresses[0]!, port: peer.advert.linkPort } });
  }
  return { members, skipped };
}

function unusable(peer: PeerState, fingerprint: string): string | null {
  if (!peer.online) return 'offline';
  if (!peer.compatible) return peer.reason ?? 'incompatible';
  if (peer.advert.fingerprint !== fingerprint) return 'not in this cluster: pair it first (hearth pair)';
  return null;
}
