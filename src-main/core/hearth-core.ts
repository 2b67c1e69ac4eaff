import { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import type { HearthEvents, HearthRequests, MachineStatus, WorkerStatus } from './api/contract.js';
import type { HearthHost } from './api/host.js';
import { hearthPaths, type HearthPaths } from './paths.js';
import { ensureTools, locateTools, type LlamaTools } from './native/tools.js';
import { hearthVersion } from './app-root.js';
import { ClusterNode, DEFAULT_LINK_PORT } from './peers/cluster-node.js';
import { DEFAULT_CONTROL_PORT, DEFAULT_RPC_PORT, runWorker, type RunningWorker } from './worker/run-worker.js';
import type { WorkerServiceStatus } from './worker/worker-service.js';

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
}

/** The core a shell hosts (Electron main or `hearth serve`): this machine's worker and its status. */
export class HearthCore implements HearthHost {
  readonly requests: HearthRequests;
  readonly #events = new EventEmitter();
  readonly #paths: HearthPaths;
  readonly #options: HearthCoreOptions;
  #status: MachineStatus;
  #worker: RunningWorker | null = null;
  #cluster: ClusterNode | null = null;
  #stopping = false;

  private constructor(options: HearthCoreOptions, llamaRelease: string) {
    this.#options = options;
    this.#paths = options.paths ?? hearthPaths();
    this.#status = {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      hearthVersion: hearthVersion(),
      llamaRelease,
      rpcProtocol: null,
      worker: { state: 'starting', endpoint: null, devices: [], build: null, error: null },
    };
    this.requests = { getStatus: async () => this.status };
  }

  /** Create the core and start the worker in the background (building the tools first if needed). */
  static async start(options: HearthCoreOptions = {}): Promise<HearthCore> {
    const location = await locateTools({ paths: options.paths });
    const core = new HearthCore(options, location.source.release);
    void core.#startWorker();
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
      if (worker.state === 'error' || worker.state === 'stopped') throw new Error(worker.error ?? `worker ${worker.state}`);
      await new Promise<void>((resolve) => {
        const off = this.on('status', () => {
          off();
          resolve();
        });
      });
    }
  }

  /** Stop the worker; the core can be dropped afterwards. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#cluster?.stop();
    await this.#worker?.stop();
    this.#updateWorker({ state: 'stopped', endpoint: null, error: null });
  }

  async #startWorker(): Promise<void> {
    try {
      const tools = await ensureTools({
        paths: this.#paths,
        onProgress: (build) => this.#updateWorker({ state: 'building', build }),
      });
      if (this.#stopping) return;
      this.#updateWorker({ state: 'starting', build: null });
      await this.#launch(tools);
    } catch (error) {
      this.#updateWorker({ state: 'error', build: null, error: (error as Error).message });
    }
  }

  async #launch(tools: LlamaTools): Promise<void> {
    const worker = await runWorker({
      tools,
      cacheRoot: this.#options.tensorCacheDir ?? path.join(this.#paths.cacheDir, 'tensors'),
      host: this.#options.workerHost ?? '127.0.0.1',
      rpcPort: this.#options.workerPort ?? DEFAULT_RPC_PORT,
      controlPort: this.#options.controlPort ?? DEFAULT_CONTROL_PORT,
    });
    this.#worker = worker;
    if (this.#stopping) return void (await worker.stop());
    this.#cluster = await ClusterNode.start({
      dataDir: this.#paths.dataDir,
      worker,
      release: tools.release,
      linkHost: '0.0.0.0',
      linkPort: this.#options.linkPort ?? DEFAULT_LINK_PORT,
      discovery: this.#options.discovery ?? true,
    });
    worker.attachCluster(this.#cluster);
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
  }

  #updateWorker(change: Partial<WorkerStatus>): void {
    this.#status = { ...this.#status, worker: { ...this.#status.worker, ...change } };
    this.#events.emit('status', this.status);
  }
}
