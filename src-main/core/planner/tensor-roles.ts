// Which of llama.cpp's "layers" each tensor of a GGUF file belongs to, by its name.
// Upstream: src/llama-arch.cpp `LLM_TENSOR_INFOS` (input / output / repeating) and
// `LLM_TENSOR_NAMES` (the names); src/llama-model-loader.cpp `create_tensor` picks the device
// list by that class: input → host CPU, output → the output layer's device, repeating → the
// device of the layer number the model code passes.

/** Where a tensor goes, as llama.cpp decides it. */
export type TensorRole =
  /** The input layer: llama.cpp always keeps it on the host CPU ("very little benefit to offloading"). */
  | { kind: 'input' }
  /** Goes with the output layer. */
  | { kind: 'output' }
  /** `blk.N.*`: goes with repeating layer N. */
  | { kind: 'layer'; layer: number }
  /**
   * Created for layer 0 and again (`TENSOR_DUPLICATED`) for every other layer, e.g. `rope_freqs`:
   * every device holding a layer gets a copy.
   */
  | { kind: 'every-layer' }
  /** A name the planner does not know for this architecture. */
  | { kind: 'unknown' };

// LLM_TENSOR_LAYER_INPUT names (the masked_embd ones are never loaded at all: GGML_OP_NONE, "unused tensor").
const INPUT = new Set(['token_embd', 'position_embd', 'token_types', 'per_layer_token_embd', 'masked_embd_centroids', 'masked_embd_ordering']);
// LLM_TENSOR_LAYER_OUTPUT names.
const OUTPUT = new Set([
  'output', 'output_norm', 'cls', 'cls.output', 'cls.norm', 'dense_2', 'dense_3', 'enc.output_norm', 'dec.output_norm',
  'output_res_score', 'output_hc_fn', 'output_hc_base', 'output_hc_scale', 'output_hc_norm', 'output_hc_down', 'output_hc_up',
  'altup_proj', 'altup_unembd_proj', 'nextn.post_projection', 'fc', 'd2t',
]);
// Repeating tensors without a block number in their name, duplicated across layers by the model code.
const EVERY_LAYER = new Set(['rope_freqs', 'rope_factors_long', 'rope_factors_short']);
// LFM2 writes its output norm under the name other architectures use for the token-embedding norm.
const OUTPUT_NORM_AS_TOKEN_EMBD_NORM = new Set(['lfm2', 'lfm2moe']);

/** The role of tensor `name` in a model of `architecture`. */
export function tensorRole(name: string, architecture: string): TensorRole {
  const block = /^blk\.(\d+)\./.exec(name);
  if (block) return { kind: 'layer', layer: Number(block[1]) };
  // "token_embd.weight" → "token_embd"; "cls.output.bias" → "cls.output".
  const base = name.replace(/\.(weight|bias|scale)$/, '');
  if (INPUT.has(base)) return { kind: 'input' };
  if (OUTPUT.has(base)) return { kind: 'output' };
  if (EVERY_LAYER.has(base)) return { kind: 'every-layer' };
  // LLM_TENSOR_TOKEN_EMBD_NORM is a repeating tensor the models create for layer 0 ("do the norms on the first layer").
  if (base === 'token_embd_norm') return OUTPUT_NORM_AS_TOKEN_EMBD_NORM.has(architecture) ? { kind: 'output' } : { kind: 'layer', layer: 0 };
  return { kind: 'unknown' };
}
