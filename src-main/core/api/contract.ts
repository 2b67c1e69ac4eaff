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

/** How much of one peer's share of a plan its cache already holds (the large tensors the plan puts on its devices). */
export interface PeerCoverage {
  peerId: string;
  /** The peer's name, for people. */
  peer: string;
  /** Cache entries (large tensors, one per distinct content) the plan puts on this peer, and their bytes. */
  shareEntries: number;
  shareBytes: number;
  /** Of those, what its cache holds now. */
  cachedEntries: number;
  cachedBytes: number;
  /** When the peer last answered (ms since the epoch). */
  checkedAt: number;
  /** Why the peer could not be asked (then the cached figures are the last known), else null. */
  error: string | null;
}

/** Where one peer's warm-up stands. */
export type WarmupState = 'waiting' | 'filling' | 'fetching' | 'pushing' | 'done' | 'failed' | 'cancelled';

/** Progress of warming one peer's cache for a plan: its share, filled from its own disk, fetched from another member or pushed. */
export interface WarmupProgress {
  peerId: string;
  peer: string;
  state: WarmupState;
  /** Bytes of the share in the peer's cache (or on their way, for the entry being pushed), of the share's bytes. */
  bytesDone: number;
  bytesTotal: number;
  entriesDone: number;
  entriesTotal: number;
  /** Bytes moved per second lately (pushed, filled or fetched); 0 before anything moved. */
  bytesPerSecond: number;
  /** At that rate; null while unknown. */
  secondsLeft: number | null;
  /** How the bytes got there in this warm-up: over this machine's link to the peer, from the peer's own disk, from another member. */
  pushedBytes: number;
  filledBytes: number;
  fetchedBytes: number;
  /** What went wrong, with what to do, when state is "failed". */
  error: string | null;
}

/** One peer's cache while llama-server loads a model: entries served from its disk versus sent over the link. */
export interface LoadCacheProgress {
  peerId: string;
  peer: string;
  /** Large tensors the plan puts on this peer. */
  entriesTotal: number;
  /** Large tensors it loaded from its cache so far, and their bytes. */
  entriesFromCache: number;
  bytesFromCache: number;
  /** Large tensors the coordinator had to send so far. */
  entriesTransferred: number;
  /** Bytes through this machine's RPC link to the peer since the load began (all tensors and protocol). */
  bytesTransferred: number;
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
