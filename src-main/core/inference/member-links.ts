// The coordinator's way to the cluster's workers: find the member peers (mDNS and addresses the
// user gave), and open loopback endpoints through the secure link to each one's RPC server
// (for `llama-server --rpc`) and control API (to announce a load).
import { setTimeout as sleep } from 'node:timers/promises';
import { HearthError } from '../errors.js';
import type { LlamaTools } from '../native/tools.js';
import { probeAdvert } from '../peers/advert-probe.js';
import { clusterFingerprint, loadIdentity, type ClusterIdentity } from '../peers/cluster/cluster-identity.js';
import { linkPsk, memberIdentity } from '../peers/link/link-keys.js';
import { LinkAgent } from '../peers/link/link-agent.js';
import { BEAT_SERVICE } from '../peers/link/link-beat.js';
import { openLinkStream, startLocalEndpoint, type LocalEndpoint } from '../peers/link/link-client.js';
import { PeerDirectory, type PeerState } from '../peers/peer-directory.js';
import type { PlanPeer } from '../planner/cluster-devices.js';

/** What to look for. */
export interface MemberLinksOptions {
  dataDir: string;
  tools: Pick<LlamaTools, 'release' | 'rpcProtocol'>;
  /** Peers given by address (`host`, link `port`), for networks without multicast. */
  manual?: { host: string; port: number }[];
  /** Browse mDNS (default on). */
  discovery?: boolean;
  /** How long to listen for peers on mDNS before planning. */
  waitMs?: number;
}

/** One member peer reachable through the link. */
export interface MemberLink extends PlanPeer {
  /** Base URL of its control API, through the link. */
  controlUrl: string;
  /** Connections straight to its control API through the link (no loopback endpoint), for bulk uploads. */
  uploadAgent: LinkAgent;
  /** Bytes through its RPC endpoint so far. */
  rpcStats: LocalEndpoint['stats'];
}

/** The member peers and the peers that cannot be used, with why. */
export interface MemberLinks {
  members: MemberLink[];
  /** Seen but not usable: not paired, incompatible or offline. */
  skipped: { name: string; reason: string }[];
  close(): Promise<void>;
}

/** What linking opened and closing must close. */
interface Closable {
  close(): Promise<void>;
}

/** Find the member peers and open their endpoints; nothing stays open on failure. */
export async function openMemberLinks(options: MemberLinksOptions): Promise<MemberLinks> {
  const identity = await loadIdentity(options.dataDir);
  const directory = new PeerDirectory({
    selfId: identity.deviceId,
    ours: { release: options.tools.release, rpcProtocol: options.tools.rpcProtocol },
    browse: options.discovery === false ? null : undefined,
    probe: probeAdvert,
  });
  const endpoints: Closable[] = [];
  const close = async () => {
    await directory.stop();
    await Promise.all(endpoints.map((endpoint) => endpoint.close()));
  };
  try {
    await directory.start();
    for (const peer of options.manual ?? []) {
      await directory.addManual(peer.host, peer.port).catch((cause: unknown) => {
        throw new HearthError('peer-unreachable', `The peer ${peer.host}:${peer.port} did not answer as a Hearth machine (${(cause as Error).message}).`, { cause });
      });
    }
    if (options.discovery !== false) await sleep(options.waitMs ?? 2000);
    const { members, skipped } = await linkMembers(directory.peers(), identity, endpoints);
    await directory.stop();
    return { members, skipped, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The member links of a running cluster node (the app and `hearth serve`): its directory already
 * knows the peers, so nothing waits for mDNS.
 */
export async function clusterMemberLinks(cluster: { peers(): PeerState[]; identity: ClusterIdentity }): Promise<MemberLinks> {
  const endpoints: Closable[] = [];
  const close = async () => void (await Promise.all(endpoints.map((endpoint) => endpoint.close())));
  try {
    return { ...(await linkMembers(cluster.peers(), cluster.identity, endpoints)), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Open the RPC and control endpoints and the upload agent of every usable peer (each kept in `endpoints` to close), in a stable order. */
async function linkMembers(peers: readonly PeerState[], identity: ClusterIdentity, endpoints: Closable[]): Promise<Pick<MemberLinks, 'members' | 'skipped'>> {
  const fingerprint = clusterFingerprint(identity.clusterKey);
  const members: MemberLink[] = [];
  const skipped: MemberLinks['skipped'] = [];
  const as = { identity: memberIdentity(identity.deviceId), psk: linkPsk(identity.clusterKey) };
  const address = (peer: PeerState) => ({ host: peer.addresses[0]!, port: peer.advert.linkPort });
  const link = (peer: PeerState, service: 'rpc' | 'control') => startLocalEndpoint({ peer: address(peer), name: peer.advert.name, ...as, service });
  // A stable --rpc order: the same cluster gives the same plan on every load.
  for (const peer of [...peers].sort((a, b) => a.advert.id.localeCompare(b.advert.id))) {
    const reason = unusable(peer, fingerprint);
    if (reason) {
      skipped.push({ name: peer.advert.name, reason });
      continue;
    }
    const rpc = await link(peer, 'rpc');
    endpoints.push(rpc);
    const control = await link(peer, 'control');
    endpoints.push(control);
    const uploadAgent = new LinkAgent(() => openLinkStream({ ...address(peer), ...as, service: 'control' }), { name: peer.advert.name, openBeat: () => openLinkStream({ ...address(peer), ...as, service: BEAT_SERVICE }) });
    endpoints.push({ close: async () => uploadAgent.destroy() });
    members.push({
      id: peer.advert.id,
      name: peer.advert.name,
      endpoint: rpc.endpoint,
      devices: peer.advert.devices,
      controlUrl: `http://${control.endpoint}/`,
      uploadAgent,
      rpcStats: () => rpc.stats(),
    });
  }
  return { members, skipped };
}

function unusable(peer: PeerState, fingerprint: string): string | null {
  if (!peer.online) return 'offline';
  if (!peer.compatible) return peer.reason ?? 'incompatible';
  if (peer.advert.fingerprint !== fingerprint) return 'not in this cluster: pair it first (hearth pair)';
  return null;
}
