// The workers behind llama-server's `--rpc`, as a load needs them to tell progress from a hang
// and, when it fails, to say which machine failed and show that worker's own last lines.
import type { WorkerClient } from '../worker-api/worker-client.js';

/** One RPC server of a load: who, where llama-server reaches it, and its link's figures. */
export interface RpcPeer {
  name: string;
  /** The `--rpc` endpoint: this machine's end of the secure link. */
  endpoint: string;
  /** Bytes through its link and the last reason a stream to it was refused or cut. */
  rpcStats(): { bytesUp: number; bytesDown: number; failures: number; failure: string | null };
  /** Its worker's control API (through the link), where its log is read. */
  worker?: WorkerClient;
}

/** How long a worker may take to hand over its log when a load fails: the failure is not held up longer. */
const LOG_READ_TIMEOUT_MS = 3_000;
/** Lines of each worker's log shown with a failure. */
const PEER_LINES = 12;

/** Bytes moved through every peer's link so far: while they grow, a load that prints nothing still progresses. */
export function rpcBytes(peers: readonly RpcPeer[]): number {
  return peers.reduce((sum, peer) => {
    const stats = peer.rpcStats();
    return sum + stats.bytesUp + stats.bytesDown;
  }, 0);
}

/** Each peer's failure count now, to tell this load's failures from older ones. */
export function failureCounts(peers: readonly RpcPeer[]): number[] {
  return peers.map((peer) => peer.rpcStats().failures);
}

/**
 * The peers a failure involves: those whose link failed since `countsAtStart`, and those whose
 * endpoint llama-server's last lines name (patch 0009 names the server it lost); every peer
 * when neither says (a load that stalled involves them all).
 */
export function involvedPeers(peers: readonly RpcPeer[], countsAtStart: readonly number[], logTail: readonly string[]): RpcPeer[] {
  const involved = peers.filter((peer, i) => peer.rpcStats().failures > (countsAtStart[i] ?? 0) || logTail.some((line) => namesEndpoint(line, peer.endpoint)));
  return involved.length > 0 ? involved : [...peers];
}

/** What is known of the involved peers, as sentences naming them ('' when nothing is): their links' word, or that llama-server lost them. */
export function describePeers(peers: readonly RpcPeer[], countsAtStart: readonly number[], logTail: readonly string[]): string {
  return involvedPeers(peers, countsAtStart, logTail)
    .map((peer) => {
      const stats = peer.rpcStats();
      if (stats.failures > (countsAtStart[peers.indexOf(peer)] ?? 0) && stats.failure) return stats.failure.replace(/\.$/, '');
      return logTail.some((line) => namesEndpoint(line, peer.endpoint)) ? `the RPC server it lost, ${peer.endpoint}, is ${peer.name}'s worker` : '';
    })
    .filter((sentence) => sentence !== '')
    .join('; ');
}

/** The last lines of each involved peer's worker, each group headed by its name; a worker that cannot be asked says so in its heading. */
export async function peerLogLines(involved: readonly RpcPeer[]): Promise<string[]> {
  const groups = await Promise.all(involved.map(async (peer) => {
    if (!peer.worker) return [];
    try {
      const tail = (await peer.worker.call('workerLog', {}, { timeoutMs: LOG_READ_TIMEOUT_MS })).lines.slice(-PEER_LINES);
      return [`(${peer.name}'s worker, ggml-rpc-server, last lines${tail.length === 0 ? ': none' : ''})`, ...tail];
    } catch (error) {
      return [`(${peer.name}'s worker log could not be read: ${(error as Error).message})`];
    }
  }));
  return groups.flat();
}

function namesEndpoint(line: string, endpoint: string): boolean {
  const at = line.indexOf(endpoint);
  return at !== -1 && !/\d/.test(line.charAt(at + endpoint.length));
}
