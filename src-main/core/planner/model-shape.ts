// The hyperparameters the planner needs beyond the tensor table, read the way llama.cpp reads
// them (src/llama-model.cpp `load_hparams`: `get_key_or_arr` for per-layer head counts; key and
// value length default to n_embd / n_head).
import { HearthError } from '../errors.js';
import { inspectGguf, type GgufInfo, type ModelFacts } from '../gguf/inspect-model.js';
import type { ModelShape, PlanModel } from './plan-types.js';

/** The `<arch>.*` metadata keys the planner reads (node-llama-cpp's `architectureMetadata`). */
export interface ArchitectureMetadata {
  block_count?: number;
  embedding_length?: number;
  feed_forward_length?: number | number[];
  context_length?: number;
  vocab_size?: number;
  attention?: { head_count?: number | number[]; head_count_kv?: number | number[]; key_length?: number; value_length?: number };
}

/** Check a model file and read everything the planner needs from it. */
export async function readPlanModel(filePath: string): Promise<PlanModel> {
  const { facts, info } = await inspectGguf(filePath);
  return planModelFrom(facts, info);
}

/** The planner's model from what `inspectGguf` read (no I/O); missing hyperparameters are a HearthError naming the file. */
export function planModelFrom(facts: ModelFacts, info: GgufInfo): PlanModel {
  const filePath = facts.path;
  const vocabFromTokens = info.metadata.tokenizer?.ggml?.tokens?.length;
  const embedding = facts.tensors.find((tensor) => tensor.name === 'token_embd.weight');
  return { facts, shape: modelShape(filePath, facts.architecture, info.architectureMetadata as ArchitectureMetadata, vocabFromTokens ?? embedding?.dimensions[1] ?? 0) };
}

/** The planner's view of a model's hyperparameters; missing essentials are a HearthError naming the file. */
export function modelShape(filePath: string, architecture: string, arch: ArchitectureMetadata, vocab: number): ModelShape {
  const fail = (what: string) => new HearthError('bad-model', `${filePath}: ${what}, so Hearth cannot plan how to split it.`);
  const blockCount = arch.block_count;
  if (!Number.isInteger(blockCount) || blockCount! <= 0) throw fail(`the header has no ${architecture}.block_count`);
  const embedding = arch.embedding_length;
  if (!Number.isInteger(embedding) || embedding! <= 0) throw fail(`the header has no ${architecture}.embedding_length`);
  const perLayer = (value: number | number[] | undefined, key: string, fallback?: number[]): number[] => {
    if (value === undefined) {
      if (fallback) return fallback;
      throw fail(`the header has no ${architecture}.${key}`);
    }
    if (!Array.isArray(value)) return Array.from({ length: blockCount! }, () => value);
    if (value.length !== blockCount) throw fail(`${architecture}.${key} lists ${value.length} layers but the model has ${blockCount}`);
    return value;
  };
  const heads = perLayer(arch.attention?.head_count, 'attention.head_count');
  const kvHeads = perLayer(arch.attention?.head_count_kv, 'attention.head_count_kv', heads);
  const headLength = heads[0]! > 0 ? embedding! / heads[0]! : 0;
  return {
    architecture,
    blockCount: blockCount!,
    embedding: embedding!,
    feedForward: Math.max(0, ...perLayer(arch.feed_forward_length, 'feed_forward_length', [0])),
    heads,
    kvHeads,
    keyLength: arch.attention?.key_length ?? headLength,
    valueLength: arch.attention?.value_length ?? headLength,
    vocab: arch.vocab_size ?? vocab,
    trainedContext: arch.context_length ?? null,
  };
}
