import { EventEmitter } from 'node:events';
import { hearthVersion } from '../app-root.js';
import { HearthError } from '../errors.js';
import type { RunningWorker } from '../worker/run-worker.js';
import { clusterFingerprint, loadIdentity, saveIdentity, type ClusterIdentity } from './cluster/cluster-identity.js';
import { PAIRING_IDENTITY, PAIRING_SERVICE, PairingWindow, requestClusterKey } from './cluster/pairing.js';
import type { PeerAdvert } from './discovery/advert.js';
import { advertise, type Advertisement } from './discovery/mdns.js';
import { startLinkServer } from './link/link-server.js';
import { startLocalEndpoint } from './link/link-client.js';
import { linkPsk } from './link/link-keys.js';
import { PeerDirectory, type PeerState } from './peer-directory.js';

/** The secure link's default port when none is given. */
export const DEFAULT_LINK_PORT = 7436;

/** A peer as this machine sees it: the directory's view plus whether it is in our cluster. */
export interface PeerView extends PeerState {
  member: boolean;
}

export interface ClusterNodeOptions {
  dataDir: string;
  worker: RunningWorker;
  release: string;
  /** Where the secure link listens (all interfaces by default: it admits members only). */
  linkHost: string;
  linkPort: number;
  /** Advertise and browse by mDNS (off: manual peers only). */
  discovery: boolean;
  /** IPv4 address of the interface for mDNS (all when left out). */
  mdnsHost?: string;
}

/** The PSK identity a member presents: the key behind it is derived from the cluster key. */
function memberIdentity(deviceId: string): string {
  return `member:${deviceId}`;
}

/**
 * This machine as a member of a cluster: its identity and key, the secure link in front of its
 * worker, its mDNS advert, the directory of peers, pairing, and loopback endpoints that reach
 * member peers' workers through the link.
 */
export class ClusterNode extends EventEmitter {
  readonly pairing: PairingWindow;
  readonly directory: PeerDirectory;
  readonly linkPort: number;
  #identity: ClusterIdentity;
  readonly #options: ClusterNodeOptions;
  readonly #closers: (() => Promise<void>)[] = [];
  #advertisement: Advertisement | null = null;

  private constructor(options: ClusterNodeOptions, identity: ClusterIdentity, linkPort: number, directory: PeerDirectory) {
    super();
    this.#options = options;
    this.#identity = identity;
    this.linkPort = linkPort;
    this.directory = directory;
    this.pairing = new PairingWindow(() => this.#identity);
  }

  /** Load (or make) this machine's identity, open the secure link, advertise and browse. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    let identity = await loadIdentity(options.dataDir);
    let node: ClusterNode | null = null;
    const worker = options.worker;
    const rpc = worker.service.status.endpoint.split(':');
    const link = await startLinkServer({
      host: options.linkHost,
      port: options.linkPort,
      pskFor: (id: string) => {
        const current = node ? node.#identity : identity;
        if (id.startsWith('member:')) return linkPsk(current.clusterKey);
        return node?.pairing.pskFor(id) ?? null;
      },
      allow: (id: string, service: string) => (id === PAIRING_IDENTITY ? service === PAIRING_SERVICE : id.startsWith('member:')),
      services: {
        rpc: { host: rpc[0]!, port: Number(rpc[1]) },
        control: { host: '127.0.0.1', port: worker.control.port },
      },
      handlers: { [PAIRING_SERVICE]: (socket) => (node ? node.pairing.handle(socket) : socket.destroy()) },
    });
    const ours = { release: options.release, rpcProtocol: worker.service.status.rpcProtocol };
    const directory = new PeerDirectory({ selfId: identity.deviceId, ours, browse: options.discovery ? undefined : null, host: options.mdnsHost });
    node = new ClusterNode(options, identity, link.port, directory);
    identity = node.#identity;
    node.#closers.push(() => link.close());
    const refused = node;
    link.on('handshake-failed', (failure) => refused.emit('link-refused', failure));
    await directory.start();
    node.#closers.push(async () => directory.stop());
    if (options.discovery) {
      node.#advertisement = await advertise({ advert: node.advert(), port: link.port, host: options.mdnsHost });
      node.#closers.push(() => node!.#advertisement!.stop());
      const advertised = node;
      const refresh = () => advertised.refreshAdvert();
      worker.service.on('status', refresh);
      worker.service.on('cache', refresh);
    }
    return node;
  }

  /** Tell the LAN what changed (the advertiser coalesces frequent updates). */
  refreshAdvert(): void {
    void this.#advertisement?.update(this.advert());
  }

  get identity(): ClusterIdentity {
    return this.#identity;
  }

  get fingerprint(): string {
    return clusterFingerprint(this.#identity.clusterKey);
  }

  /** What this machine tells the LAN about itself. */
  advert(): PeerAdvert {
    const status = this.#options.worker.service.status;
    const cache = this.#options.worker.service.cache.summary();
    return {
      id: this.#identity.deviceId,
      name: this.#identity.deviceName,
      version: hearthVersion(),
      release: this.#options.release,
      rpcProtocol: status.rpcProtocol,
      devices: status.devices,
      cacheUsedBytes: cache.usedBytes,
      cacheCapBytes: cache.capBytes,
      fingerprint: this.fingerprint,
      linkPort: this.linkPort,
    };
  }

  /** Every peer known, marked as a member when it advertises our cluster's fingerprint. */
  peers(): PeerView[] {
    return this.directory.peers().map((peer) => ({ ...peer, member: peer.advert.fingerprint === this.fingerprint }));
  }

  /** Join the cluster of the member showing `code`: its key replaces ours, here and on disk. */
  async join(code: string, extra: { host: string; port: number }[] = []): Promise<{ memberName: string; fingerprint: string }> {
    const candidates = [
      ...extra,
      ...this.directory.peers().filter((peer) => peer.online).map((peer) => ({ host: peer.addresses[0]!, port: peer.advert.linkPort })),
    ];
    const { clusterKey, memberName } = await requestClusterKey(code, candidates, { deviceId: this.#identity.deviceId, deviceName: this.#identity.deviceName });
    await this.#adopt({ ...this.#identity, clusterKey });
    return { memberName, fingerprint: this.fingerprint };
  }

  /** Leave the cluster: this machine starts a cluster of its own with a new key. */
  async leave(): Promise<{ fingerprint: string }> {
    const { randomBytes } = await import('node:crypto');
    await this.#adopt({ ...this.#identity, clusterKey: randomBytes(32) });
    return { fingerprint: this.fingerprint };
  }

  /**
   * A loopback endpoint (`127.0.0.1:port`) that reaches a member peer's worker through the
   * secure link: what `llama-server --rpc` points at.
   */
  async endpointFor(peerId: string, service: 'rpc' | 'control' = 'rpc'): Promise<string> {
    const peer = this.peers().find((candidate) => candidate.advert.id === peerId);
    if (!peer) throw new HearthError('unknown-peer', `No peer ${peerId} is known: is it running, and on this network?`);
    if (!peer.member) throw new HearthError('not-a-member', `${peer.advert.name} is not in this cluster: pair it first (hearth pair).`);
    if (!peer.compatible) throw new HearthError('incompatible-peer', `${peer.advert.name} cannot be used: ${peer.reason}`);
    const endpoint = await startLocalEndpoint({
      peer: { host: peer.addresses[0]!, port: peer.advert.linkPort },
      identity: memberIdentity(this.#identity.deviceId),
      psk: linkPsk(this.#identity.clusterKey),
      service,
    });
    this.#closers.push(() => endpoint.close());
    return endpoint.endpoint;
  }

  async stop(): Promise<void> {
    for (const close of this.#closers.reverse()) await close().catch(() => undefined);
  }

  async #adopt(identity: ClusterIdentity): Promise<void> {
    await saveIdentity(this.#options.dataDir, identity);
    this.#identity = identity;
    await this.#advertisement?.update(this.advert());
    this.emit('identity', this.fingerprint);
  }
}
