// The members a command (`hearth plan`, `warm`, `load`) finds on its own: this machine's identity
// from the data folder, a look at the LAN by mDNS for `waitMs`, and peers given by address. The
// directory keeps listening while the command runs, so its members stay current.
import { setTimeout as sleep } from 'node:timers/promises';
import { HearthError } from '../base/errors.js';
import { probeAdvert } from '../peers/advert-probe.js';
import { clusterFingerprint, loadIdentity } from '../peers/cluster/cluster-identity.js';
import { memberDialer } from '../peers/link/member-dialer.js';
import { PeerDirectory } from '../peers/peer-directory.js';
import { membersOf, type MemberSource } from './members.js';

/** What to look for. */
export interface DiscoverOptions {
  dataDir: string;
  /** Our engine versions: peers of another release or protocol are incompatible. */
  ours: { release: string; rpcProtocol: string };
  /** Peers given by address (`host`, link `port`), for networks without multicast. */
  manual?: { host: string; port: number }[];
  /** Browse mDNS (default on). */
  discovery?: boolean;
  /** How long to listen for peers on mDNS before the first plan. */
  waitMs?: number;
}

/** A member source of its own; `stop()` ends the listening. */
export interface DiscoveredMembers extends MemberSource {
  stop(): Promise<void>;
}

/** Find this cluster's members; nothing keeps running on failure. */
export async function discoverMembers(options: DiscoverOptions): Promise<DiscoveredMembers> {
  const identity = await loadIdentity(options.dataDir);
  const fingerprint = clusterFingerprint(identity.clusterKey);
  const directory = new PeerDirectory({
    selfId: identity.deviceId,
    ours: options.ours,
    browse: options.discovery === false ? null : undefined,
    probe: probeAdvert,
  });
  try {
    await directory.start();
    for (const peer of options.manual ?? []) {
      await directory.addManual(peer.host, peer.port).catch((cause: unknown) => {
        throw new HearthError('peer-unreachable', `The peer ${peer.host}:${peer.port} did not answer as a Hearth machine (${(cause as Error).message}).`, { cause });
      });
    }
    if (options.discovery !== false) await sleep(options.waitMs ?? 2000);
  } catch (error) {
    await directory.stop();
    throw error;
  }
  return {
    current: () => membersOf(directory.peers(), fingerprint),
    dial: memberDialer(() => identity),
    onChange: (listener) => {
      const events = ['peer-up', 'peer-changed', 'peer-down'] as const;
      for (const event of events) directory.on(event, listener);
      return () => {
        for (const event of events) directory.off(event, listener);
      };
    },
    stop: async () => directory.stop(),
  };
}
