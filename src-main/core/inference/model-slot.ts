// The one model Hearth serves, replaceable: load, unload, switch. Requests lease the backend
// while they run, so an unload can let them finish (for a while) and then end them cleanly.
import { EventEmitter } from 'node:events';
import { HearthError } from '../base/errors.js';
import type { LoadFailure, LoadProgress, LoadState } from './load-state.js';
import { spawnLlamaServer, type LlamaServerOptions, type LlamaServerProcess } from './llama-server-process.js';
import { START_PROGRESS } from './load-progress.js';
import { modelIdFor } from './model-id.js';
import type { RpcPeer } from './rpc-peers.js';

/** What to load: a GGUF file and the planner's llama-server flags. */
export interface ModelLoad {
  model: string;
  /** Defaults to the file name without `.gguf`. */
  modelId?: string;
  args?: readonly string[];
  /** Extra environment for this load's llama-server (e.g. the RPC client's hash manifest). */
  env?: NodeJS.ProcessEnv;
  /** Hears each line this load's llama-server prints. */
  onLine?: (line: string) => void;
  /** The workers behind `--rpc`: progress while it loads, and the one at fault when it fails. */
  peers?: readonly RpcPeer[];
}

/** What the slot holds now. */
export type SlotStatus =
  | { state: 'empty' }
  | { state: 'loading'; modelId: string; progress: LoadProgress }
  | { state: 'ready'; modelId: string }
  | { state: 'unloading'; modelId: string }
  | ({ state: 'failed'; modelId: string } & LoadFailure);

/** A running request's hold on the ready backend. */
export interface BackendLease {
  modelId: string;
  url: string;
  apiKey: string;
  /** Aborted (with a HearthError as reason) when the backend goes away under the request. */
  signal: AbortSignal;
  /** Why the backend went away, once its process has ended; null if it still runs after a moment. */
  failure(): Promise<LoadFailure | null>;
  release(): void;
}

/** How the slot starts llama-server. */
export interface ModelSlotOptions {
  tools: LlamaServerOptions['tools'];
  /** How long an unload lets running requests finish before ending them. */
  drainMs?: number;
  /** See LlamaServerOptions.stallTimeoutMs. */
  stallTimeoutMs?: number;
}

interface Loaded {
  modelId: string;
  server: LlamaServerProcess | null;
  requests: Set<AbortController>;
  unloading: boolean;
  /** Called when the last running request ends (while an unload waits for it). */
  onDrained?: () => void;
  /** Set when it failed before a server process existed. */
  failure?: LoadFailure;
}

/** The replaceable backend behind the gateway; emits `status` (a SlotStatus) on every change. */
export class ModelSlot extends EventEmitter {
  readonly #options: ModelSlotOptions;
  #loaded: Loaded | null = null;
  /** Why the model is about to be loaded again (a heal), until that load begins: requests hear "loading", not "failed". */
  #reloading: { modelId: string; why: string } | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ModelSlotOptions) {
    super();
    this.#options = options;
  }

  get status(): SlotStatus {
    const reloading = this.#reloading;
    if (reloading) return { state: 'loading', modelId: reloading.modelId, progress: { step: reloading.why, fraction: null } };
    const loaded = this.#loaded;
    if (!loaded) return { state: 'empty' };
    const { modelId } = loaded;
    if (loaded.failure) return { state: 'failed', modelId, ...loaded.failure };
    if (loaded.unloading) return { state: 'unloading', modelId };
    const state: LoadState = loaded.server?.state ?? { state: 'starting' };
    switch (state.state) {
      case 'starting':
        return { state: 'loading', modelId, progress: START_PROGRESS };
      case 'loading':
        return { state: 'loading', modelId, progress: state.progress };
      case 'ready':
        return { state: 'ready', modelId };
      case 'failed':
        return { state: 'failed', modelId, during: state.during, reason: state.reason, logTail: state.logTail };
      case 'stopped':
        return { state: 'unloading', modelId };
    }
  }

  /** The llama-server process of the current model, if any (for diagnostics). */
  get server(): LlamaServerProcess | null {
    return this.#loaded?.server ?? null;
  }

  /** Say the model is being loaded again, and why, until the next `load` or `unload` begins (a heal re-plans first). */
  reloading(why: string): void {
    const modelId = this.#loaded?.modelId;
    if (!modelId) return;
    this.#reloading = { modelId, why };
    this.#changed();
  }

  /** Unload whatever is loaded, then load `load`; resolves once it serves, rejects with the reason it failed. */
  async load(load: ModelLoad): Promise<void> {
    const modelId = load.modelId ?? modelIdFor(load.model);
    const server = await this.#serialized(async () => {
      // A heal's "reloading" stands while the failed server goes, until the new one is on its way.
      await this.#unloadNow();
      const loaded: Loaded = { modelId, server: null, requests: new Set(), unloading: false };
      this.#loaded = loaded;
      this.#reloading = null;
      this.#changed();
      try {
        const tools = load.env ? { ...this.#options.tools, env: { ...this.#options.tools.env, ...load.env } } : this.#options.tools;
        loaded.server = await spawnLlamaServer({ tools, model: load.model, modelId, args: load.args, peers: load.peers, stallTimeoutMs: this.#options.stallTimeoutMs, onLine: load.onLine });
      } catch (error) {
        loaded.failure = { during: 'load', reason: `llama-server could not be started: ${(error as Error).message}`, logTail: [] };
        this.#changed();
        throw error;
      }
      loaded.server.on('state', (state: LoadState) => {
        // A crash ends the requests at once, with the reason, instead of leaving them to time out.
        if (state.state === 'failed') abortAll(loaded, new HearthError('model-failed', state.reason));
        if (this.#loaded === loaded) this.#changed();
      });
      this.#changed();
      return loaded.server;
    });
    // Outside the queue: an unload must be able to cancel a load that is still going.
    await server.whenReady();
  }

  /** Stop serving: running requests get `drainMs` to finish, then end with an error; resolves once llama-server has exited. */
  unload(): Promise<void> {
    this.#reloading = null;
    return this.#serialized(() => this.#unloadNow());
  }

  /** Hold the ready backend for one request, or null when there is none (see `status` for why). */
  lease(): BackendLease | null {
    const loaded = this.#loaded;
    const server = loaded?.server;
    if (!loaded || !server || loaded.unloading || server.state.state !== 'ready') return null;
    const controller = new AbortController();
    loaded.requests.add(controller);
    const release = (): void => {
      loaded.requests.delete(controller);
      if (loaded.requests.size === 0) loaded.onDrained?.();
    };
    const failure = async (): Promise<LoadFailure | null> => {
      // The connection drops a moment before the process's exit is seen.
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([server.exited.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(resolve, 1_000, false)))]);
      // Its end becomes a state only once the involved workers' logs are read (a few seconds at most).
      if (gone) await server.finished;
      clearTimeout(timer);
      const state = server.state;
      if (!gone) return null;
      if (state.state === 'failed') return { during: state.during, reason: state.reason, logTail: state.logTail };
      return { during: 'serve', reason: 'it was unloaded', logTail: [] };
    };
    return { modelId: loaded.modelId, url: server.url, apiKey: server.apiKey, signal: controller.signal, failure, release };
  }

  async #unloadNow(): Promise<void> {
    const loaded = this.#loaded;
    if (!loaded) return;
    // Being replaced after a loss (a heal): nothing it runs can finish, so it goes at once.
    const lost = this.#reloading !== null;
    loaded.unloading = true;
    this.#changed();
    if (loaded.server?.state.state === 'ready' && !lost) await this.#drain(loaded);
    abortAll(loaded, lost
      ? new HearthError('model-unloaded', `The model "${loaded.modelId}" lost a part of the cluster while this request ran (${this.#reloading!.why.replace(/^reloading: /, '')}); it is being loaded again: retry in a moment.`)
      : new HearthError('model-unloaded', `The model "${loaded.modelId}" was unloaded while this request ran.`));
    await loaded.server?.stop(lost ? 0 : undefined);
    if (this.#loaded === loaded) this.#loaded = null;
    this.#changed();
  }

  #drain(loaded: Loaded): Promise<void> {
    const drainMs = this.#options.drainMs ?? 10_000;
    if (loaded.requests.size === 0 || drainMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      loaded.onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #changed(): void {
    this.emit('status', this.status);
  }
}

function abortAll(loaded: Loaded, reason: HearthError): void {
  for (const controller of loaded.requests) controller.abort(reason);
}
