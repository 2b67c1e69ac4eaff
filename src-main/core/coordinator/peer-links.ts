// The coordinator's links to member peers, one per peer for a whole session: its control API
// through kept-alive link streams (coverage, warm-up, announcements), and, once a load needs it,
// a loopback endpoint for `llama-server --rpc`. Nothing is opened until something is asked of a
// peer, and re-planning opens nothing: the same links serve every plan of the session.
import { startLocalEndpoint, type LocalEndpoint, type LocalEndpointStats } from '../peers/link/link-client.js';
import { LinkAgent } from '../peers/link/link-agent.js';
import { BEAT_SERVICE } from '../peers/link/link-beat.js';
import type { LinkDialer } from '../peers/link/member-dialer.js';
import { WorkerClient } from '../worker-api/worker-client.js';
import type { Member } from './members.js';

/** One member as runs use it. */
export interface PeerLink {
  id: string;
  name: string;
  /** Its worker's control API, through the link. */
  worker: WorkerClient;
  /** Its RPC server's local endpoint (`host:port` for `--rpc`), opened on first use. */
  rpcEndpoint(): Promise<string>;
  /** Bytes through the RPC endpoint so far (zeros before it is opened). */
  rpcStats(): LocalEndpointStats;
}

/** Link streams opened so far, by kind: what tests count to prove re-planning opens nothing. */
export interface LinkCounts {
  control: number;
  rpc: number;
}

interface Entry {
  link: PeerLink;
  address: string;
  close(): Promise<void>;
}

const NO_TRAFFIC: LocalEndpointStats = { connections: 0, active: 0, failures: 0, bytesUp: 0, bytesDown: 0, failure: null, cut: 0 };

/** The session's links, by peer id. */
export class PeerLinks {
  readonly #dial: LinkDialer;
  readonly #entries = new Map<string, Entry>();
  readonly #retired: Entry[] = [];
  readonly #counts: LinkCounts = { control: 0, rpc: 0 };

  constructor(dial: LinkDialer) {
    this.#dial = dial;
  }

  /** The link to `member`: the session's, or a new one when the member is new or has moved. */
  of(member: Member): PeerLink {
    const address = `${member.address.host}:${member.address.port}`;
    const known = this.#entries.get(member.id);
    if (known?.address === address) return known.link;
    // Moved (another address): new streams go there; a load still using the old endpoint keeps it until the session ends.
    if (known) this.#retired.push(known);
    const entry = this.#open(member, address);
    this.#entries.set(member.id, entry);
    return entry.link;
  }

  /** Streams opened so far. */
  counts(): LinkCounts {
    return { ...this.#counts };
  }

  /** Close every link (the session is over). */
  async close(): Promise<void> {
    const entries = [...this.#entries.values(), ...this.#retired.splice(0)];
    this.#entries.clear();
    await Promise.all(entries.map((entry) => entry.close()));
  }

  #open(member: Member, address: string): Entry {
    // Requests under way fail at once when the peer stops answering its heartbeat, not after HTTP's idle limit.
    const agent = new LinkAgent(() => {
      this.#counts.control++;
      return this.#dial(member.address, 'control');
    }, { name: member.name, openBeat: () => this.#dial(member.address, BEAT_SERVICE) });
    let endpoint: Promise<LocalEndpoint> | null = null;
    const rpc = (): Promise<LocalEndpoint> => {
      endpoint ??= startLocalEndpoint({
        name: member.name,
        service: 'rpc',
        open: (service) => {
          if (service === 'rpc') this.#counts.rpc++;
          return this.#dial(member.address, service);
        },
      });
      // A failed start is tried again next time.
      endpoint.catch(() => (endpoint = null));
      return endpoint;
    };
    let stats: () => LocalEndpointStats = () => NO_TRAFFIC;
    const link: PeerLink = {
      id: member.id,
      name: member.name,
      worker: new WorkerClient({ name: member.name, baseUrl: 'http://127.0.0.1/', agent, unreachableHint: 'is its worker running, and is its link port reachable?' }),
      rpcEndpoint: async () => {
        const opened = await rpc();
        stats = () => opened.stats();
        return opened.endpoint;
      },
      rpcStats: () => stats(),
    };
    return {
      link,
      address,
      close: async () => {
        agent.destroy();
        await (await endpoint?.catch(() => null))?.close();
      },
    };
  }
}
