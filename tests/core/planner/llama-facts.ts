// In-memory llama-architecture models for pure planner tests: the tensor table and shape a
// GGUF file of that spec would have (names and shapes as src/models/llama.cpp creates them),
// with F16 matrices and F32 norms, without writing any file.
import type { TensorFacts } from '../../../src-main/core/gguf/inspect-model.js';
import type { SyntheticLlamaSpec } from '../../helpers/synthetic/llama-model.js';
import type { PlanDevice, PlanModel } from '../../../src-main/core/planner/plan-types.js';

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** The shape of a fake llama model. */
export interface FakeLlamaSpec extends Pick<SyntheticLlamaSpec, 'layers' | 'hidden' | 'ffn' | 'heads' | 'kvHeads' | 'vocab'> {
  contextLength?: number;
  /** No `output.weight`: the token embedding doubles as the output matrix. */
  tied?: boolean;
  /** A `rope_freqs.weight` (llama 3 style), shared by every layer. */
  ropeFreqs?: boolean;
  /** Extra tensors by name (bytes), e.g. one the planner does not know. */
  extra?: Record<string, number>;
}

/** A PlanModel for `spec`, offsets laid out back to back as in a file. */
export function fakeLlama(spec: FakeLlamaSpec): PlanModel {
  const headDim = spec.hidden / spec.heads;
  const kvWidth = headDim * spec.kvHeads;
  const shapes: Array<[string, number[], number]> = [['token_embd.weight', [spec.hidden, spec.vocab], 2]];
  if (spec.ropeFreqs) shapes.push(['rope_freqs.weight', [headDim / 2], 4]);
  for (let i = 0; i < spec.layers; i++) {
    shapes.push(
      [`blk.${i}.attn_norm.weight`, [spec.hidden], 4],
      [`blk.${i}.attn_q.weight`, [spec.hidden, spec.hidden], 2],
      [`blk.${i}.attn_k.weight`, [spec.hidden, kvWidth], 2],
      [`blk.${i}.attn_v.weight`, [spec.hidden, kvWidth], 2],
      [`blk.${i}.attn_output.weight`, [spec.hidden, spec.hidden], 2],
      [`blk.${i}.ffn_norm.weight`, [spec.hidden], 4],
      [`blk.${i}.ffn_gate.weight`, [spec.hidden, spec.ffn], 2],
      [`blk.${i}.ffn_up.weight`, [spec.hidden, spec.ffn], 2],
      [`blk.${i}.ffn_down.weight`, [spec.ffn, spec.hidden], 2],
    );
  }
  shapes.push(['output_norm.weight', [spec.hidden], 4]);
  if (!spec.tied) shapes.push(['output.weight', [spec.hidden, spec.vocab], 2]);
  for (const [name, bytes] of Object.entries(spec.extra ?? {})) shapes.push([name, [bytes], 1]);

  let offset = 4096;
  const tensors: TensorFacts[] = shapes.map(([name, dimensions, elementBytes]) => {
    const byteSize = dimensions.reduce((a, b) => a * b, 1) * elementBytes;
    const tensor = { name, ggmlType: elementBytes === 2 ? 1 : 0, dimensions, fileOffset: offset, byteSize };
    offset += byteSize;
    return tensor;
  });
  const perLayer = (value: number) => Array.from({ length: spec.layers }, () => value);
  return {
    facts: {
      path: '/models/fake.gguf',
      fileBytes: offset,
      ggufVersion: 3,
      architecture: 'llama',
      name: 'fake-llama',
      parameterCount: 0,
      fileType: 'MOSTLY_F16',
      layers: spec.layers,
      contextLength: spec.contextLength ?? 4096,
      tensorCount: tensors.length,
      cacheable: { tensors: 0, bytes: 0 },
      tensors,
    },
    shape: {
      architecture: 'llama',
      blockCount: spec.layers,
      embedding: spec.hidden,
      feedForward: spec.ffn,
      heads: perLayer(spec.heads),
      kvHeads: perLayer(spec.kvHeads),
      keyLength: headDim,
      valueLength: headDim,
      vocab: spec.vocab,
      trainedContext: spec.contextLength ?? 4096,
    },
  };
}

/** A device of peer `peer`, reached over RPC. */
export function rpcDevice(peer: string, freeBytes: number, name = 'CUDA0'): PlanDevice {
  return { id: `${peer}/${name}`, name, description: 'GPU', machine: peer, peerId: peer, totalBytes: freeBytes * 2, freeBytes };
}

/** A GPU of this machine. */
export function localDevice(name: string, freeBytes: number): PlanDevice {
  return { id: `local/${name}`, name, description: 'GPU', machine: 'this machine', peerId: null, totalBytes: freeBytes * 2, freeBytes };
}
