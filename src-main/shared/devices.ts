// What a machine offers the cluster and how its tools are coming along: facts the core reports
// and the UI shows, so they live where both sides can import them.

/** One compute device offered by a worker, as ggml reports it. */
export interface DeviceInfo {
  /** ggml device name, e.g. "CPU", "CUDA0", "Vulkan0". */
  name: string;
  /** Human description, e.g. the GPU model. */
  description: string;
  totalBytes: number;
  freeBytes: number;
}

/** Progress of building the llama.cpp tools from source. */
export interface BuildProgress {
  /** What is happening now, e.g. "compiling llama-server". */
  step: string;
  /** 0..1, or null while unknown. */
  fraction: number | null;
}

/** This machine's llama-server (the coordinator's engine, built after the worker's server): whether it is there yet. */
export interface LlamaServerToolStatus {
  state: 'waiting' | 'building' | 'ready' | 'error';
  build: BuildProgress | null;
  /** What went wrong, with what to do, when state is "error". */
  error: string | null;
}
