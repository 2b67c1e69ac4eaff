// How much memory a device needs beyond its weights: its layers' share of the KV cache, and an
// allowance for the compute buffers llama.cpp reserves on it.
import type { ModelShape } from './plan-types.js';

/** llama.cpp rounds the context up to a multiple of this (src/llama-context.cpp: `GGML_PAD(cparams.n_ctx, 256)`). */
export const KV_CELL_PADDING = 256;
/** llama-server's default micro-batch (`-ub`, common/common.h `n_ubatch`). */
export const DEFAULT_MICRO_BATCH = 512;
/** Left free on each device by default: driver and allocator slack the estimate cannot see. */
export const DEFAULT_HEADROOM_BYTES = 256 * 2 ** 20;

// F16 K and V (llama_context_default_params `type_k`/`type_v`); F32 activations in the graph.
const KV_BYTES = 2;
const ACTIVATION_BYTES = 4;

/** KV cells llama.cpp allocates for a context of `contextLength` tokens. */
export function kvCells(contextLength: number): number {
  return Math.ceil(contextLength / KV_CELL_PADDING) * KV_CELL_PADDING;
}

/**
 * Bytes of F16 K and V cache for block `layer`: cells × (n_embd_k_gqa + n_embd_v_gqa) × 2.
 * It lives on the device that holds the layer (llama-kv-cache.cpp: `dev_layer(il)` with
 * offload_kqv, the default). Sliding-window layers are counted at the full context too: an
 * over-estimate, since llama-server (common.h `swa_full = false`) gives them only the window.
 */
export function kvCacheBytes(shape: ModelShape, layer: number, cells: number): number {
  const kvHeads = shape.kvHeads[layer] ?? 0;
  return cells * (shape.keyLength * kvHeads + shape.valueLength * kvHeads) * KV_BYTES;
}

/**
 * Copies of the graph inputs llama.cpp keeps per device with pipeline parallelism
 * (`GGML_SCHED_MAX_COPIES`, ggml/CMakeLists.txt); it turns that on when there is more than one
 * device and every layer, output included, is offloaded (src/llama-context.cpp `pipeline_parallel`).
 */
const PIPELINE_COPIES = 4;
/** llama-server's default logical batch (`-b`); the micro-batch never exceeds it. */
const DEFAULT_BATCH = 2048;
/** Graph and tensor bookkeeping on top of the buffers themselves. */
const GRAPH_OVERHEAD_BYTES = 2 * 2 ** 20;

/** What the compute allowance of one device depends on. */
export interface ComputeInputs {
  holdsLayers: boolean;
  holdsOutput: boolean;
  cells: number;
  microBatch: number;
  /** Whether llama.cpp will run with pipeline parallelism (see PIPELINE_COPIES). */
  pipelined: boolean;
}

/**
 * Allowance for the compute buffer llama.cpp reserves on a device. ggml-alloc sizes it to the
 * peak of the graph part that runs there and reuses memory between layers, so it does not grow
 * with the number of layers. Per token of the micro-batch (llama.cpp `n_ubatch`: at most `-ub`,
 * the batch and the context), in F32:
 * - a layer's peak: the residual stream, Q/K/V and the attention output, and the FFN's gate,
 *   up and their product (3 × n_ff), which dominate;
 * - the attention mask, one F16 value per KV cell, once per input copy;
 * - on the output layer's device, the logits (n_vocab) and final norm, if that peak is higher.
 * Flash attention is assumed (llama-server's "auto" turns it on for RPC devices and for GPUs
 * that support it), so no n_head × n_ctx score matrix. Measured against this llama.cpp release
 * with synthetic llama models over RPC, within 2 MiB with pipeline parallelism and above the
 * real size without it.
 */
export function computeAllowance(shape: ModelShape, inputs: ComputeInputs): number {
  if (!inputs.holdsLayers && !inputs.holdsOutput) return 0;
  const tokens = Math.min(inputs.microBatch, inputs.cells, DEFAULT_BATCH);
  const heads = Math.max(0, ...shape.heads);
  const kvHeads = Math.max(0, ...shape.kvHeads);
  const attention = shape.keyLength * heads + 2 * shape.keyLength * kvHeads + shape.valueLength * heads;
  const layerPeak = inputs.holdsLayers ? ACTIVATION_BYTES * (3 * shape.embedding + attention + 3 * shape.feedForward) : 0;
  const outputPeak = inputs.holdsOutput ? ACTIVATION_BYTES * (shape.vocab + 2 * shape.embedding) : 0;
  const mask = inputs.holdsLayers ? KV_BYTES * inputs.cells * (inputs.pipelined ? PIPELINE_COPIES : 1) : 0;
  return tokens * (Math.max(layerPeak, outputPeak) + mask) + GRAPH_OVERHEAD_BYTES;
}
