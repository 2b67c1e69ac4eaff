// The planner on hand-worked cases: which device gets which layers and tensors, what each
// needs in memory, and the llama-server arguments that reproduce the split.
import { describe, expect, it } from 'vitest';
import { clusterDevices, type PlanPeer } from '../../../src-main/core/planner/cluster-devices.js';
import { llamaServerArgs, planSplit } from '../../../src-main/core/planner/plan-split.js';
import { fakeLlama, GiB, localDevice, MiB, rpcDevice } from './llama-facts.js';

// 2 layers; per layer: q, o 2 MiB; k, v 0.5 MiB; gate, up, down 8 MiB; two 4 KiB norms.
// token_embd and output 62.5 MiB each (1024 × 32000 × 2 bytes).
const small = fakeLlama({ layers: 2, hidden: 1024, ffn: 4096, heads: 8, kvHeads: 2, vocab: 32000 });
const LAYER_BYTES = 29 * MiB + 8 * 1024;
const EMBEDDING_BYTES = 62.5 * MiB;
const names = (tensors: { name: string }[]) => tensors.map((tensor) => tensor.name);
const layerNames = (layer: number) => names(small.facts.tensors.filter((tensor) => tensor.name.startsWith(`blk.${layer}.`)));

describe('a split over two RPC devices', () => {
  const plan = planSplit(small, [rpcDevice('a', 8 * GiB), rpcDevice('b', 8 * GiB)], { shares: { 'a/CUDA0': 1, 'b/CUDA0': 1 }, contextLength: 4096 });

  it('mirrors llama.cpp: -ts 1,1 over 2 layers + output puts both layers on the first device', () => {
    expect(plan.devices.map((device) => [device.device.id, device.layers, device.holdsOutput])).toEqual([
      ['a/CUDA0', { first: 0, last: 1 }, false],
      ['b/CUDA0', null, true],
    ]);
    expect(plan.tensorSplit).toEqual([2, 1]);
    expect(plan.gpuLayers).toBe(3);
    expect(plan.rpcPeers).toEqual(['a', 'b']);
    expect(plan.args).toEqual(['--poll', '0', '--tensor-split', '2,1', '--n-gpu-layers', '3', '--ctx-size', '4096', '--fit', 'off']);
    // The endpoints are the load's: the plan names peers, the load puts their link's local ends in --rpc.
    expect(llamaServerArgs(plan, (peer) => `127.0.0.1:${peer === 'a' ? 6001 : 6002}`)).toEqual(['--rpc', '127.0.0.1:6001,127.0.0.1:6002', ...plan.args]);
  });

  it('lists each device\'s exact tensors; the token embedding stays on the host, the output goes with the last device', () => {
    expect(names(plan.devices[0]!.tensors)).toEqual([...layerNames(0), ...layerNames(1)]);
    expect(names(plan.devices[1]!.tensors)).toEqual(['output_norm.weight', 'output.weight']);
    expect(names(plan.host.tensors)).toEqual(['token_embd.weight']);
    expect(plan.host).toMatchObject({ layers: null, holdsOutput: false, weightBytes: EMBEDDING_BYTES, kvCacheBytes: 0 });
  });

  it('adds up weights, the F16 KV cache of its layers, compute and headroom per device', () => {
    // KV per layer: 4096 cells × (2 kv heads × 128 × 2 (K and V)) × 2 bytes = 4 MiB.
    // Compute, 512 tokens, pipelined (4 mask copies): layer peak 4 × (3·1024 + 2560 + 3·4096) = 71680 B,
    // mask 2 × 4096 × 4 = 32768 B → 512 × 104448 B + 2 MiB; output peak 4 × (32000 + 2048) = 136192 B.
    expect(plan.devices[0]!.memory).toEqual({ weights: 2 * LAYER_BYTES, kvCache: 8 * MiB, compute: 512 * 104448 + 2 * MiB, headroom: 256 * MiB, total: 2 * LAYER_BYTES + 8 * MiB + 512 * 104448 + 2 * MiB + 256 * MiB });
    expect(plan.devices[1]!.memory).toEqual({ weights: EMBEDDING_BYTES + 4096, kvCache: 0, compute: 512 * 136192 + 2 * MiB, headroom: 256 * MiB, total: EMBEDDING_BYTES + 4096 + 512 * 136192 + 2 * MiB + 256 * MiB });
    expect(plan.fits).toBe(true);
    expect(plan.verdict).toBe('fake-llama fits at context 4096: a CUDA0 takes layers 0-1 (375.02 MiB of 8.00 GiB free); b CUDA0 takes the output layer (387.00 MiB of 8.00 GiB free).');
  });

  it('rounds the KV cache up to 256 cells, as llama.cpp pads the context', () => {
    const odd = planSplit(small, [rpcDevice('a', 8 * GiB)], { contextLength: 1000 });
    expect(odd.kvCells).toBe(1024);
    // 2 layers × 1024 cells × 512 values (K and V) × 2 bytes.
    expect(odd.devices[0]!.memory.kvCache).toBe(2 * 1024 * 512 * 2);
  });
});

describe('device order and stable ids', () => {
  const peer = (id: string, name: string, devices: string[]): PlanPeer => ({ id, name, devices: devices.map((device) => ({ name: device, description: 'GPU', totalBytes: 16 * GiB, freeBytes: 12 * GiB })) });

  it('puts every RPC device first, in --rpc order, then this machine\'s GPUs; never this machine\'s CPU', () => {
    const peers = [peer('p2', 'box-b', ['CUDA0', 'CUDA1']), peer('p1', 'box-a', ['Vulkan0'])];
    const devices = clusterDevices([{ name: 'CPU', description: 'EPYC', totalBytes: GiB, freeBytes: GiB, backend: 'CPU' }, { name: 'CUDA0', description: 'RTX', totalBytes: 24 * GiB, freeBytes: 20 * GiB, backend: 'CUDA' }], peers);
    expect(devices.map((device) => [device.id, device.peerId])).toEqual([
      ['p2/CUDA0', 'p2'],
      ['p2/CUDA1', 'p2'],
      ['p1/Vulkan0', 'p1'],
      ['local/CUDA0', null],
    ]);
    const plan = planSplit(small, devices);
    expect(plan.rpcPeers).toEqual(['p2', 'p1']);
    expect(plan.devices.map((device) => device.index)).toEqual([0, 1, 2, 3]);
  });

  it('uses one GPU seen by two backends once, as llama.cpp does by device id', () => {
    const gpu = { description: 'RTX', totalBytes: 24 * GiB, freeBytes: 20 * GiB, deviceId: '0000:01:00.0' };
    const devices = clusterDevices([{ name: 'CUDA0', backend: 'CUDA', ...gpu }, { name: 'Vulkan0', backend: 'Vulkan', ...gpu }, { name: 'Vulkan1', backend: 'Vulkan', ...gpu, deviceId: '0000:02:00.0' }], []);
    expect(devices.map((device) => device.id)).toEqual(['local/CUDA0', 'local/Vulkan1']);
  });

  it('keeps RPC devices first even when handed local devices first', () => {
    const plan = planSplit(small, [localDevice('CUDA0', 8 * GiB), rpcDevice('a', 8 * GiB)]);
    expect(plan.devices.map((device) => device.device.id)).toEqual(['a/CUDA0', 'local/CUDA0']);
  });
});

describe('shares', () => {
  it('"auto" is in proportion to free memory, like llama.cpp without --tensor-split', () => {
    const model = fakeLlama({ layers: 7, hidden: 256, ffn: 512, heads: 4, kvHeads: 4, vocab: 1000 });
    const plan = planSplit(model, [rpcDevice('a', 1 * GiB), rpcDevice('b', 3 * GiB)]);
    // 8 units at positions k/8 against 0.25, 1: units 0 and 1 on a.
    expect(plan.tensorSplit).toEqual([2, 6]);
    expect(plan.devices[1]!.layers).toEqual({ first: 2, last: 6 });
  });

  it('are passed to llama.cpp as layer counts, which reproduce the float32 split of the user\'s weights', () => {
    const model = fakeLlama({ layers: 3, hidden: 256, ffn: 512, heads: 4, kvHeads: 4, vocab: 1000 });
    const plan = planSplit(model, [rpcDevice('a', GiB), rpcDevice('b', GiB)], { shares: { 'a/CUDA0': 2.1, 'b/CUDA0': 0.7 } });
    expect(plan.tensorSplit).toEqual([3, 1]);
    expect(plan.devices[1]).toMatchObject({ layers: null, holdsOutput: true });
  });

  it('with more devices than layers, the last devices get nothing and need nothing', () => {
    const plan = planSplit(small, ['a', 'b', 'c', 'd'].map((peer) => rpcDevice(peer, 8 * GiB)), { shares: { 'a/CUDA0': 1, 'b/CUDA0': 1, 'c/CUDA0': 1, 'd/CUDA0': 1 } });
    expect(plan.tensorSplit).toEqual([1, 1, 1, 0]);
    expect(plan.args).toContain('1,1,1');
    expect(plan.devices[3]).toMatchObject({ layers: null, holdsOutput: false, tensors: [], memory: { total: 0 }, fits: true });
  });
});

describe('leaving devices out', () => {
  const devices = [rpcDevice('a', 8 * GiB), rpcDevice('b', 8 * GiB, 'CUDA0'), rpcDevice('b', 8 * GiB, 'CUDA1')];

  it('a peer left out is not passed to --rpc', () => {
    const plan = planSplit(small, devices, { exclude: ['b'] });
    expect(plan.rpcPeers).toEqual(['a']);
    expect(plan.devices.map((device) => device.device.id)).toEqual(['a/CUDA0']);
    expect(plan.excluded.map((device) => device.id)).toEqual(['b/CUDA0', 'b/CUDA1']);
  });

  it('one device of a peer that stays keeps its place with a share of 0 (its server still offers it)', () => {
    const plan = planSplit(small, devices, { exclude: ['b/CUDA0'] });
    expect(plan.rpcPeers).toEqual(['a', 'b']);
    expect(plan.devices.map((device) => [device.device.id, device.tensorSplit])).toEqual([['a/CUDA0', 2], ['b/CUDA0', 0], ['b/CUDA1', 1]]);
  });
});

describe('what stays on the host', () => {
  it('-ngl below all keeps the first layers on this machine\'s CPU', () => {
    const plan = planSplit(small, [rpcDevice('a', 8 * GiB)], { gpuLayers: 2 });
    expect(plan.host.layers).toEqual({ first: 0, last: 0 });
    expect(names(plan.host.tensors)).toEqual(['token_embd.weight', ...layerNames(0)]);
    expect(plan.host.kvCacheBytes).toBe(4 * MiB);
    expect(plan.devices[0]).toMatchObject({ layers: { first: 1, last: 1 }, holdsOutput: true });
    expect(plan.args).toContain('--n-gpu-layers');
    expect(plan.args[plan.args.indexOf('--n-gpu-layers') + 1]).toBe('2');
  });

  it('with no device at all everything runs on the host', () => {
    const plan = planSplit(small, []);
    expect(plan).toMatchObject({ devices: [], rpcPeers: [], gpuLayers: 0, fits: true, host: { layers: { first: 0, last: 1 }, holdsOutput: true } });
    expect(plan.args).toEqual(['--n-gpu-layers', '0', '--ctx-size', '4096', '--fit', 'off']);
    expect(plan.verdict).toBe('fake-llama runs on this machine\'s CPU alone: no GPU or peer takes part (context 4096).');
  });

  it('-ngl 0 offloads nothing', () => {
    const plan = planSplit(small, [rpcDevice('a', 8 * GiB)], { gpuLayers: 0 });
    expect(plan).toMatchObject({ gpuLayers: 0, tensorSplit: [0], fits: true, verdict: 'fake-llama runs on this machine\'s CPU alone: no layer is offloaded (context 4096).' });
    expect(plan.args).not.toContain('--tensor-split');
    expect(plan.host.tensors).toHaveLength(small.facts.tensors.length);
  });
});

describe('tensors llama.cpp duplicates', () => {
  it('a model without output.weight gets a second token_embd.weight on the output device', () => {
    const tied = fakeLlama({ layers: 2, hidden: 1024, ffn: 4096, heads: 8, kvHeads: 2, vocab: 32000, tied: true });
    const plan = planSplit(tied, [rpcDevice('a', 8 * GiB), rpcDevice('b', 8 * GiB)], { shares: { 'a/CUDA0': 1, 'b/CUDA0': 1 } });
    expect(names(plan.host.tensors)).toEqual(['token_embd.weight']);
    expect(names(plan.devices[1]!.tensors)).toEqual(['token_embd.weight', 'output_norm.weight']);
  });

  it('rope_freqs goes to every device that holds a layer, not to one holding only the output', () => {
    const rope = fakeLlama({ layers: 3, hidden: 256, ffn: 512, heads: 4, kvHeads: 4, vocab: 1000, ropeFreqs: true });
    const plan = planSplit(rope, [rpcDevice('a', GiB), rpcDevice('b', GiB), rpcDevice('c', GiB)], { shares: { 'a/CUDA0': 1, 'b/CUDA0': 1, 'c/CUDA0': 2 }, gpuLayers: 3 });
    // -ngl 3: layer 0 on the host; layers 1, 2, output at positions 0, 1/3, 2/3 against 0.25, 0.5, 1.
    expect(plan.devices.map((device) => [device.layers, device.holdsOutput])).toEqual([[{ first: 1, last: 1 }, false], [{ first: 2, last: 2 }, false], [null, true]]);
    const hasRope = (tensors: { name: string }[]) => names(tensors).includes('rope_freqs.weight');
    expect([hasRope(plan.host.tensors), ...plan.devices.map((device) => hasRope(device.tensors))]).toEqual([true, true, true, false]);
  });

  it('warns about tensors it cannot place instead of guessing', () => {
    const odd = fakeLlama({ layers: 1, hidden: 256, ffn: 512, heads: 4, kvHeads: 4, vocab: 1000, extra: { 'mystery.weight': 64 } });
    const plan = planSplit(odd, [rpcDevice('a', GiB)]);
    expect(plan.warnings).toEqual(['Hearth cannot tell where llama.cpp puts tensor mystery.weight of this llama model; warm-up will not push it ahead of the load.']);
    expect([...plan.host.tensors, ...plan.devices[0]!.tensors].map((tensor) => tensor.name)).not.toContain('mystery.weight');
  });
});

describe('bad choices', () => {
  const devices = [rpcDevice('a', GiB), rpcDevice('b', GiB)];
  const message = (options: Parameters<typeof planSplit>[2]) => {
    try {
      planSplit(small, devices, options);
    } catch (error) {
      return `${(error as { code: string }).code}: ${(error as Error).message}`;
    }
    return 'no error';
  };

  it('are refused with what to do', () => {
    expect(message({ exclude: ['c'] })).toBe('bad-plan-options: Cannot leave out "c": it is neither a device nor a peer of this plan (devices: a/CUDA0, b/CUDA0).');
    expect(message({ shares: { 'a/CUDA0': 1 } })).toBe('bad-plan-options: Give a share to every device that takes part, or none for "auto": b/CUDA0 has none.');
    expect(message({ shares: { 'a/CUDA0': 1, 'b/CUDA0': -1 } })).toBe('bad-plan-options: The share of b/CUDA0 must be a number of 0 or more (got -1).');
    expect(message({ shares: { 'a/CUDA0': 0, 'b/CUDA0': 0 } })).toBe('plan-no-share: Every device taking part has a share of 0: give at least one device a share above 0.');
    expect(message({ contextLength: 0 })).toBe('bad-plan-options: A context length is a whole number of tokens above 0 (got 0).');
    expect(message({ shares: { 'a/CUDA0': 1 }, exclude: ['b'] })).toBe('no error');
  });

  it('refuses more devices than --tensor-split can address', () => {
    const many = Array.from({ length: 16 }, (_, i) => rpcDevice(`p${i}`, GiB));
    expect(() => planSplit(fakeLlama({ layers: 20, hidden: 256, ffn: 512, heads: 4, kvHeads: 4, vocab: 1000 }), many)).toThrow(/at most 15 devices, and this plan has 16: leave some peers out/);
  });
});
