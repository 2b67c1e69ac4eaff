// The planner's front door: a model and the cluster's devices in, the exact split, the
// llama-server arguments for it and a fit verdict out.
import { HearthError } from '../base/errors.js';
import { formatBytes } from '../../shared/format-bytes.js';
import { adviseFit, deviceLabel } from './fit-advice.js';
import { resolveOptions } from './plan-options.js';
import type { DevicePlan, PlanDevice, PlanModel, PlanOptions, SplitPlan } from './plan-types.js';
import { layoutSplit, type SplitLayout } from './split-layout.js';
import { LLAMA_MAX_DEVICES, tensorSplitArgument } from './split-points.js';

/**
 * Plan how llama.cpp will split `model` across `devices` (from `clusterDevices`): each
 * device's layers and tensors, its memory need and whether it fits, and the arguments that
 * make llama-server load exactly this. A plan that does not fit says why and what would.
 */
export function planSplit(model: PlanModel, devices: readonly PlanDevice[], options: PlanOptions = {}): SplitPlan {
  const resolved = resolveOptions(model.shape, devices, options);
  const layout = layoutSplit(model, devices, resolved);
  const split = tensorSplitArgument(layout.tensorSplit);
  if (layout.gpuLayers > 0 && split.parsed.length >= LLAMA_MAX_DEVICES) {
    throw new HearthError('plan-too-many-devices', `llama.cpp takes a --tensor-split for at most ${LLAMA_MAX_DEVICES - 1} devices, and this plan has ${layout.devices.length}: leave some peers out.`);
  }
  const args = [
    // While peers compute, this machine's CPU threads would spin waiting for them (llama.cpp's
    // default --poll 50): a core burnt per thread for nothing, and on a machine that is also a
    // worker, taken from the worker. Measured on the 2-core lab: the load's warm-up run took
    // 0.34 s spinning, 0.17 s without (the local load's own is 0.16 s).
    ...(layout.rpcPeers.length > 0 ? ['--poll', '0'] : []),
    ...(layout.gpuLayers > 0 ? ['--tensor-split', split.text] : []),
    '--n-gpu-layers', String(layout.gpuLayers),
    '--ctx-size', String(resolved.contextLength),
    ...(options.microBatch === undefined ? [] : ['--ubatch-size', String(resolved.microBatch)]),
    // Otherwise llama-server may change unset parameters to fit its own estimate of free memory.
    '--fit', 'off',
  ];
  return {
    model: { path: model.facts.path, name: model.facts.name, architecture: model.shape.architecture, blockCount: model.shape.blockCount },
    contextLength: resolved.contextLength,
    kvCells: layout.cells,
    devices: layout.devices,
    host: layout.host,
    excluded: layout.excluded,
    rpcPeers: layout.rpcPeers,
    tensorSplit: layout.tensorSplit,
    gpuLayers: layout.gpuLayers,
    args,
    fits: layout.fits,
    verdict: verdict(model, resolved.contextLength, layout),
    advice: adviseFit(model, devices, resolved, layout),
    warnings: layout.unknown.map((tensor) => `Hearth cannot tell where llama.cpp puts tensor ${tensor.name} of this ${model.shape.architecture} model; warm-up will not push it ahead of the load.`),
  };
}

/** The llama-server arguments for `plan`, with `--rpc` at the endpoint this load reaches each of its peers at (the local end of its link). */
export function llamaServerArgs(plan: SplitPlan, endpointOf: (peerId: string) => string): string[] {
  return plan.rpcPeers.length > 0 ? ['--rpc', plan.rpcPeers.map(endpointOf).join(','), ...plan.args] : [...plan.args];
}

/** Throw the plan's refusal (what is short where, and what would fit) unless it fits. */
export function assertPlanFits(plan: SplitPlan): void {
  if (plan.fits) return;
  const advice = plan.advice.length > 0 ? ` What would fit: ${plan.advice.join(' ')}` : '';
  throw new HearthError('plan-does-not-fit', `${plan.verdict}${advice}`);
}

function verdict(model: PlanModel, contextLength: number, layout: SplitLayout): string {
  const name = model.facts.name ?? model.facts.path;
  if (layout.devices.length === 0) return `${name} runs on this machine's CPU alone: no GPU or peer takes part (context ${contextLength}).`;
  const used = layout.devices.filter((plan) => plan.layers || plan.holdsOutput);
  if (used.length === 0) return `${name} runs on this machine's CPU alone: no layer is offloaded (context ${contextLength}).`;
  if (layout.fits) {
    const onHost = layout.host.layers ? `, layers ${rangeText(layout.host.layers)} on this machine's CPU` : '';
    return `${name} fits at context ${contextLength}: ${used.map(placeText).join('; ')}${onHost}.`;
  }
  const short = layout.devices.filter((plan) => !plan.fits);
  return `${name} does not fit at context ${contextLength}: ${short.map(shortText).join('; ')}.`;
}

function placeText(plan: DevicePlan): string {
  const what = [plan.layers ? `layers ${rangeText(plan.layers)}` : null, plan.holdsOutput ? 'the output layer' : null].filter(Boolean).join(' and ');
  return `${deviceLabel(plan.device)} takes ${what} (${formatBytes(plan.memory.total)} of ${formatBytes(plan.device.freeBytes)} free)`;
}

function shortText(plan: DevicePlan): string {
  const { weights, kvCache, compute, headroom } = plan.memory;
  const parts = `weights ${formatBytes(weights)}, KV cache ${formatBytes(kvCache)}, compute ${formatBytes(compute)}, headroom ${formatBytes(headroom)}`;
  return `${deviceLabel(plan.device)} needs ${formatBytes(plan.memory.total)} (${parts}) but has ${formatBytes(plan.device.freeBytes)} free, ${formatBytes(plan.shortBytes)} short`;
}

function rangeText(range: { first: number; last: number }): string {
  return range.first === range.last ? String(range.first) : `${range.first}-${range.last}`;
}
