// The Split screen's edits as new plan choices: pure, so the rules are easy to follow. The planner
// wants a share for every device that takes part once any is given (plan-options.ts), so every
// edit sends a complete set.
import type { PlanChoices, PlanView } from '../../../../src-main/core/api/contract.js';

/** A device the plan knows, taking part or left out. */
export interface KnownDevice {
  id: string;
  peerId: string | null;
}

/** Every device of the plan, with those of peers left out as a whole (listed only in `excluded`). */
export function knownDevices(plan: PlanView): KnownDevice[] {
  const devices: KnownDevice[] = plan.devices.map((device) => ({ id: device.id, peerId: device.peerId }));
  for (const left of plan.excluded) {
    if (!devices.some((device) => device.id === left.id)) devices.push({ id: left.id, peerId: peerOf(left.id) });
  }
  return devices;
}

/** The peer of a device id (`<peer id>/<ggml name>`), or null for `local/…`. */
export function peerOf(deviceId: string): string | null {
  const slash = deviceId.indexOf('/');
  const prefix = slash < 0 ? deviceId : deviceId.slice(0, slash);
  return prefix === 'local' ? null : prefix;
}

/** Whether the choices leave this device out, by itself or with its peer. */
export function isLeftOut(choices: PlanChoices, device: KnownDevice): boolean {
  return choices.exclude.includes(device.id) || (device.peerId !== null && choices.exclude.includes(device.peerId));
}

/**
 * Each taking-part device's share in percent: the user's weights, normalised, while they are
 * given; else what the plan made of them (`planned`, 0..1 per device id).
 */
export function sharePercents(choices: PlanChoices, devices: readonly KnownDevice[], planned: ReadonlyMap<string, number>): Map<string, number> {
  const taking = devices.filter((device) => !isLeftOut(choices, device));
  const weights = taking.map((device) => choices.shares[device.id]);
  const given = weights.every((weight) => weight !== undefined) && Object.keys(choices.shares).length > 0;
  const total = given ? weights.reduce<number>((sum, weight) => sum + (weight ?? 0), 0) : 0;
  return new Map(taking.map((device, index) => [device.id, given ? (total > 0 ? ((weights[index] ?? 0) / total) * 100 : 0) : (planned.get(device.id) ?? 0) * 100]));
}

/** `id` at `percent`, the other taking-part devices scaled to fill the rest as they stood. */
export function withShare(choices: PlanChoices, devices: readonly KnownDevice[], planned: ReadonlyMap<string, number>, id: string, percent: number): PlanChoices {
  const target = Math.min(100, Math.max(0, percent));
  const current = sharePercents(choices, devices, planned);
  const others = [...current].filter(([other]) => other !== id);
  const othersTotal = others.reduce((sum, [, share]) => sum + share, 0);
  const shares: Record<string, number> = { ...choices.shares, [id]: others.length === 0 ? 100 : round(target) };
  for (const [other, share] of others) {
    // Devices that had nothing share the rest evenly rather than all landing on zero.
    shares[other] = round(othersTotal > 0 ? ((100 - target) * share) / othersTotal : (100 - target) / others.length);
  }
  return { ...choices, shares };
}

/** Take part with `id` (a device or a peer id) or leave it out; manual shares gain one for each device that joins. */
export function withUse(choices: PlanChoices, devices: readonly KnownDevice[], id: string, use: boolean): PlanChoices {
  const exclude = use ? choices.exclude.filter((other) => other !== id) : [...new Set([...choices.exclude, id])];
  const next: PlanChoices = { ...choices, exclude };
  if (Object.keys(choices.shares).length === 0) return next;
  const taking = devices.filter((device) => !isLeftOut(next, device));
  const present = taking.map((device) => choices.shares[device.id]).filter((share): share is number => share !== undefined);
  const fill = present.length > 0 ? round(present.reduce((sum, share) => sum + share, 0) / present.length) : 1;
  const shares = { ...choices.shares };
  for (const device of taking) shares[device.id] ??= fill || 1;
  return { ...next, shares };
}

/** The same choices with another context length (null: Hearth's default). */
export function withContext(choices: PlanChoices, contextLength: number | null): PlanChoices {
  return { ...choices, contextLength };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
