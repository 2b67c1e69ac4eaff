import { EventEmitter } from 'node:events';
import type { DeviceInfo } from '../../shared/devices.js';
import { parseServerCacheEvent } from '../cache/cache-events.js';
import type { CacheStore } from '../cache/cache-store.js';
import { sweepLeftovers } from '../cache/entry-files.js';
import type { LlamaTools } from '../native/tools.js';
import { freePort } from '../net/free-port.js';
import { listDevices } from '../native/devices.js';
import { startRpcServer, type RpcServer } from './rpc-server.js';
import { Supervisor, type SupervisorState } from './supervisor.js';

/** The worker as its owners see it. */
export interface WorkerServiceStatus {
  state: 'starting' | 'serving' | 'restarting' | 'stopped';
  /** host:port of the RPC server (stable across restarts). */
  endpoint: string;
  rpcProtocol: string;
  devices: DeviceInfo[];
  restarts: number;
  /** Why the last run ended or failed to start, with what the server printed. */
  lastError: string | null;
}

export interface WorkerServiceOptions {
  tools: LlamaTools;
  cache: CacheStore;
  /** Listen address: loopback, so only the secure link (or this machine) reaches the server. */
  host: string;
  /** 0 picks a free port once; restarts reuse it so clients keep a stable address. */
  port: number;
  threads?: number;
  /** Supervisor timing (tests shorten it). */
  initialBackoffMs?: number;
  /** How often to refresh the devices' free memory while serving. */
  deviceRefreshMs?: number;
}

/** Free memory changes as models load and unload: ask ggml again this often. */
const DEVICE_REFRESH_MS = 60_000;
/** Lines of the server's output kept across restarts, for a coordinator to explain a failure. */
const LOG_LINES_KEPT = 40;

/**
 * This machine's RPC worker: `ggml-rpc-server` with Hearth's cache, supervised (restarted
 * with backoff after a crash), its cache events applied to the store. Emits `status`.
 */
export class WorkerService extends EventEmitter {
  readonly cache: CacheStore;
  readonly #supervisor: Supervisor<RpcServer>;
  readonly #tools: LlamaTools;
  readonly #refreshTimer: NodeJS.Timeout;
  #status: WorkerServiceStatus;
  #devicesCheckedAt = 0;
  #lastPid: number | null = null;
  /** Server events are applied one after another, in the order printed. */
  #events: Promise<void> = Promise.resolve();
  readonly #log: string[] = [];

  private constructor(options: WorkerServiceOptions, port: number) {
    super();
    this.cache = options.cache;
    this.#tools = options.tools;
    this.#refreshTimer = setInterval(() => void this.refreshDevices().catch(() => undefined), options.deviceRefreshMs ?? DEVICE_REFRESH_MS);
    this.#refreshTimer.unref();
    this.#status = {
      state: 'starting',
      endpoint: `${options.host}:${port}`,
      rpcProtocol: options.tools.rpcProtocol,
      devices: [],
      restarts: 0,
      lastError: null,
    };
    this.#supervisor = new Supervisor({
      initialBackoffMs: options.initialBackoffMs,
      launch: async () => {
        // A server killed mid-write leaves temporary files: clear its own (uploads may be writing theirs).
        if (this.#lastPid !== null) await sweepLeftovers(this.cache.dir, this.#lastPid);
        const server = await startRpcServer({
          tools: options.tools,
          host: options.host,
          port,
          cacheRoot: this.cache.root,
          threads: options.threads,
          onLine: (line) => this.#onLine(line),
        });
        this.#lastPid = server.pid;
        return server;
      },
    });
    this.#supervisor.on('state', (state: SupervisorState) => this.#onState(state));
    this.#supervisor.on('running', (server: RpcServer) => this.#update({ devices: server.devices, rpcProtocol: server.rpcProtocol ?? this.#status.rpcProtocol }));
  }

  /** Start the worker; resolves once it serves, or rejects with why its first start failed. */
  static async start(options: WorkerServiceOptions): Promise<WorkerService> {
    const port = options.port || (await freePort(options.host));
    const service = new WorkerService(options, port);
    await service.#supervisor.start();
    if (service.#status.state !== 'serving') {
      const error = service.#status.lastError ?? 'the RPC server did not start';
      await service.stop();
      throw new Error(error);
    }
    return service;
  }

  get status(): WorkerServiceStatus {
    return structuredClone(this.#status);
  }

  /** The running server's process id (for tests and diagnostics), or null between restarts. */
  get pid(): number | null {
    return this.#supervisor.current?.pid ?? null;
  }

  /** Ask ggml for the served devices' memory now (a separate short process; the server keeps serving). */
  async refreshDevices(): Promise<DeviceInfo[]> {
    // Each refresh starts a process that loads every backend: at most one every few seconds.
    if (Date.now() - this.#devicesCheckedAt < 5_000) return this.#status.devices;
    this.#devicesCheckedAt = Date.now();
    const served = new Set(this.#status.devices.map((device) => device.name));
    const fresh = (await listDevices(this.#tools)).filter((device) => served.has(device.name));
    if (fresh.length > 0 && this.#status.state === 'serving') {
      this.#update({ devices: fresh.map(({ name, description, totalBytes, freeBytes }) => ({ name, description, totalBytes, freeBytes })) });
    }
    return this.#status.devices;
  }

  /** The last lines the RPC server printed, across restarts (each restart noted), oldest first; per-tensor cache events left out. */
  logTail(): string[] {
    return [...this.#log];
  }

  async stop(): Promise<void> {
    clearInterval(this.#refreshTimer);
    await this.#supervisor.stop();
    await this.cache.flush();
  }

  #remember(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
  }

  #onLine(line: string): void {
    if (!line.startsWith('hearth-cache ')) this.#remember(line);
    const event = parseServerCacheEvent(line);
    if (!event) return;
    this.#events = this.#events
      .then(() => this.cache.onServerEvent(event))
      .then(
        () => void this.emit('cache', event),
        // The cache's bookkeeping failing (a file it cannot delete) must not take the worker down.
        (error: unknown) => void this.emit('warning', `cache: ${(error as Error).message}`),
      );
  }

  #onState(state: SupervisorState): void {
    switch (state.state) {
      case 'running':
        return this.#update({ state: 'serving', lastError: null });
      case 'restarting':
        this.#remember(`(Hearth: ggml-rpc-server ${state.reason.split(':')[0]}; restarting it in ${state.inMs} ms)`);
        return this.#update({ state: 'restarting', restarts: this.#supervisor.restarts, lastError: state.reason });
      case 'starting':
        return this.#update({ state: 'starting' });
      case 'stopped':
        return this.#update({ state: 'stopped' });
    }
  }

  #update(change: Partial<WorkerServiceStatus>): void {
    this.#status = { ...this.#status, ...change };
    this.emit('status', this.status);
  }
}
