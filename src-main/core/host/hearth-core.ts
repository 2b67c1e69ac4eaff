import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { ClusterStatus, HearthEvents, HearthRequests, MachineStatus, SettingsChange, SettingsView, WorkerStatus } from '../api/contract.js';
import type { HearthHost, TransportHost, TransportKind } from '../api/host.js';
import { transportHost } from '../api/transport-guard.js';
import { HearthError } from '../base/errors.js';
import { KEEP_WARM_BYTES_PER_SECOND } from '../coordinator/keep-warm.js';
import { membersOf } from '../coordinator/members.js';
import { DEFAULT_API_PORT } from '../inference/openai-gateway.js';
import { hearthPaths, type HearthPaths } from '../base/paths.js';
import { WORKER_TARGETS } from '../native/build-options.js';
import { LlamaServerBuild } from '../native/llama-server-build.js';
import { ensureTools, locateTools, type LlamaTools } from '../native/tools.js';
import { hearthVersion } from '../base/app-root.js';
import { ClusterNode, DEFAULT_LINK_PORT } from '../peers/cluster-node.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_RPC_PORT, runWorker, type RunningWorker } from '../worker/run-worker.js';
import type { WorkerServiceStatus } from '../worker/worker-service.js';
import { changeWorkerSettings } from '../worker/worker-settings.js';
import { readAppSettings, writeAppSettings, type AppSettings } from './app-settings.js';
import { ChatService } from './chat-service.js';
import { clusterStatus, peerSummary } from './cluster-view.js';
import { emptySession } from './empty-session.js';
import { listModelFiles } from './model-files.js';
import { loadModelDirs } from '../worker/model-dirs.js';
import type { ModelSessionService } from './model-session.js';

/** How often the worker's activity and cache use are read for the status (and the tray icon). */
const ACTIVITY_POLL_MS = 2000;

export interface HearthCoreOptions {
  paths?: HearthPaths;
  /** Address the RPC worker listens on. Loopback: peers reach it through the secure link. */
  workerHost?: string;
  /** RPC worker port; 0 picks a free one. */
  workerPort?: number;
  /** The worker's control API port; 0 picks a free one. */
  controlPort?: number;
  /** The worker's tensor cache folder; default `<cache>/tensors`. */
  tensorCacheDir?: string;
  /** The secure link's port; 0 picks a free one. */
  linkPort?: number;
  /** Advertise and browse by mDNS (default on; off: peers by address only). */
  discovery?: boolean;
  /** Where the OpenAI-compatible API of a loaded model listens (default 127.0.0.1:7437; port 0 picks one). */
  apiHost?: string;
  apiPort?: number;
  /** Required by clients when the API is not on loopback. */
  apiKey?: string;
  /** "Start at login", where the shell can (the Electron app); absent in `hearth serve`. */
  loginItem?: { get(): boolean; set(on: boolean): void };
  /** Folders of GGUF files to fill the cache from and open models from, to set and keep; undefined leaves the saved ones. */
  modelDirs?: string[];
  /** Where models sent from a browser are kept (default `<data>/uploads`); listed with the model folders. */
  uploadDir?: string;
}

/** The core a shell hosts (Electron main or `hearth serve`): this machine's worker, its cluster, the open model, chat and settings. */
export class HearthCore implements HearthHost, TransportHost {
  readonly requests: HearthRequests;
  /** The views transports get, by how they carry requests (pairing and Open LAN never over plain HTTP on the LAN). */
  readonly #transports: TransportHost;
  readonly #events = new EventEmitter();
  readonly #paths: HearthPaths;
  readonly #options: HearthCoreOptions;
  #status: MachineStatus;
  #settings: AppSettings;
  #tools: LlamaTools | null = null;
  /** llama-server, built after the worker serves (a fresh machine's worker needs only ggml-rpc-server). */
  readonly #llamaServer: LlamaServerBuild;
  #worker: RunningWorker | null = null;
  #cluster: ClusterNode | null = null;
  #session: Promise<ModelSessionService> | null = null;
  /** The session service once made (the chat asks it for the API's address). */
  #sessionMade: ModelSessionService | null = null;
  readonly #chat: ChatService;
  #activityTimer: NodeJS.Timeout | null = null;
  /** Serialises worker start, pause and restart. */
  #lifecycle: Promise<unknown> = Promise.resolve();
  #stopping = false;
  #launched = false;

  private constructor(options: HearthCoreOptions, llamaRelease: string, settings: AppSettings) {
    this.#options = options;
    this.#paths = options.paths ?? hearthPaths();
    this.#settings = settings;
    this.#llamaServer = new LlamaServerBuild({ paths: this.#paths });
    this.#llamaServer.on('status', (llamaServer: MachineStatus['llamaServer']) => {
      this.#status = { ...this.#status, llamaServer };
      this.#emit('status', this.status);
    });
    this.#status = {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      hearthVersion: hearthVersion(),
      llamaRelease,
      rpcProtocol: null,
      worker: { state: 'starting', endpoint: null, devices: [], build: null, error: null, activity: 'idle', cache: null },
      llamaServer: this.#llamaServer.status,
      keepWarm: { state: 'off', model: null, peers: [], maxBytesPerSecond: KEEP_WARM_BYTES_PER_SECOND, error: null },
    };
    this.#chat = new ChatService({ baseUrl: () => this.#sessionMade?.apiBaseUrl ?? null, apiKey: () => this.#options.apiKey });
    this.#chat.on('chatText', (text) => this.#emit('chatText', text));
    this.requests = this.#makeRequests();
    this.#transports = transportHost(this);
  }

  /** The core as a transport of `kind` may use it. */
  over(kind: TransportKind): HearthHost {
    return this.#transports.over(kind);
  }

  /** Create the core and start the worker in the background (building the tools first if needed). */
  static async start(options: HearthCoreOptions = {}): Promise<HearthCore> {
    const paths = options.paths ?? hearthPaths();
    const location = await locateTools({ paths: options.paths });
    const core = new HearthCore(options, location.source.release, await readAppSettings(paths.dataDir));
    // The worker first; then llama-server, in the background (its status says how it goes); then keep-warm, which needs it.
    void core.#serial(() => core.#startWorker()).then(() => core.#stopping ? undefined : core.#llamaServer.ensure()).then(() => core.#applyKeepWarm()).catch(() => undefined);
    return core;
  }

  /** A snapshot of this machine's status. */
  get status(): MachineStatus {
    return structuredClone(this.#status);
  }

  on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void {
    this.#events.on(event, listener);
    return () => this.#events.off(event, listener);
  }

  /** Resolve once the worker serves (or fail with its error). */
  async whenWorkerReady(): Promise<WorkerStatus> {
    for (;;) {
      const { worker } = this.#status;
      if (worker.state === 'serving') return structuredClone(worker);
      if (worker.state === 'error' || worker.state === 'stopped' || worker.state === 'paused') throw new Error(worker.error ?? `worker ${worker.state}`);
      await new Promise<void>((resolve) => {
        const off = this.on('status', () => {
          off();
          resolve();
        });
      });
    }
  }

  /** Stop everything; the core can be dropped afterwards. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#chat.stopAll();
    await (await this.#session?.catch(() => null))?.stop();
    await this.#serial(() => this.#halt());
    this.#updateWorker({ state: 'stopped', endpoint: null, error: null, activity: 'idle' });
  }

  #makeRequests(): HearthRequests {
    return {
      getStatus: async () => this.status,
      getCluster: async () => this.#clusterStatus(),
      addPeer: async ({ host, port }) => peerSummary(await this.#requireCluster().addPeer(host, port ?? DEFAULT_LINK_PORT)),
      showPairingCode: async () => {
        const code = await this.#requireCluster().pairing.open();
        this.#emit('cluster', this.#clusterStatus());
        return code;
      },
      joinCluster: async ({ code }) => {
        await this.#requireCluster().join(code);
        const status = this.#clusterStatus();
        this.#emit('cluster', status);
        return status;
      },
      listModelFiles: async () => listModelFiles([...(await this.#modelDirs()), this.uploadDir]),
      openModel: async ({ path: file }) => (await this.#requireSession()).open(path.resolve(file)),
      closeModel: async () => (await this.#requireSession()).close(),
      // Before the tools are ready there is no session service yet, only nothing open: the UI can show its drop zone.
      getSession: async () => (this.#llamaServer.tools ? (await this.#requireSession()).session : emptySession()),
      setPlanChoices: async (choices) => (await this.#requireSession()).choose(choices),
      startWarmup: async ({ maxBytesPerSecond }) => (await this.#requireSession()).startWarmup(maxBytesPerSecond),
      cancelWarmup: async () => (await this.#requireSession()).cancelWarmup(),
      loadModel: async () => (await this.#requireSession()).load(),
      unloadModel: async () => (await this.#requireSession()).unload(),
      moveModelBack: async () => (await this.#requireSession()).moveBack(),
      sendChat: (ask) => this.#chat.send(ask),
      stopChat: async ({ id }) => this.#chat.stop(id),
      getSettings: async () => this.#settingsView(),
      updateSettings: (change) => this.#updateSettings(change),
      clearCache: async ({ modelId }) => {
        await this.#requireWorker('clear the cache').service.cache.clear(modelId ?? undefined);
        return this.#publishSettings();
      },
    };
  }

  #clusterStatus(): ClusterStatus {
    return clusterStatus(this.#cluster, this.#settings.workerEnabled ? 'The worker is starting; the cluster appears once it serves.' : 'The worker is paused: resume it to see and use the cluster.');
  }

  #requireCluster(): ClusterNode {
    if (!this.#cluster) throw new HearthError('cluster-unavailable', this.#clusterStatus().unavailable ?? 'The cluster is not running.');
    return this.#cluster;
  }

  #requireWorker(action: string): RunningWorker {
    if (!this.#worker) throw new HearthError('worker-unavailable', `Cannot ${action} while the worker is ${this.#status.worker.state}: ${this.#settings.workerEnabled ? 'wait for it to start' : 'resume it first'}.`);
    return this.#worker;
  }

  async #requireSession(): Promise<ModelSessionService> {
    if (!this.#session) {
      const tools = await this.#llamaServer.builtTools();
      if (!tools) throw new HearthError('tools-not-ready', this.#status.llamaServer.error ?? 'llama-server is still being built (see its progress on the Cluster screen): open the model again once it is ready.');
      this.#session ??= this.#makeSession(tools);
    }
    return this.#session;
  }

  async #makeSession(tools: LlamaTools): Promise<ModelSessionService> {
    // Loaded on first use: a worker-only machine never needs the model modules.
    const { ModelSessionService } = await import('./model-session.js');
    const session = new ModelSessionService({
      tools,
      dataDir: this.#paths.dataDir,
      // The cluster node changes when the worker restarts (pause, open LAN): always this one's members and keys.
      members: {
        current: () => (this.#cluster ? membersOf(this.#cluster.peers(), this.#cluster.fingerprint) : { members: [], skipped: [] }),
        dial: (address, service, options) => this.#requireCluster().dial(address, service, options),
        // Published on every peer's arrival, change and departure (and the cluster's restart).
        onChange: (listener) => this.on('cluster', listener),
      },
      localDevices: async () => this.#status.worker.devices,
      api: { host: this.#options.apiHost ?? '127.0.0.1', port: this.#options.apiPort ?? DEFAULT_API_PORT, apiKey: this.#options.apiKey },
    });
    session.on('session', (view) => this.#emit('session', view));
    session.on('keepWarm', (keepWarm) => {
      this.#status = { ...this.#status, keepWarm };
      this.#emit('status', this.status);
    });
    this.#sessionMade = session;
    return session;
  }

  /** Where models sent from a browser are kept (the web transport writes them there). */
  get uploadDir(): string {
    return this.#options.uploadDir ?? path.join(this.#paths.dataDir, 'uploads');
  }

  #settingsView(): SettingsView {
    const cache = this.#worker?.service.cache.summary();
    return {
      cacheDir: cache?.dir ?? this.#tensorCacheDir(),
      cacheUsedBytes: cache?.usedBytes ?? 0,
      cacheMaxBytes: cache?.capBytes ?? 0,
      cacheMaxIsDefault: cache?.capIsDefault ?? true,
      models: cache?.models ?? [],
      modelDirs: this.#worker?.transfer.models.dirs ?? [],
      workerEnabled: this.#settings.workerEnabled,
      startAtLogin: this.#options.loginItem ? this.#options.loginItem.get() : null,
      openLan: this.#settings.openLan,
      keepWarm: this.#settings.keepWarm,
    };
  }

  #publishSettings(): SettingsView {
    const view = this.#settingsView();
    this.#emit('settings', view);
    return view;
  }

  async #updateSettings(change: SettingsChange): Promise<SettingsView> {
    if (change.startAtLogin !== undefined) {
      if (!this.#options.loginItem) throw new HearthError('not-supported', 'Start at login is set in the desktop app; for a headless box, run the worker as a service (see the README).');
      this.#options.loginItem.set(change.startAtLogin);
    }
    if (change.cacheMaxBytes !== undefined || change.modelDirs !== undefined) {
      const worker = this.#requireWorker('change the cache settings');
      await changeWorkerSettings({ cache: worker.service.cache, models: worker.transfer.models }, change);
    }
    const before = this.#settings;
    const next: AppSettings = { workerEnabled: change.workerEnabled ?? before.workerEnabled, openLan: change.openLan ?? before.openLan, keepWarm: change.keepWarm ?? before.keepWarm };
    if (next.keepWarm !== before.keepWarm) {
      await writeAppSettings(this.#paths.dataDir, next);
      this.#settings = next;
      await this.#applyKeepWarm();
    }
    if (next.workerEnabled !== before.workerEnabled || next.openLan !== before.openLan) {
      await writeAppSettings(this.#paths.dataDir, next);
      this.#settings = next;
      // Pausing stops the RPC server and withdraws this machine from the cluster; open LAN needs the RPC server on another address.
      await this.#serial(async () => {
        await this.#halt();
        if (next.workerEnabled) await this.#startWorker();
        else this.#updateWorker({ state: 'paused', endpoint: null, error: null, activity: 'idle' });
      });
    }
    return this.#publishSettings();
  }

  /** Keep-warm as the setting says; it runs in the coordinator, so turning it on starts one (once llama-server is built). */
  async #applyKeepWarm(): Promise<void> {
    if (this.#stopping) return;
    if (!this.#settings.keepWarm && !this.#sessionMade) return;
    if (!(await this.#llamaServer.builtTools())) return; // turned on again once it is
    (await this.#requireSession()).setKeepWarm(this.#settings.keepWarm);
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#lifecycle.then(job);
    this.#lifecycle = run.catch(() => undefined);
    return run;
  }

  async #startWorker(): Promise<void> {
    if (!this.#settings.workerEnabled) return this.#updateWorker({ state: 'paused', endpoint: null, error: null });
    try {
      const tools = this.#tools ?? (await ensureTools({
        paths: this.#paths,
        targets: WORKER_TARGETS,
        onProgress: (build) => this.#updateWorker({ state: 'building', build }),
      }));
      this.#tools = tools;
      if (this.#stopping) return;
      this.#updateWorker({ state: 'starting', build: null });
      await this.#launch(tools);
    } catch (error) {
      this.#updateWorker({ state: 'error', build: null, error: (error as Error).message });
    }
  }

  /** The model folders: the running worker's, else (paused, or still building) those it will start with. */
  async #modelDirs(): Promise<string[]> {
    if (this.#worker) return this.#worker.transfer.models.dirs;
    if (!this.#launched && this.#options.modelDirs) return this.#options.modelDirs;
    return loadModelDirs(this.#tensorCacheDir());
  }

  #tensorCacheDir(): string {
    return this.#options.tensorCacheDir ?? path.join(this.#paths.cacheDir, 'tensors');
  }

  async #launch(tools: LlamaTools): Promise<void> {
    const host = this.#options.workerHost ?? '127.0.0.1';
    const worker = await runWorker({
      tools,
      cacheRoot: this.#tensorCacheDir(),
      dataDir: this.#paths.dataDir,
      // The folders given at start are set once; a relaunch (pause, open LAN) keeps what Settings changed since.
      modelDirs: this.#launched ? undefined : this.#options.modelDirs,
      host,
      rpcHost: this.#settings.openLan ? '0.0.0.0' : undefined,
      rpcPort: this.#options.workerPort ?? DEFAULT_RPC_PORT,
      controlPort: this.#options.controlPort ?? DEFAULT_CONTROL_PORT,
    });
    this.#worker = worker;
    this.#launched = true;
    if (this.#stopping) return void (await this.#halt());
    const cluster = await ClusterNode.start({
      dataDir: this.#paths.dataDir,
      worker,
      release: tools.release,
      linkHost: '0.0.0.0',
      linkPort: this.#options.linkPort ?? DEFAULT_LINK_PORT,
      discovery: this.#options.discovery ?? true,
    });
    this.#cluster = cluster;
    worker.attachCluster(cluster);
    const publishCluster = () => this.#emit('cluster', this.#clusterStatus());
    for (const event of ['peer-up', 'peer-changed', 'peer-down'] as const) cluster.directory.on(event, publishCluster);
    publishCluster();
    const show = (status: WorkerServiceStatus) => {
      this.#status.rpcProtocol = status.rpcProtocol;
      this.#updateWorker({
        state: status.state,
        endpoint: status.state === 'stopped' ? null : status.endpoint,
        devices: status.devices,
        error: status.state === 'restarting' ? status.lastError : null,
      });
    };
    worker.service.on('status', show);
    show(worker.service.status);
    this.#watchActivity(worker);
    this.#publishSettings();
  }

  /** Stop the cluster node and the worker (pause, restart, shutdown). */
  async #halt(): Promise<void> {
    if (this.#activityTimer) clearInterval(this.#activityTimer);
    this.#activityTimer = null;
    const cluster = this.#cluster;
    const worker = this.#worker;
    this.#cluster = null;
    this.#worker = null;
    await cluster?.stop();
    await worker?.stop();
    if (cluster) this.#emit('cluster', this.#clusterStatus());
  }

  /** Serving: a coordinator's RPC connection is open; receiving: cache entries are arriving (a warm-up). */
  #watchActivity(worker: RunningWorker): void {
    // Bytes of unfinished uploads at the last read: a change since means entries are arriving. Per worker: a relaunch starts over.
    let lastIngested = -1;
    const read = (): void => {
      const cache = worker.service.cache.summary();
      const ingested = worker.transfer.ingests.list().reduce((sum, ingest) => sum + ingest.offset, 0);
      const receiving = lastIngested >= 0 && ingested !== lastIngested;
      lastIngested = ingested;
      const activity = cache.currentLoad ? 'serving' : receiving ? 'receiving' : 'idle';
      const { worker: now } = this.#status;
      if (now.activity !== activity || now.cache?.usedBytes !== cache.usedBytes || now.cache.capBytes !== cache.capBytes) {
        this.#updateWorker({ activity, cache: { usedBytes: cache.usedBytes, capBytes: cache.capBytes } });
      }
    };
    read();
    this.#activityTimer = setInterval(read, ACTIVITY_POLL_MS);
    this.#activityTimer.unref();
  }

  #updateWorker(change: Partial<WorkerStatus>): void {
    this.#status = { ...this.#status, worker: { ...this.#status.worker, ...change } };
    this.#emit('status', this.status);
  }

  #emit<E extends keyof HearthEvents>(event: E, payload: HearthEvents[E]): void {
    this.#events.emit(event, payload);
  }
}
