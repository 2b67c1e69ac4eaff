// The planner's inputs and its answer. Types only: the functions live next to this file.
import type { ModelFacts, TensorFacts } from '../gguf/inspect-model.js';

/** The hyperparameters the KV cache and the compute buffers depend on (llama.cpp `llama_hparams`). */
export interface ModelShape {
  architecture: string;
  /** `<arch>.block_count`: llama.cpp's `n_layer_all`, the repeating layers. */
  blockCount: number;
  /** `n_embd`. */
  embedding: number;
  /** The largest `n_ff` of any layer. */
  feedForward: number;
  /** `n_head` of each layer. */
  heads: number[];
  /** `n_head_kv` of each layer. */
  kvHeads: number[];
  /** `n_embd_head_k` and `n_embd_head_v`: key/value length per head. */
  keyLength: number;
  valueLength: number;
  vocab: number;
  /** `<arch>.context_length`, when the file says. */
  trainedContext: number | null;
}

/** A model as the planner sees it: its tensors and its shape. */
export interface PlanModel {
  facts: ModelFacts;
  shape: ModelShape;
}

/** One device a plan can put layers on: a local GPU, or one device of a peer's RPC worker. */
export interface PlanDevice {
  /** Stable id: `local/<ggml name>` or `<peer id>/<ggml name>`. */
  id: string;
  /** ggml device name on its machine, e.g. "CUDA0", "CPU". */
  name: string;
  description: string;
  /** Which machine it is on, for messages: "this machine" or the peer's name. */
  machine: string;
  /** The peer it belongs to (its RPC server is one `--rpc` entry); null for this machine's own devices. */
  peerId: string | null;
  totalBytes: number;
  freeBytes: number;
}

/** What the user can choose. */
export interface PlanOptions {
  /** Context length (tokens) to reserve the KV cache for; default the model's, capped at 4096. */
  contextLength?: number;
  /**
   * Share of the layers per device id (any non-negative weights, like `--tensor-split`). Left
   * out: "auto", in proportion to free memory, as llama.cpp splits by default. When given, every
   * device that takes part needs one.
   */
  shares?: Record<string, number>;
  /** Device ids or peer ids to leave out. */
  exclude?: readonly string[];
  /** `-ngl`: layers to offload, the output layer counting as one; default all (negative means all too). */
  gpuLayers?: number;
  /** Tokens per micro-batch (llama-server `-ub`, default 512): the compute buffers scale with it. */
  microBatch?: number;
  /** Memory to leave free on each device (driver, fragmentation); default 256 MiB. */
  headroomBytes?: number;
}

/** The repeating layers (blocks) a device holds, first to last inclusive. */
export interface LayerRange {
  first: number;
  last: number;
}

/** Memory a device needs for a plan, in bytes. */
export interface MemoryNeed {
  weights: number;
  kvCache: number;
  compute: number;
  headroom: number;
  total: number;
}

/** What one device receives. */
export interface DevicePlan {
  device: PlanDevice;
  /** Position in llama.cpp's device list (the `-ts` position). */
  index: number;
  /** The `-ts` value given for it: the number of layers it holds, output layer included. */
  tensorSplit: number;
  layers: LayerRange | null;
  holdsOutput: boolean;
  /** Every tensor it receives, in file order. */
  tensors: TensorFacts[];
  memory: MemoryNeed;
  fits: boolean;
  /** How much more free memory it would need; 0 when it fits. */
  shortBytes: number;
}

/** What stays on the host (the machine running llama-server): the token embedding and any layer not offloaded. */
export interface HostPlan {
  layers: LayerRange | null;
  holdsOutput: boolean;
  tensors: TensorFacts[];
  weightBytes: number;
  kvCacheBytes: number;
}

/** A split of a model across devices, exactly as llama.cpp will load it, with its fit verdict. */
export interface SplitPlan {
  model: { path: string; name: string | null; architecture: string; blockCount: number };
  /** Tokens the KV cache is sized for (as asked), and what llama.cpp rounds it up to (a multiple of 256). */
  contextLength: number;
  kvCells: number;
  /** Devices in llama.cpp's order: RPC devices in `--rpc` order, then local GPUs. */
  devices: DevicePlan[];
  host: HostPlan;
  /** Devices the user left out (one left out of a peer that takes part also stays in `devices`, with a share of 0). */
  excluded: PlanDevice[];
  /** The peers whose RPC servers the load uses, by id, in `--rpc` order (the endpoints are the load's: `llamaServerArgs`). */
  rpcPeers: string[];
  /** `--tensor-split`, one value per device in `devices` order. */
  tensorSplit: number[];
  /** `-ngl`. */
  gpuLayers: number;
  /** The llama-server arguments that give exactly this split, but for `--rpc` (`llamaServerArgs` adds it). */
  args: string[];
  fits: boolean;
  /** One line for the user: fits, or what is short where. */
  verdict: string;
  /** When it does not fit: what would (a shorter context, other shares, a peer left out, more memory). */
  advice: string[];
  /** Tensors whose placement the planner could not predict (unknown names for this architecture). */
  warnings: string[];
}
