// The planner against the real thing: two real Hearth workers on loopback, a real llama-server
// cold-loading a synthetic model with the plan's arguments, and the entries each worker's
// cache wrote compared with the planner's prediction for that worker, tensor for tensor.
// This llama-server has no local GPU, so every offloaded layer goes to the two RPC devices.
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fnv1a64 } from '../../../src-main/core/cache/checksums.js';
import { isEntryName } from '../../../src-main/core/cache/entry-files.js';
import { RPC_HASH_THRESHOLD } from '../../../src-main/core/gguf/inspect-model.js';
import { writeSyntheticLlama } from '../../helpers/synthetic/llama-model.js';
import { ensureTools, type LlamaTools } from '../../../src-main/core/native/tools.js';
import { clusterDevices, type PlanPeer } from '../../../src-main/core/planner/cluster-devices.js';
import { readPlanModel } from '../../../src-main/core/planner/model-shape.js';
import { llamaServerArgs, planSplit } from '../../../src-main/core/planner/plan-split.js';
import type { DevicePlan, PlanModel, PlanOptions } from '../../../src-main/core/planner/plan-types.js';
import type { RunningWorker } from '../../../src-main/core/worker/run-worker.js';
import { eventually } from '../../helpers/expected-cache.js';
import { localCompletion, startLlamaServer, type Completion } from '../../helpers/llama-server.js';
import { scratchDir } from '../../helpers/models.js';
import { startTestWorker } from '../../helpers/worker.js';

const PROMPT = 'The warm hearth of the cluster';
const TOKENS = 8;

let tools: LlamaTools;
let model: PlanModel;
let hashes: Map<string, string>;
let local: Completion;
const running: Array<RunningWorker & { cacheRoot: string }> = [];

// Three layers, so uneven shares have somewhere to go; every FFN matrix (512 × 10304 F16,
// 10.06 MiB), the token embedding and the output matrix (512 × 10368) are just over the 10 MiB
// cache threshold; attention matrices and norms are under it. About 120 MB.
const SPEC = { layers: 3, hidden: 512, ffn: 10304, heads: 8, kvHeads: 4, vocab: 10368, contextLength: 4096, type: 'F16', seed: 5, name: 'hearth-planner' } as const;

beforeAll(async () => {
  tools = await ensureTools();
  const file = path.join(scratchDir('hearth-planner-'), 'planner.gguf');
  await writeSyntheticLlama(file, SPEC);
  model = await readPlanModel(file);
  hashes = await tensorHashes(model);
  local = await localCompletion(tools, file, PROMPT, TOKENS);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((worker) => worker.stop()));
});

/** FNV-1a of every cacheable tensor, as llama.cpp's RPC client names its cache entries. */
async function tensorHashes(planModel: PlanModel): Promise<Map<string, string>> {
  const file = await open(planModel.facts.path, 'r');
  try {
    const names = new Map<string, string>();
    for (const tensor of planModel.facts.tensors.filter((candidate) => candidate.byteSize > RPC_HASH_THRESHOLD)) {
      const bytes = Buffer.alloc(tensor.byteSize);
      await file.read(bytes, 0, tensor.byteSize, tensor.fileOffset);
      names.set(new Fnv1a64().update(bytes).digestHex(), tensor.name);
    }
    return names;
  } finally {
    await file.close();
  }
}

/** Two fresh workers (empty caches) and the plan for them: worker 1 is --rpc's first endpoint. */
async function planOverTwoWorkers(options: PlanOptions) {
  const workers = [await startTestWorker(), await startTestWorker()];
  running.push(...workers);
  const peers: PlanPeer[] = workers.map((worker, index) => ({ id: `w${index + 1}`, name: `worker-${index + 1}`, devices: worker.service.status.devices }));
  const plan = planSplit(model, clusterDevices([], peers), options);
  return { workers, plan, args: llamaServerArgs(plan, (peerId) => workers[Number(peerId.slice(1)) - 1]!.service.status.endpoint) };
}

/** Cold-load with `args`, check the output, and return the tensors each worker's cache now holds, by name. */
async function coldLoad(workers: Array<RunningWorker & { cacheRoot: string }>, args: string[]): Promise<string[][]> {
  const loadsBefore = workers.map((worker) => worker.service.cache.summary().loads);
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model: model.facts.path, args });
  try {
    // A split load computes what the same model computes on one machine.
    expect(await server.complete(PROMPT, TOKENS)).toEqual(local);
  } finally {
    await server.stop();
  }
  // Each worker has counted the load (and written every entry) once the client has gone.
  await eventually(() => (workers.every((worker, index) => worker.service.cache.summary().loads > loadsBefore[index]!) ? true : undefined), 10_000, 'both workers to see the client go');
  return Promise.all(workers.map(async (worker) => {
    const entries = (await readdir(path.join(worker.cacheRoot, 'rpc'))).filter(isEntryName);
    return entries.map((hash) => hashes.get(hash) ?? `unknown entry ${hash}`).sort();
  }));
}

/** The tensors the plan says a device's cache will hold: those it receives that are over the threshold. */
function predictedEntries(device: DevicePlan): string[] {
  return device.tensors.filter((tensor) => tensor.byteSize > RPC_HASH_THRESHOLD).map((tensor) => tensor.name).sort();
}

const ffn = (layer: number) => [`blk.${layer}.ffn_down.weight`, `blk.${layer}.ffn_gate.weight`, `blk.${layer}.ffn_up.weight`];

describe('a planned split across two real workers', () => {
  it('shares 1:3: each worker caches exactly the tensors the plan gives it', async () => {
    const { workers, plan, args } = await planOverTwoWorkers({ shares: { 'w1/CPU': 1, 'w2/CPU': 3 }, contextLength: 512 });
    // 4 units (3 layers + output) at 0, 0.25, 0.5, 0.75 against points 0.25, 1: layer 1 sits on
    // the split point and goes to the second device (std::upper_bound).
    expect(plan.devices.map((device) => [device.layers, device.holdsOutput])).toEqual([[{ first: 0, last: 0 }, false], [{ first: 1, last: 2 }, true]]);
    expect(plan.rpcPeers).toEqual(['w1', 'w2']);
    expect(plan.fits).toBe(true);

    const cached = await coldLoad(workers, args);
    expect(cached).toEqual(plan.devices.map(predictedEntries));
    expect(cached).toEqual([ffn(0), [...ffn(1), ...ffn(2), 'output.weight'].sort()]);
  });

  it('shares 2.1:0.7: llama.cpp given the raw weights splits as the planner predicts in float32', async () => {
    const { workers, plan, args } = await planOverTwoWorkers({ shares: { 'w1/CPU': 2.1, 'w2/CPU': 0.7 }, contextLength: 512 });
    // In float32 the first split point, 2.1f / 2.8f, is 0.75 exactly, so the output layer (at 0.75)
    // goes to the second worker; double precision would keep everything on the first.
    expect(plan.tensorSplit).toEqual([3, 1]);
    const raw = args.map((arg, index) => (args[index - 1] === '--tensor-split' ? '2.1,0.7' : arg));
    expect(raw).toContain('2.1,0.7');

    const cached = await coldLoad(workers, raw);
    expect(cached).toEqual(plan.devices.map(predictedEntries));
    expect(cached).toEqual([[...ffn(0), ...ffn(1), ...ffn(2)].sort(), ['output.weight']]);
  });
});
