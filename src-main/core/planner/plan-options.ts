// The user's choices for a plan, checked against the model and the devices, with defaults filled in.
import { HearthError } from '../base/errors.js';
import { DEFAULT_HEADROOM_BYTES, DEFAULT_MICRO_BATCH } from './memory-estimate.js';
import type { ModelShape, PlanDevice, PlanOptions } from './plan-types.js';

/** Context length when the user gives none: the model's own, but no more than this (llama.cpp's `--fit` floor). */
export const DEFAULT_CONTEXT_LENGTH = 4096;

/** Options with every default applied and every id checked. */
export interface ResolvedOptions {
  contextLength: number;
  /** Weight per device id, or null for "auto" (free memory). */
  shares: ReadonlyMap<string, number> | null;
  /** Ids of the devices left out (a peer left out leaves out all its devices). */
  excluded: ReadonlySet<string>;
  /** `-ngl` as asked: negative means all. */
  gpuLayers: number;
  microBatch: number;
  headroomBytes: number;
}

/** Check `options` against the devices and fill in defaults; a bad choice is a HearthError that says which. */
export function resolveOptions(shape: ModelShape, devices: readonly PlanDevice[], options: PlanOptions = {}): ResolvedOptions {
  const fail = (message: string) => new HearthError('bad-plan-options', message);
  const seen = new Set<string>();
  for (const device of devices) {
    if (seen.has(device.id)) throw fail(`Device ${device.id} is listed twice: each device of each peer may appear once.`);
    seen.add(device.id);
  }
  const known = (id: string) => devices.some((device) => device.id === id || device.peerId === id);
  const names = devices.map((device) => device.id).join(', ') || 'none';

  const contextLength = options.contextLength ?? Math.min(shape.trainedContext ?? DEFAULT_CONTEXT_LENGTH, DEFAULT_CONTEXT_LENGTH);
  if (!Number.isInteger(contextLength) || contextLength < 1) throw fail(`A context length is a whole number of tokens above 0 (got ${contextLength}).`);

  for (const id of options.exclude ?? []) {
    if (!known(id)) throw fail(`Cannot leave out "${id}": it is neither a device nor a peer of this plan (devices: ${names}).`);
  }
  const excluded = new Set(devices.filter((device) => options.exclude?.some((id) => id === device.id || id === device.peerId)).map((device) => device.id));

  let shares: Map<string, number> | null = null;
  if (options.shares) {
    shares = new Map();
    for (const [id, weight] of Object.entries(options.shares)) {
      if (!devices.some((device) => device.id === id)) throw fail(`A share is given for "${id}", which is not a device of this plan (devices: ${names}).`);
      if (!Number.isFinite(weight) || weight < 0) throw fail(`The share of ${id} must be a number of 0 or more (got ${weight}).`);
      shares.set(id, weight);
    }
    const missing = devices.filter((device) => !excluded.has(device.id) && !shares!.has(device.id)).map((device) => device.id);
    if (missing.length > 0) throw fail(`Give a share to every device that takes part, or none for "auto": ${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} none.`);
  }

  const gpuLayers = options.gpuLayers ?? -1;
  if (!Number.isInteger(gpuLayers)) throw fail(`The number of layers to offload must be a whole number (got ${gpuLayers}).`);
  const microBatch = options.microBatch ?? DEFAULT_MICRO_BATCH;
  if (!Number.isInteger(microBatch) || microBatch < 1) throw fail(`The micro-batch must be a whole number of tokens above 0 (got ${microBatch}).`);
  const headroomBytes = options.headroomBytes ?? DEFAULT_HEADROOM_BYTES;
  if (!Number.isFinite(headroomBytes) || headroomBytes < 0) throw fail(`The headroom must be 0 bytes or more (got ${headroomBytes}).`);
  return { contextLength, shares, excluded, gpuLayers, microBatch, headroomBytes };
}
