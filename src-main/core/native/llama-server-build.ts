// llama-server for the app and `hearth serve`: a fresh machine builds the worker's
// ggml-rpc-server first (it serves within a minute), then llama-server in the background, at
// low priority, so that Load is ready by the time someone opens a model.
import { EventEmitter } from 'node:events';
import type { LlamaServerToolStatus } from '../../shared/devices.js';
import { findBundledTools } from './bundled-tools.js';
import { ensureTools, locateTools, type LlamaTools, type ToolsOptions } from './tools.js';

/** Builds llama-server once, when asked; emits `status` (a LlamaServerToolStatus) on every change. */
export class LlamaServerBuild extends EventEmitter {
  readonly #options: Omit<ToolsOptions, 'targets' | 'onProgress'>;
  #status: LlamaServerToolStatus = { state: 'waiting', build: null, error: null };
  #tools: LlamaTools | null = null;
  #running: Promise<LlamaTools> | null = null;

  constructor(options: Omit<ToolsOptions, 'targets' | 'onProgress'> = {}) {
    super();
    this.#options = options;
  }

  get status(): LlamaServerToolStatus {
    return { ...this.#status };
  }

  /** Every tool, llama-server included, once built; null before. */
  get tools(): LlamaTools | null {
    return this.#tools;
  }

  /** The tools, opened, when llama-server needs no compiling (built already, or bundled); null while it has still to be built. */
  async builtTools(): Promise<LlamaTools | null> {
    if (this.#tools) return this.#tools;
    const built = (await findBundledTools(this.#options.env ?? process.env)) !== null || (await locateTools(this.#options)).built.includes('llama-server');
    return built ? this.ensure() : null;
  }

  /** Build llama-server unless it is there (one build, however often asked; a failed one is tried again on the next call). */
  ensure(): Promise<LlamaTools> {
    this.#running ??= this.#build();
    return this.#running;
  }

  async #build(): Promise<LlamaTools> {
    try {
      const tools = await ensureTools({ ...this.#options, background: true, onProgress: (build) => this.#set({ state: 'building', build, error: null }) });
      this.#tools = tools;
      this.#set({ state: 'ready', build: null, error: null });
      return tools;
    } catch (error) {
      this.#running = null;
      this.#set({ state: 'error', build: null, error: `llama-server could not be built, so no model can be loaded here: ${(error as Error).message}` });
      throw error;
    }
  }

  #set(status: LlamaServerToolStatus): void {
    this.#status = status;
    this.emit('status', this.status);
  }
}
