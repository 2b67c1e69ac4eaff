// The one contract between the UI and the core. Types only: both transports (Electron IPC
// through the preload, HTTP + WebSocket in web mode) implement exactly these entries.

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

export type WorkerState = 'building' | 'starting' | 'serving' | 'restarting' | 'stopped' | 'error';

/** The local RPC worker: the engine that offers this machine's devices to the cluster. */
export interface WorkerStatus {
  state: WorkerState;
  /** host:port of ggml-rpc-server while serving. */
  endpoint: string | null;
  devices: DeviceInfo[];
  /** Set while building the native tools. */
  build: BuildProgress | null;
  /** What went wrong, with what to do, when state is "error" or "restarting". */
  error: string | null;
}

/** This machine as the UI shows it. */
export interface MachineStatus {
  hostname: string;
  platform: string;
  arch: string;
  hearthVersion: string;
  /** llama.cpp release the tools are built from, e.g. "v0.4.0". */
  llamaRelease: string;
  /** ggml RPC protocol version, e.g. "6.0.0", or null before the tools are ready. */
  rpcProtocol: string | null;
  worker: WorkerStatus;
}

/** Every request the UI can make: name → (argument) → result. */
export interface HearthRequests {
  getStatus: () => Promise<MachineStatus>;
}

/** Every event the UI can receive: name → payload. */
export interface HearthEvents {
  status: MachineStatus;
}

/** What the renderer is handed, whichever transport carries it. */
export interface HearthApi extends HearthRequests {
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void;
}
