import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { TLSSocket } from 'node:tls';
import { hearthVersion } from '../base/app-root.js';
import { HearthError } from '../base/errors.js';
import type { Duplex } from 'node:stream';
import type { DeviceInfo } from '../../shared/devices.js';
import { ADVERT_SERVICE, answerAdvert, probeAdvert, PUBLIC_IDENTITY, PUBLIC_PSK } from './advert-probe.js';
import { clusterFingerprint, loadIdentity, saveIdentity, type ClusterIdentity } from './cluster/cluster-identity.js';
import { PAIRING_IDENTITY, PAIRING_SERVICE, PairingWindow, requestClusterKey } from './cluster/pairing.js';
import type { PeerAdvert } from './discovery/advert.js';
import { advertise, type Advertisement } from './discovery/mdns.js';
import { startLinkServer } from './link/link-server.js';
import { openLinkStream, startLocalEndpoint } from './link/link-client.js';
import { readLine } from './link/link-protocol.js';
import { linkPsk, memberIdentity } from './link/link-keys.js';
import { memberDialer, type LinkDialer } from './link/member-dialer.js';
import { PeerDirectory, type PeerState } from './peer-directory.js';

/** The in-process link service through which a member hands out a new cluster key. */
const REKEY_SERVICE = 'rekey';

/** The secure link's default port when none is given. */
export const DEFAULT_LINK_PORT = 7436;

/** A peer as this machine sees it: the directory's view plus whether it is in our cluster. */
export interface PeerView extends PeerState {
  member: boolean;
}

/** The worker a cluster node stands in front of: where the link forwards RPC, who serves control streams, and what the advert tells. */
export interface ClusterWorker {
  service: {
    status: { endpoint: string; rpcProtocol: string; devices: DeviceInfo[] };
    cache: { summary(): { usedBytes: number; capBytes: number } };
    on(event: 'status' | 'cache', listener: () => void): unknown;
  };
  control: { accept(socket: Duplex): void };
}

export interface ClusterNodeOptions {
  dataDir: string;
  worker: ClusterWorker;
  release: string;
  /** Where the secure link listens (all interfaces by default: it admits members only). */
  linkHost: string;
  linkPort: number;
  /** Advertise and browse by mDNS (off: manual peers only). */
  discovery: boolean;
  /** IPv4 address of the interface for mDNS (all when left out). */
  mdnsHost?: string;
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
        if (id === PUBLIC_IDENTITY) return PUBLIC_PSK;
        return node?.pairing.pskFor(id) ?? null;
      },
      // Only members reach the worker; a joiner may only pair, anyone may only read the advert.
      allow: (id: string, service: string) => {
        if (id === PAIRING_IDENTITY) return service === PAIRING_SERVICE;
        if (id === PUBLIC_IDENTITY) return service === ADVERT_SERVICE;
        return id.startsWith('member:') && service !== ADVERT_SERVICE;
      },
      services: { rpc: { host: rpc[0]!, port: Number(rpc[1]), oneAtATime: true } },
      // Names the coordinator holding the worker when another one is refused.
      nameOf: (id: string) => node?.directory.peers().find((peer) => memberIdentity(peer.advert.id) === id)?.advert.name ?? null,
      handlers: {
        // In-process: a pre-warm's bytes skip a loopback hop (its syscalls and thread wake-ups: a tenth of the worker's CPU).
        control: (socket) => worker.control.accept(socket),
        [PAIRING_SERVICE]: (socket) => (node ? node.pairing.handle(socket) : socket.destroy()),
        [ADVERT_SERVICE]: (socket) => (node ? answerAdvert(socket, node.advert()) : socket.destroy()),
        [REKEY_SERVICE]: (socket) => (node ? void node.#acceptRekey(socket) : socket.destroy()),
      },
    });
    const ours = { release: options.release, rpcProtocol: worker.service.status.rpcProtocol };
    const directory = new PeerDirectory({ selfId: identity.deviceId, ours, browse: options.discovery ? undefined : null, host: options.mdnsHost, probe: probeAdvert });
    node = new ClusterNode(options, identity, link.port, directory);
    identity = node.#identity;
    node.#closers.push(() => link.close());
    const refused = node;
    link.on('handshake-failed', (failure) => refused.emit('link-refused', failure));
    link.on('peer-silent', (peer) => refused.emit('peer-silent', peer));
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

  /** Add a peer by address (for networks without multicast): its advert is read through its link. */
  async addPeer(host: string, port: number): Promise<PeerView> {
    const peer = await this.directory.addManual(host, port);
    return { ...peer, member: peer.advert.fingerprint === this.fingerprint };
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

  /**
   * Revoke a machine: a new cluster key goes to every other member online now, over the link
   * keyed with the old one; the revoked machine keeps only the old key, which no longer opens
   * anything. Members that are offline must pair again.
   */
  async revoke(peerRef: string): Promise<{ fingerprint: string; updated: string[]; missed: string[] }> {
    const peers = this.peers();
    const revoked = peers.find((peer) => peer.advert.id === peerRef || peer.advert.name === peerRef);
    if (!revoked) throw new HearthError('unknown-peer', `No peer "${peerRef}" is known: give its id or name as "hearth peers" shows it.`);
    const oldKey = this.#identity.clusterKey;
    const newKey = randomBytes(32);
    const updated: string[] = [];
    const missed: string[] = [];
    for (const peer of peers.filter((candidate) => candidate.member && candidate.advert.id !== revoked.advert.id)) {
      try {
        const socket = await openLinkStream({ host: peer.addresses[0]!, port: peer.advert.linkPort, identity: memberIdentity(this.#identity.deviceId), psk: linkPsk(oldKey), service: REKEY_SERVICE, timeoutMs: 5_000 });
        socket.write(`${JSON.stringify({ clusterKey: newKey.toString('base64'), fingerprint: clusterFingerprint(newKey) })}\n`);
        const answer = await readLine(socket);
        socket.destroy();
        (answer === 'OK' ? updated : missed).push(peer.advert.name);
      } catch {
        missed.push(peer.advert.name);
      }
    }
    await this.#adopt({ ...this.#identity, clusterKey: newKey });
    return { fingerprint: this.fingerprint, updated, missed };
  }

  async #acceptRekey(socket: TLSSocket): Promise<void> {
    socket.on('error', () => socket.destroy());
    try {
      const { clusterKey, fingerprint } = JSON.parse(await readLine(socket, 512)) as { clusterKey?: unknown; fingerprint?: unknown };
      const key = Buffer.from(typeof clusterKey === 'string' ? clusterKey : '', 'base64');
      if (key.length !== 32 || clusterFingerprint(key) !== fingerprint) return void socket.end('ERR bad key\n');
      await this.#adopt({ ...this.#identity, clusterKey: key });
      socket.end('OK\n');
    } catch {
      socket.destroy();
    }
  }

  /** Leave the cluster: this machine starts a cluster of its own with a new key. */
  async leave(): Promise<{ fingerprint: string }> {
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
    const address = { host: peer.addresses[0]!, port: peer.advert.linkPort };
    const endpoint = await startLocalEndpoint({ open: (stream) => this.dial(address, stream), service, name: peer.advert.name });
    this.#closers.push(() => endpoint.close());
    return endpoint.endpoint;
  }

  /** Open a stream to a member's service through its secure link, as this machine. */
  readonly dial: LinkDialer = memberDialer(() => this.#identity);

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
