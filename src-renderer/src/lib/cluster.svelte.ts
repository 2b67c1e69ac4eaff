// This machine's cluster as the UI shows it: a first snapshot, then every pushed update, and the
// requests that change it (pairing, joining, adding a peer by address).
import type { ClusterStatus, HearthApi, PairingCode, PeerSummary } from '../../../src-main/core/api/contract.js';
import { follow } from './follow.js';

// Members first (they are the cluster), then who is online, then by name.
function byRelevance(a: PeerSummary, b: PeerSummary): number {
  return Number(b.member) - Number(a.member) || Number(b.online) - Number(a.online) || a.name.localeCompare(b.name);
}

/** Live cluster status; `start` it once, and call what it returns to stop. */
export class ClusterState {
  status = $state<ClusterStatus | null>(null);
  /** Why the first snapshot could not be had, until an update arrives. */
  error = $state<string | null>(null);
  /** The open pairing code, from the last status or the last `showPairingCode`. */
  pairing = $state<PairingCode | null>(null);
  /** Every peer, members first. */
  peers = $derived([...(this.status?.peers ?? [])].sort(byRelevance));

  constructor(private readonly api: HearthApi) {}

  start(): () => void {
    return follow(this.api, 'cluster', () => this.api.getCluster(), (status) => this.apply(status), (message) => (this.error = message));
  }

  /** Open a pairing window here; the code is also kept in `pairing`. */
  async showPairingCode(): Promise<PairingCode> {
    const pairing = await this.api.showPairingCode();
    this.pairing = pairing;
    return pairing;
  }

  /** Join the cluster of the machine showing `code`. */
  async join(code: string): Promise<ClusterStatus> {
    const status = await this.api.joinCluster({ code });
    this.apply(status);
    return status;
  }

  /** Add a peer by address; it shows in `peers` at once, before the next pushed update. */
  async addPeer(host: string, port?: number): Promise<PeerSummary> {
    const peer = await this.api.addPeer(port === undefined ? { host } : { host, port });
    if (this.status) {
      const others = this.status.peers.filter((known) => known.id !== peer.id);
      this.status = { ...this.status, peers: [...others, peer] };
    }
    return peer;
  }

  private apply(status: ClusterStatus): void {
    this.status = status;
    this.pairing = status.pairing;
    this.error = null;
  }
}
