// What would fit when a plan does not: a shorter context, other shares, a peer that was left
// out, fewer offloaded layers, or how much more memory is needed.
import { formatBytes } from '../../shared/format-bytes.js';
import { KV_CELL_PADDING, kvCells } from './memory-estimate.js';
import { placeTensors } from './place-tensors.js';
import type { ResolvedOptions } from './plan-options.js';
import type { PlanDevice, PlanModel } from './plan-types.js';
import { isPipelined, layoutSplit, llamaDeviceOrder, memoryNeed, type SplitLayout } from './split-layout.js';
import { effectiveGpuLayers, type LayerAssignment } from './split-points.js';

/** Suggestions, best first, for a layout that does not fit; empty when it fits. */
export function adviseFit(model: PlanModel, devices: readonly PlanDevice[], options: ResolvedOptions, layout: SplitLayout): string[] {
  if (layout.fits) return [];
  const advice: string[] = [];
  const context = options.contextLength;
  const best = fittingShares(model, devices, options);

  // Automatic shares need some free memory to share out (llama.cpp would fall back to the host's).
  const canAuto = devices.some((device) => !options.excluded.has(device.id) && device.freeBytes > 0);
  if (options.shares && canAuto && layoutSplit(model, devices, { ...options, shares: null }).fits) {
    advice.push(`Automatic shares (in proportion to free memory) fit at context ${context}.`);
  } else if (best) {
    advice.push(`These shares fit at context ${context}: ${sharesText(best)}.`);
  }

  const shorter = largestFittingContext(model, devices, options);
  if (shorter !== null) advice.push(`Context ${shorter} fits with ${options.shares ? 'these shares' : 'automatic shares'}.`);
  if (!best) {
    const bestShorter = largestFittingContext(model, devices, options, true);
    if (bestShorter !== null && bestShorter !== shorter) advice.push(`Context ${bestShorter} fits with the best split of these devices.`);
  }

  for (const group of excludedGroups(devices, options.excluded)) {
    const excluded = new Set([...options.excluded].filter((id) => !group.ids.includes(id)));
    const shares = fittingShares(model, devices, { ...options, excluded });
    if (shares) advice.push(`Including ${group.label}, left out now, would fit: ${sharesText(shares)}.`);
  }

  if (!best) {
    const partial = largestFittingOffload(model, devices, options);
    const all = model.shape.blockCount + 1;
    if (partial) {
      advice.push(`Offloading ${partial.gpuLayers} of ${all} layers (the output layer counts as one) fits with -ngl ${partial.gpuLayers}; the first ${all - partial.gpuLayers} stay on this machine's CPU, which is slower.`);
    }
    // With one device the line per device below says the same.
    const taking = layout.devices.filter((plan) => !options.excluded.has(plan.device.id));
    const need = taking.reduce((total, plan) => total + plan.memory.total, 0);
    const free = taking.reduce((total, plan) => total + plan.device.freeBytes, 0);
    if (taking.length > 1 && need > free) advice.push(`In all, the devices taking part need ${formatBytes(need - free)} more free memory: free some on them, or add a peer.`);
  }
  for (const plan of layout.devices.filter((device) => !device.fits)) {
    advice.push(`Free ${formatBytes(plan.shortBytes)} more on ${deviceLabel(plan.device)} for this split.`);
  }
  return advice;
}

/**
 * Layers per device (llama.cpp order) for a split that fits, or null when none does: each
 * device in turn takes as many of the remaining layers as it can hold. llama.cpp hands out
 * contiguous runs in device order, and no split can place a run boundary later than this
 * greedy fill, so it finds a fitting split whenever one exists.
 */
function fittingShares(model: PlanModel, devices: readonly PlanDevice[], options: ResolvedOptions): Map<PlanDevice, number> | null {
  const listed = llamaDeviceOrder(devices, options.excluded);
  const blockCount = model.shape.blockCount;
  const total = listed.length === 0 ? 0 : Math.min(effectiveGpuLayers(options.gpuLayers, blockCount), blockCount + 1);
  if (total === 0) return null;
  const gpuStart = blockCount + 1 - total;
  const context = { cells: kvCells(options.contextLength), pipelined: isPipelined(listed.length, total, blockCount), ...options };
  const fitsOn = (device: PlanDevice, from: number, to: number) => {
    // Units from..to-1 of the offloaded ones, on one device: layer gpuStart + u, the last unit being the output layer.
    const inRun = (il: number) => il - gpuStart >= from && il - gpuStart < to;
    const assignment: LayerAssignment = { layers: Array.from({ length: blockCount }, (_, il) => (inRun(il) ? 0 : 'cpu')), output: inRun(blockCount) ? 0 : 'cpu' };
    const tensors = placeTensors(model.facts.tensors, model.shape.architecture, assignment, 1).devices[0]!;
    const layers = assignment.layers.flatMap((where, il) => (where === 0 ? [il] : []));
    return memoryNeed(model, tensors, layers, assignment.output === 0, context).total <= device.freeBytes;
  };
  const shares = new Map<PlanDevice, number>();
  let next = 0;
  for (const device of listed) {
    let end = next;
    if (!options.excluded.has(device.id)) while (end < total && fitsOn(device, next, end + 1)) end++;
    shares.set(device, end - next);
    next = end;
  }
  return next === total ? shares : null;
}

/** The largest context (a multiple of 256, below the asked one) that fits with these shares, or with the best split; null if none does. */
function largestFittingContext(model: PlanModel, devices: readonly PlanDevice[], options: ResolvedOptions, bestSplit = false): number | null {
  const fits = (contextLength: number) => {
    const resized = { ...options, contextLength };
    return bestSplit ? fittingShares(model, devices, resized) !== null : layoutSplit(model, devices, resized).fits;
  };
  // Memory grows with the context, so a binary search over multiples of 256 finds the edge.
  let high = Math.ceil(options.contextLength / KV_CELL_PADDING) - 1;
  if (high < 1 || !fits(KV_CELL_PADDING)) return null;
  let low = 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle * KV_CELL_PADDING)) low = middle;
    else high = middle - 1;
  }
  return low * KV_CELL_PADDING;
}

/** The most layers (`-ngl`) the devices can hold at this context with the best split, or null if not even one. */
function largestFittingOffload(model: PlanModel, devices: readonly PlanDevice[], options: ResolvedOptions): { gpuLayers: number; shares: Map<PlanDevice, number> } | null {
  for (let gpuLayers = model.shape.blockCount; gpuLayers >= 1; gpuLayers--) {
    const shares = fittingShares(model, devices, { ...options, gpuLayers });
    if (shares) return { gpuLayers, shares };
  }
  return null;
}

/** "box-b CPU" or "CUDA0 on this machine", for messages. */
export function deviceLabel(device: PlanDevice): string {
  return device.peerId === null ? `${device.name} on ${device.machine}` : `${device.machine} ${device.name}`;
}

function sharesText(shares: Map<PlanDevice, number>): string {
  return [...shares].map(([device, layers]) => `${device.id}=${layers}`).join(', ');
}

// Left-out peers as one suggestion each; left-out local devices one by one.
function excludedGroups(devices: readonly PlanDevice[], excluded: ReadonlySet<string>): Array<{ label: string; ids: string[] }> {
  const groups = new Map<string, { label: string; ids: string[] }>();
  for (const device of devices.filter((candidate) => excluded.has(candidate.id))) {
    const key = device.peerId ?? device.id;
    const group = groups.get(key) ?? { label: device.peerId === null ? deviceLabel(device) : `peer ${device.machine}`, ids: [] };
    group.ids.push(device.id);
    groups.set(key, group);
  }
  return [...groups.values()];
}
