// The hyperparameters the planner needs beyond the tensor table, read the way llama.cpp reads
// them (src/llama-model.cpp `load_hparams`: `get_key_or_arr` for per-layer head counts; key and
// value length default to n_embd / n_head).
import { HearthError } from '../base/errors.js';
import { arrayLength, metadataNumber, type GgufHeader } from '../gguf/gguf-header.js';
import { inspectGguf, type ModelFacts } from '../gguf/inspect-model.js';
import type { ModelShape, PlanModel } from './plan-types.js';

/** The `<arch>.*` metadata keys the planner reads, under their names without the architecture. */
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
export function planModelFrom(facts: ModelFacts, info: GgufHeader): PlanModel {
  const vocabFromTokens = arrayLength(info.metadata.get('tokenizer.ggml.tokens'));
  const embedding = facts.tensors.find((tensor) => tensor.name === 'token_embd.weight');
  return { facts, shape: modelShape(facts.path, facts.architecture, architectureMetadata(info, facts.architecture), vocabFromTokens ?? embedding?.dimensions[1] ?? 0) };
}

/** The `<arch>.*` keys the planner reads, as numbers or per-layer lists of numbers. */
function architectureMetadata(info: GgufHeader, architecture: string): ArchitectureMetadata {
  const number = (key: string) => metadataNumber(info, `${architecture}.${key}`);
  const perLayer = (key: string): number | number[] | undefined => {
    const value = info.metadata.get(`${architecture}.${key}`);
    if (Array.isArray(value) && value.every((item) => typeof item === 'number')) return value as number[];
    return typeof value === 'number' ? value : undefined;
  };
  return {
    block_count: number('block_count'),
    embedding_length: number('embedding_length'),
    feed_forward_length: perLayer('feed_forward_length'),
    context_length: number('context_length'),
    vocab_size: number('vocab_size'),
    attention: {
      head_count: perLayer('attention.head_count'),
      head_count_kv: perLayer('attention.head_count_kv'),
      key_length: number('attention.key_length'),
      value_length: number('attention.value_length'),
    },
  };
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
