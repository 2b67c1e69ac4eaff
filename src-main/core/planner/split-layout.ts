// The layout of one split: which layers and tensors each device gets, the `--tensor-split` and
// `-ngl` that make llama.cpp load exactly that, and what each device needs in memory.
import { HearthError } from '../base/errors.js';
import type { TensorFacts } from '../gguf/inspect-model.js';
import { computeAllowance, kvCacheBytes, kvCells } from './memory-estimate.js';
import { placeTensors } from './place-tensors.js';
import type { ResolvedOptions } from './plan-options.js';
import type { DevicePlan, HostPlan, LayerRange, MemoryNeed, PlanDevice, PlanModel, SplitPlan } from './plan-types.js';
import { assignLayers, effectiveGpuLayers, splitPoints, tensorSplitArgument, type LayerAssignment } from './split-points.js';

/** A split worked out in full, before any verdict or advice. */
export interface SplitLayout extends Pick<SplitPlan, 'devices' | 'host' | 'excluded' | 'rpcPeers' | 'tensorSplit' | 'gpuLayers' | 'fits'> {
  cells: number;
  /** Tensors the planner could not place. */
  unknown: TensorFacts[];
}

/**
 * Lay out `model` over `devices` as llama.cpp will: the user's shares (or free memory, for
 * "auto") go through llama.cpp's own split-point code; the resulting layer count per device is
 * what the plan passes as `--tensor-split`, which reproduces that assignment exactly however
 * free memory changes before the load.
 */
export function layoutSplit(model: PlanModel, devices: readonly PlanDevice[], options: ResolvedOptions): SplitLayout {
  const { shape, facts } = model;
  const blockCount = shape.blockCount;
  const listed = llamaDeviceOrder(devices, options.excluded);
  const excluded = devices.filter((device) => options.excluded.has(device.id));
  const weights = listed.map((device) => (options.excluded.has(device.id) ? 0 : options.shares ? options.shares.get(device.id)! : device.freeBytes));
  const free = listed.map((device) => device.freeBytes);
  const gpuLayers = listed.length === 0 ? 0 : Math.min(effectiveGpuLayers(options.gpuLayers, blockCount), blockCount + 1);
  if (gpuLayers > 0 && weights.every((weight) => weight === 0)) {
    throw new HearthError('plan-no-share', options.shares
      ? 'Every device taking part has a share of 0: give at least one device a share above 0.'
      : `No device taking part reports free memory (${listed.filter((device) => !options.excluded.has(device.id)).map((device) => `${device.id}: 0 B`).join(', ')}): check the workers, or give shares by hand.`);
  }

  const assignment = assignLayers(splitPoints(weights, free), blockCount, gpuLayers);
  const tensorSplit = listed.map((_, index) => units(assignment, index));
  checkReproduces(assignment, tensorSplit, free, blockCount, gpuLayers);

  const cells = kvCells(options.contextLength);
  const pipelined = isPipelined(listed.length, gpuLayers, blockCount);
  const placement = placeTensors(facts.tensors, shape.architecture, assignment, listed.length);
  const plans = listed.map((device, index): DevicePlan => {
    const layers = layerIndices(assignment, index);
    const holdsOutput = assignment.output === index;
    const memory = memoryNeed(model, placement.devices[index]!, layers, holdsOutput, { cells, pipelined, ...options });
    const shortBytes = Math.max(0, memory.total - device.freeBytes);
    return { device, index, tensorSplit: tensorSplit[index]!, layers: range(layers), holdsOutput, tensors: placement.devices[index]!, memory, fits: shortBytes === 0, shortBytes };
  });
  const hostLayers = layerIndices(assignment, 'cpu');
  const host: HostPlan = {
    layers: range(hostLayers),
    holdsOutput: assignment.output === 'cpu',
    tensors: placement.host,
    weightBytes: sum(placement.host.map((tensor) => tensor.byteSize)),
    kvCacheBytes: sum(hostLayers.map((layer) => kvCacheBytes(shape, layer, cells))),
  };
  const rpcPeers = [...new Set(listed.flatMap((device) => (device.peerId ? [device.peerId] : [])))];
  return { devices: plans, host, excluded, rpcPeers, tensorSplit, gpuLayers, cells, unknown: placement.unknown, fits: plans.every((plan) => plan.fits) };
}

/** What the memory of every device in a split depends on besides its own layers. */
interface MemoryContext {
  cells: number;
  microBatch: number;
  headroomBytes: number;
  pipelined: boolean;
}

/** Whether llama.cpp runs this split with pipeline parallelism: several devices, every layer and the output offloaded. */
export function isPipelined(deviceCount: number, gpuLayers: number, blockCount: number): boolean {
  return deviceCount > 1 && gpuLayers > blockCount;
}

/** What a device needs for these tensors and layers: weights, KV cache, compute allowance, headroom. */
export function memoryNeed(model: PlanModel, tensors: readonly TensorFacts[], layers: readonly number[], holdsOutput: boolean, context: MemoryContext): MemoryNeed {
  const used = layers.length > 0 || holdsOutput;
  const weights = sum(tensors.map((tensor) => tensor.byteSize));
  const kvCache = sum(layers.map((layer) => kvCacheBytes(model.shape, layer, context.cells)));
  const compute = computeAllowance(model.shape, { holdsLayers: layers.length > 0, holdsOutput, cells: context.cells, microBatch: context.microBatch, pipelined: context.pipelined });
  const headroom = used ? context.headroomBytes : 0;
  return { weights, kvCache, compute, headroom, total: weights + kvCache + compute + headroom };
}

/**
 * The devices llama.cpp will list, in its order: RPC devices grouped by server in `--rpc`
 * order, then local devices. A peer left out entirely is not passed to `--rpc` at all; a
 * device left out of a peer that stays keeps its place (its server still offers it) with a
 * share of 0.
 */
export function llamaDeviceOrder(devices: readonly PlanDevice[], excluded: ReadonlySet<string>): PlanDevice[] {
  const peers: string[] = [];
  for (const device of devices) {
    if (device.peerId && !excluded.has(device.id) && !peers.includes(device.peerId)) peers.push(device.peerId);
  }
  const remote = peers.flatMap((peer) => devices.filter((device) => device.peerId === peer));
  return [...remote, ...devices.filter((device) => device.peerId === null)];
}

// Layers and the output layer a device holds: the value it gets in `--tensor-split`.
function units(assignment: LayerAssignment, index: number): number {
  return layerIndices(assignment, index).length + (assignment.output === index ? 1 : 0);
}

function layerIndices(assignment: LayerAssignment, where: number | 'cpu'): number[] {
  return assignment.layers.flatMap((device, layer) => (device === where ? [layer] : []));
}

// llama.cpp gives each device one contiguous run of layers, so first..last is the whole set.
function range(layers: readonly number[]): LayerRange | null {
  return layers.length === 0 ? null : { first: layers[0]!, last: layers[layers.length - 1]! };
}

// The layer counts must bring llama.cpp back to the very same assignment; anything else is a planner bug.
function checkReproduces(assignment: LayerAssignment, tensorSplit: number[], free: number[], blockCount: number, gpuLayers: number): void {
  if (gpuLayers === 0) return;
  const again = assignLayers(splitPoints(tensorSplitArgument(tensorSplit).parsed, free), blockCount, gpuLayers);
  if (JSON.stringify(again) !== JSON.stringify(assignment)) {
    throw new Error(`planner bug: --tensor-split ${tensorSplit.join(',')} does not reproduce the planned assignment`);
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
