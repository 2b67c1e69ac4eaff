// Where a model goes when it lost a peer: planned again over the members that still answer, and
// over this machine alone, with the same choices (shares that named a lost device go back to
// auto). Of the plans that fit, the one that sends the fewest bytes the caches do not hold wins:
// the remaining members' when their caches hold its parts already (keep-warm puts them there),
// else this machine alone, which reads its own file; on a tie, the one with more devices.
import os from 'node:os';
import { HearthError } from '../base/errors.js';
import type { PlanOptions } from '../planner/plan-types.js';
import type { Member } from './members.js';
import type { Planned } from './planned.js';

/** What planning a heal needs from the coordinator. */
export interface HealContext {
  /** The members now. */
  members(): Member[];
  /** Whether a member's worker answers now (a peer whose link just broke is still listed for a few seconds). */
  answers(member: Member): Promise<boolean>;
  /** Plan over these members only. */
  plan(previous: Planned, options: PlanOptions, among: string[]): Promise<Planned>;
  /** Bytes of the plan's shares that the members' caches lack (Infinity when a member cannot say). */
  uncachedBytes(planned: Planned): Promise<number>;
}

/** The plan to heal `previous` with, now that the peers in `lost` are gone; a HearthError says why none fits. */
export async function healPlan(context: HealContext, previous: Planned, lost: ReadonlySet<string>): Promise<Planned> {
  const candidates = context.members().filter((member) => !lost.has(member.id));
  const alive = (await Promise.all(candidates.map(async (member) => ((await context.answers(member).catch(() => false)) ? member.id : null)))).filter((id): id is string => id !== null);
  const options = withoutLostShares(previous.options, lost, previous);
  const plans = [
    ...(alive.length > 0 ? [await context.plan(previous, options, alive)] : []),
    await context.plan(previous, { ...options, shares: undefined, exclude: undefined }, []),
  ].filter((planned) => planned.plan.fits && fitsHostMemory(planned));
  if (plans.length === 0) {
    throw new HearthError('heal-impossible', `${previous.plan.model.name ?? previous.plan.model.path} does not fit on what is left of the cluster${alive.length > 0 ? '' : ' (no other member answers)'} nor on this machine alone: bring the lost peer back, then load it again.`);
  }
  let best: { planned: Planned; cost: number } | null = null;
  for (const planned of plans) {
    const cost = planned.plan.rpcPeers.length > 0 ? await context.uncachedBytes(planned) : 0;
    if (!best || cost < best.cost || (cost === best.cost && planned.plan.devices.length > best.planned.plan.devices.length)) best = { planned, cost };
  }
  return best!.planned;
}

/** The choices without shares for devices of lost peers (the planner needs a share for every device that takes part, so they go back to auto). */
function withoutLostShares(options: PlanOptions, lost: ReadonlySet<string>, previous: Planned): PlanOptions {
  if (!options.shares) return options;
  const lostDevices = previous.plan.devices.filter((device) => device.device.peerId !== null && lost.has(device.device.peerId)).map((device) => device.device.id);
  return lostDevices.some((id) => id in options.shares!) ? { ...options, shares: undefined } : options;
}

/** What stays on this machine's CPU (weights and KV cache) fits its memory, with room for the rest of the system. */
function fitsHostMemory(planned: Planned): boolean {
  return planned.plan.host.weightBytes + planned.plan.host.kvCacheBytes <= os.totalmem() * 0.8;
}
