// While a model serves: noticing that it lost a peer or its engine. A peer is lost when its RPC
// connection closes (its worker died, or its link went silent and was closed: a stalled cable
// sends no FIN), or when the cluster no longer lists it; the engine when llama-server stops.
// Asked twice a second: a loss is seen within a second of the link noticing it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelSlot } from '../inference/model-slot.js';
import type { ClusterMembers } from './members.js';
import type { PeerLink } from './peer-links.js';

/** What ended a served load: the peers lost (by id, maybe none: a crash), and why, in words. */
export interface Loss {
  lost: string[];
  reason: string;
}

/** What to watch. */
export interface LossWatch {
  slot: ModelSlot;
  /** The links of the plan's RPC peers. */
  links: readonly PeerLink[];
  members: () => ClusterMembers;
  signal: AbortSignal;
  intervalMs?: number;
}

const WATCH_MS = 500;

/** Resolve with the first loss seen, or null once `signal` stops the watch. */
export async function watchForLoss(watch: LossWatch): Promise<Loss | null> {
  const cutBefore = new Map(watch.links.map((link) => [link.id, link.rpcStats().cut]));
  while (!watch.signal.aborted) {
    const loss = lossNow(watch, cutBefore);
    if (loss) return loss;
    await sleep(watch.intervalMs ?? WATCH_MS, undefined, { signal: watch.signal }).catch(() => undefined);
  }
  return null;
}

/** The loss as things stand (against each link's count of cut streams when the watch began), or null when all is well. */
export function lossNow({ slot, links, members }: Pick<LossWatch, 'slot' | 'links' | 'members'>, cutBefore: ReadonlyMap<string, number>): Loss | null {
  const listed = new Set(members().members.map((member) => member.id));
  const reasons: string[] = [];
  const lost: string[] = [];
  for (const link of links) {
    const stats = link.rpcStats();
    if (stats.cut > (cutBefore.get(link.id) ?? 0)) reasons.push(stats.failure?.replace(/\.$/, '') ?? `${link.name}'s link was cut`);
    else if (stats.active === 0) reasons.push(`${link.name}'s RPC connection closed (its worker stopped, or its link went silent)`);
    else if (!listed.has(link.id)) reasons.push(`${link.name} left the cluster (offline, or no longer paired)`);
    else continue;
    lost.push(link.id);
  }
  const status = slot.status;
  if (status.state === 'failed') reasons.push(`llama-server stopped: ${status.reason}`);
  return reasons.length > 0 ? { lost, reason: reasons.join('; ') } : null;
}
