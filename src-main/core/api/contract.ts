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

/** 'paused': the user turned the worker off (Settings or the tray); 'stopped': Hearth is shutting down. */
export type WorkerState = 'building' | 'starting' | 'serving' | 'restarting' | 'paused' | 'stopped' | 'error';

/** What the serving worker is doing: nothing, running a coordinator's model, or taking in cache entries (a warm-up). */
export type WorkerActivity = 'idle' | 'serving' | 'receiving';

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
  activity: WorkerActivity;
  /** This machine's tensor cache: bytes held and its cap; null before the worker has opened it. */
  cache: { usedBytes: number; capBytes: number } | null;
}

/**
 * llama-server, which loading a model needs and a worker does not: on a fresh machine it is built
 * in the background once the worker serves. 'waiting': not built, the worker's build comes first.
 */
export interface LlamaServerToolStatus {
  state: 'waiting' | 'building' | 'ready' | 'error';
  build: BuildProgress | null;
  /** What went wrong, with what to do, when state is "error". */
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
  llamaServer: LlamaServerToolStatus;
}

/** How much of one peer's share of a plan its cache already holds (the cached tensors the plan puts on its devices). */
export interface PeerCoverage {
  peerId: string;
  /** The peer's name, for people. */
  peer: string;
  /** Cache entries (cached tensors, one per distinct content) the plan puts on this peer, and their bytes. */
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
  /** Cached tensors the plan puts on this peer. */
  entriesTotal: number;
  /** Cached tensors it loaded from its cache so far, and their bytes. */
  entriesFromCache: number;
  bytesFromCache: number;
  /** Cached tensors the coordinator had to send so far. */
  entriesTransferred: number;
  /** Bytes through this machine's RPC link to the peer since the load began (all tensors and protocol). */
  bytesTransferred: number;
}

/** One peer as the Cluster screen shows it. */
export interface PeerSummary {
  id: string;
  name: string;
  /** Addresses it was seen at, best first. */
  addresses: string[];
  linkPort: number;
  /** Hearth version and llama.cpp release it runs. */
  version: string;
  release: string;
  online: boolean;
  /** Whether its llama.cpp release and RPC protocol match ours; when not, `reason` says why. */
  compatible: boolean;
  reason: string | null;
  /** In this machine's cluster (paired). */
  member: boolean;
  /** Found by mDNS, or added by address by the user. */
  source: 'mdns' | 'manual';
  devices: DeviceInfo[];
  cacheUsedBytes: number;
  cacheCapBytes: number;
}

/** This machine's cluster: who is in it, who else is around, and the pairing code when one is open. */
export interface ClusterStatus {
  /** Public fingerprint of the cluster key (16 hex digits). */
  fingerprint: string;
  peers: PeerSummary[];
  pairing: PairingCode | null;
  /** Why the cluster side is not running yet (the worker is still starting), else null. */
  unavailable: string | null;
}

/** A one-time pairing code another machine types to join this cluster. */
export interface PairingCode {
  code: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** A GGUF file in one of the server's model folders (what a browser can open without uploading). */
export interface ModelFile {
  path: string;
  fileName: string;
  bytes: number;
}

/** The facts of the open model. */
export interface ModelSummary {
  path: string;
  fileName: string;
  fileBytes: number;
  architecture: string;
  name: string | null;
  parameterCount: number;
  /** e.g. "F16", "Q4_K_M". */
  fileType: string;
  layers: number | null;
  /** Context length the model was trained for, when it says. */
  trainedContext: number | null;
  tensorCount: number;
  /** Tensors over 10 MiB: what worker caches hold. */
  cacheableTensors: number;
  cacheableBytes: number;
}

/** What the user chose for the split; all empty is "auto". */
export interface PlanChoices {
  /** Tokens of context; null for Hearth's default (4096, or less if the model was trained for less). */
  contextLength: number | null;
  /** Device id → weight; devices not listed share by free memory. */
  shares: Record<string, number>;
  /** Device ids or peer ids left out. */
  exclude: string[];
}

/** One device of the plan. */
export interface PlannedDevice {
  /** Stable id: `local/<ggml name>` or `<peer id>/<ggml name>`. */
  id: string;
  /** ggml name and description, e.g. "CUDA0", "NVIDIA GeForce RTX 4090". */
  name: string;
  description: string;
  /** "this machine" or the peer's name. */
  machine: string;
  peerId: string | null;
  /** Its part of the layers (0..1), as planned. */
  share: number;
  layers: { first: number; last: number } | null;
  holdsOutput: boolean;
  weightBytes: number;
  kvCacheBytes: number;
  computeBytes: number;
  /** All of the above. */
  plannedBytes: number;
  freeBytes: number;
  totalBytes: number;
  fits: boolean;
  /** How much more free memory it would need; 0 when it fits. */
  shortBytes: number;
}

/** A split of the open model across the cluster, with its verdict. */
export interface PlanView {
  fits: boolean;
  /** One line: fits, or what is short where. */
  verdict: string;
  /** When it does not fit: what would. */
  advice: string[];
  warnings: string[];
  contextLength: number;
  devices: PlannedDevice[];
  /** What stays on this machine's CPU. */
  host: { weightBytes: number; layers: { first: number; last: number } | null; holdsOutput: boolean };
  /** Devices the user left out. */
  excluded: { id: string; name: string; machine: string }[];
  /** Peers seen but not used, with why (not paired, incompatible, offline). */
  skipped: { name: string; reason: string }[];
}

/** Bytes moved so far, sampled over time, for the warm-up and load charts. */
export interface ByteSample {
  /** ms since the work began. */
  atMs: number;
  bytes: number;
}

/** A pre-warm of every peer's cache for the plan. */
export interface WarmupView {
  state: 'hashing' | 'warming' | 'done' | 'failed' | 'cancelled';
  /** While hashing the model's tensors (once per file): 0..1. */
  hashing: number | null;
  peers: WarmupProgress[];
  samples: ByteSample[];
  /** What went wrong and what to do, when state is "failed". */
  error: string | null;
}

/** Loading the open model across the cluster, and then serving it. */
export interface LoadView {
  state: 'idle' | 'hashing' | 'loading' | 'ready' | 'unloading' | 'failed';
  /** What is happening now, and 0..1 when known. */
  step: string | null;
  fraction: number | null;
  cache: LoadCacheProgress[];
  samples: ByteSample[];
  /** What went wrong and what to do, when state is "failed", with llama-server's last lines. */
  error: string | null;
  logTail: string[];
  /** The OpenAI-compatible API while the model serves. */
  api: ApiAccess | null;
}

/** How other tools reach the loaded model. */
export interface ApiAccess {
  /** Ends in `/v1`. */
  baseUrl: string;
  /** Bearer key; null on loopback. */
  apiKey: string | null;
  modelId: string;
}

/** The open model and everything done with it: its plan, each peer's cache coverage, warm-up and load. */
export interface ModelSession {
  model: ModelSummary | null;
  choices: PlanChoices;
  plan: PlanView | null;
  /** Why there is no plan (e.g. no devices yet), else null. */
  planError: string | null;
  coverage: PeerCoverage[];
  warmup: WarmupView | null;
  load: LoadView;
}

/** One message of a chat. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What the UI sends to get an answer. */
export interface ChatAsk {
  /** Chosen by the UI; names the answer's `chatText` events and `stopChat`. */
  id: string;
  messages: ChatTurn[];
  maxTokens?: number;
  temperature?: number;
}

/** A finished (or stopped) answer. */
export interface ChatReply {
  id: string;
  content: string;
  tokens: number;
  tokensPerSecond: number | null;
  /** True when the user stopped it. */
  stopped: boolean;
}

/** A piece of an answer as it streams. */
export interface ChatText {
  id: string;
  text: string;
}

/** Everything the Settings screen shows. */
export interface SettingsView {
  cacheDir: string;
  cacheUsedBytes: number;
  cacheMaxBytes: number;
  /** True when the cap is the default from the disk's size. */
  cacheMaxIsDefault: boolean;
  /** Cache use per model the cache knows. */
  models: { id: string; name: string; entries: number; bytes: number }[];
  /** Folders of GGUF files this machine fills its cache from, and a browser can open models from. */
  modelDirs: string[];
  /** Whether this machine offers its devices to the cluster now. */
  workerEnabled: boolean;
  /** Start Hearth when the user logs in; null where the shell cannot (a browser on `hearth serve`). */
  startAtLogin: boolean | null;
  /** The RPC server itself listens on every interface, unauthenticated (faster, unsafe on untrusted networks). */
  openLan: boolean;
}

/** What Settings can change; only the fields given change. */
export interface SettingsChange {
  /** Bytes; null for the default. */
  cacheMaxBytes?: number | null;
  modelDirs?: string[];
  workerEnabled?: boolean;
  startAtLogin?: boolean;
  openLan?: boolean;
}

/** Every request the UI can make: name → (argument) → result. */
export interface HearthRequests {
  getStatus: () => Promise<MachineStatus>;

  getCluster: () => Promise<ClusterStatus>;
  /** Add a peer by address (networks without multicast); port defaults to 7436. */
  addPeer: (peer: { host: string; port?: number }) => Promise<PeerSummary>;
  /** Open a pairing window here and show its code. */
  showPairingCode: () => Promise<PairingCode>;
  /** Join the cluster of the machine showing `code`. */
  joinCluster: (pairing: { code: string }) => Promise<ClusterStatus>;

  /** GGUF files in the model folders (Settings), for a browser to open without an upload. */
  listModelFiles: () => Promise<ModelFile[]>;
  /** Open a model file on this machine: read its facts and plan it. */
  openModel: (model: { path: string }) => Promise<ModelSession>;
  closeModel: () => Promise<ModelSession>;
  getSession: () => Promise<ModelSession>;
  /** Re-plan with these choices; `{ contextLength: null, shares: {}, exclude: [] }` is auto. */
  setPlanChoices: (choices: PlanChoices) => Promise<ModelSession>;
  /** Pre-warm every peer's cache for the plan; progress arrives as `session` events. */
  startWarmup: (options: { maxBytesPerSecond?: number }) => Promise<ModelSession>;
  cancelWarmup: () => Promise<ModelSession>;
  /** Load the plan and serve it; progress arrives as `session` events. */
  loadModel: () => Promise<ModelSession>;
  /** Stop a load in progress, or unload the served model. */
  unloadModel: () => Promise<ModelSession>;

  /** Ask the loaded model; the answer streams as `chatText` events, and the whole comes back. */
  sendChat: (ask: ChatAsk) => Promise<ChatReply>;
  stopChat: (chat: { id: string }) => Promise<void>;

  getSettings: () => Promise<SettingsView>;
  updateSettings: (change: SettingsChange) => Promise<SettingsView>;
  /** Clear one model's entries from this machine's cache, or all when modelId is null. */
  clearCache: (target: { modelId: string | null }) => Promise<SettingsView>;
}

/** Every event the UI can receive: name → payload. */
export interface HearthEvents {
  status: MachineStatus;
  cluster: ClusterStatus;
  session: ModelSession;
  chatText: ChatText;
  settings: SettingsView;
}

/** Sending a model file from a browser to the server's upload folder. */
export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
}

/** What the renderer is handed, whichever transport carries it. */
export interface HearthApi extends HearthRequests {
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void;
  /**
   * Open a file the user dropped or picked: by its path in the app window, by a matching file in
   * the model folders or an upload (with progress, cancellable by `signal`) in a browser.
   */
  openDroppedFile: (file: File, onProgress?: (progress: UploadProgress) => void, signal?: AbortSignal) => Promise<ModelSession>;
}
