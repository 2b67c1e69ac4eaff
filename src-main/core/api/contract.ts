// The one contract between the UI and the core: its types, and the names of its requests and
// events (the transports register exactly these). Both transports (Electron IPC through the
// preload, HTTP + WebSocket in web mode) implement exactly these entries.

import type { ApiAccess } from '../../shared/api-access.js';
import type { ChatTurn } from '../../shared/chat.js';
import type { LoadCacheProgress, PeerCoverage, WarmupProgress } from '../../shared/cache-progress.js';
import type { BuildProgress, DeviceInfo, LlamaServerToolStatus } from '../../shared/devices.js';
import type { KeepWarmView } from '../../shared/keep-warm.js';
import type { PlanChoices } from '../../shared/plan-choices.js';

export type { ApiAccess } from '../../shared/api-access.js';
export type { ChatTurn } from '../../shared/chat.js';
export type { LoadCacheProgress, PeerCoverage, WarmupProgress, WarmupState } from '../../shared/cache-progress.js';
export type { BuildProgress, DeviceInfo, LlamaServerToolStatus } from '../../shared/devices.js';
export type { KeepWarmView } from '../../shared/keep-warm.js';
export type { PlanChoices } from '../../shared/plan-choices.js';

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
  /** The members' caches kept warm in the background for the models loaded lately. */
  keepWarm: KeepWarmView;
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
  /** Tensors of 1 MiB or more: what worker caches hold. */
  cacheableTensors: number;
  cacheableBytes: number;
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
  /** What happened while it served (a peer lost, the model loaded again elsewhere), for the user; null when nothing did. */
  notice: string | null;
  /** A peer the served model lost that answers again: Move back (moveModelBack) spreads the model over it again. */
  peerBack: string | null;
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
  /** Keep the members' caches warm in the background for the models this machine loaded lately. */
  keepWarm: boolean;
}

/** What Settings can change; only the fields given change. */
export interface SettingsChange {
  /** Bytes; null for the default. */
  cacheMaxBytes?: number | null;
  modelDirs?: string[];
  workerEnabled?: boolean;
  startAtLogin?: boolean;
  openLan?: boolean;
  keepWarm?: boolean;
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
  /** Plan the open model again over every member (a lost one is back) and load it so. */
  moveModelBack: () => Promise<ModelSession>;

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

// A value per request and per event, so the compiler says when the contract gains one the transports do not carry.
const requestFlags = {
  getStatus: true, getCluster: true, addPeer: true, showPairingCode: true, joinCluster: true, listModelFiles: true, openModel: true, closeModel: true,
  getSession: true, setPlanChoices: true, startWarmup: true, cancelWarmup: true, loadModel: true, unloadModel: true, moveModelBack: true, sendChat: true, stopChat: true,
  getSettings: true, updateSettings: true, clearCache: true,
} as const satisfies Record<keyof HearthRequests, true>;
const eventFlags = { status: true, cluster: true, session: true, chatText: true, settings: true } as const satisfies Record<keyof HearthEvents, true>;

/** Every request name, in the contract's order: what the transports register. */
export const requestNames = Object.keys(requestFlags) as (keyof HearthRequests)[];

/** Every event name the transports forward. */
export const eventNames = Object.keys(eventFlags) as (keyof HearthEvents)[];

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
