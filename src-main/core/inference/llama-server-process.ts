// One llama-server for one model load: started on loopback, followed through its load, stopped
// cleanly. Its end, whenever it comes, becomes a state (failed or stopped), never an exception
// that could take Hearth down.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { HearthError } from '../base/errors.js';
import type { LlamaTools } from '../native/tools.js';
import { freePort } from '../net/free-port.js';
import { httpRequest } from '../net/http-request.js';
import { killOnExit } from './exit-reaper.js';
import { failureReason, type ProcessExit } from './failure-reason.js';
import type { LoadState } from './load-state.js';
import { isChildStateLine, isReadyStateLine, nextLoadProgress, START_PROGRESS } from './load-progress.js';
import { describePeers, failureCounts, involvedPeers, peerLogLines, rpcBytes, type RpcPeer } from './rpc-peers.js';

/** How to start llama-server for a load. */
export interface LlamaServerOptions {
  tools: Pick<LlamaTools, 'llamaServer' | 'cwd' | 'env'>;
  /** The GGUF file. */
  model: string;
  /** The name llama-server reports for it (its `--alias`). */
  modelId: string;
  /** The planner's flags (`--rpc …`, `--tensor-split …`, `-ngl …`, `-c …`). */
  args?: readonly string[];
  /** The RPC servers behind `--rpc`: their links' bytes count as progress, and a failure names the one at fault. */
  peers?: readonly RpcPeer[];
  /** A load that makes no progress for this long fails (default LOAD_STALL_MS). */
  stallTimeoutMs?: number;
  /** Every line it prints. */
  onLine?: (line: string) => void;
}

const HOST = '127.0.0.1';
const LOG_LINES_KEPT = 60;
/**
 * A load fails once llama-server has printed nothing and no byte has crossed an RPC link for this
 * long. A big model takes minutes over 1 Gbit, but every tensor moves bytes or prints progress;
 * what stays silent longest is one large tensor read from a worker's cache or this machine's disk
 * (a few GB at 100 MB/s). A peer that stops answering is caught sooner by the link's heartbeat.
 */
export const LOAD_STALL_MS = 60_000;
const HEALTH_POLL_MS = 100;
const CHILD_EXIT_COMMAND = 'cmd_router_to_child:exit';
/** Lines of the logs a load failure's message carries (llama-server's, then each involved worker's). */
const MESSAGE_LINES = 40;
const NOTHING_PRINTED = '(llama-server printed nothing)';
// Observed: with `--rpc`, llama-server asks every RPC server for its devices while it reads its
// arguments, before its first log line; a server that never answers leaves it silent.
const NOTHING_PRINTED_RPC = '(llama-server printed nothing: it prints its first line only once every RPC server has answered its first request)';

/** A llama-server process; emits `state` (a LoadState) on every change. */
export class LlamaServerProcess extends EventEmitter {
  /** Where it listens, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Sent as `Authorization: Bearer` on every request: it keeps other local programs out. */
  readonly apiKey: string;
  readonly pid: number | undefined;
  /** Settles when the process has ended, however it ended. */
  readonly exited: Promise<ProcessExit>;
  /** Settles once its end has become a state (failed, with the involved workers' logs, or stopped). */
  readonly finished: Promise<void>;
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #ready: Promise<void>;
  readonly #peers: readonly RpcPeer[];
  /** Each peer's link failures before this load, so that only this load's count. */
  readonly #failuresAtStart: number[];
  #progressAt = Date.now();
  #bytesSeen = 0;
  #state: LoadState = { state: 'starting' };
  #stopping = false;
  /** Set when Hearth ends a load that took too long: the exit is then a failure, not a stop. */
  #timedOut: string | null = null;
  /** Ends the wait between two health checks: set while #waitReady waits. */
  #wakeHealthCheck: (() => void) | null = null;

  /** Use spawnLlamaServer. */
  constructor(child: ChildProcess, url: string, apiKey: string, options: LlamaServerOptions) {
    super();
    this.#child = child;
    this.url = url;
    this.apiKey = apiKey;
    this.pid = child.pid;
    this.#peers = options.peers ?? [];
    this.#failuresAtStart = failureCounts(this.#peers);
    this.#bytesSeen = rpcBytes(this.#peers);
    const onLine = (line: string): void => this.#onLine(line, options.onLine);
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
    // A write to a dead child's stdin would otherwise be an unhandled 'error'.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': only then has every line it printed been read, the last ones say why it ended.
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        this.#remember(`spawn error: ${error.message}`);
        resolve({ code: null, signal: null });
      });
    });
    this.finished = this.exited.then((exit) => this.#onExit(exit));
    this.#ready = this.#waitReady(options.stallTimeoutMs ?? LOAD_STALL_MS);
    this.#ready.catch(() => undefined); // the outcome is also a state; callers may never ask
  }

  get state(): LoadState {
    return this.#state;
  }

  /** Resolves once it serves; rejects with a HearthError carrying its last log lines. */
  whenReady(): Promise<void> {
    return this.#ready;
  }

  /** The last lines it printed (state messages left out), oldest first. */
  logTail(): string[] {
    return [...this.#tail];
  }

  /** SIGTERM, then SIGKILL if it has not ended in time; resolves once it has ended. */
  async stop(killAfterMs = 5_000): Promise<void> {
    if (this.#state.state === 'stopped' || this.#state.state === 'failed') return void (await this.exited);
    this.#stopping = true;
    // As a router's child it waits on stdin after SIGTERM: the router's exit command releases it
    // (tools/server/server-models.cpp, CMD_ROUTER_TO_CHILD_EXIT).
    this.#child.stdin?.write(`${CHILD_EXIT_COMMAND}\n`);
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), killAfterMs);
    await this.exited;
    clearTimeout(timer);
  }

  #onLine(line: string, onLine: ((line: string) => void) | undefined): void {
    onLine?.(line);
    this.#progressAt = Date.now();
    // As a router's child it says when it serves: check at once instead of at the next poll.
    if (isReadyStateLine(line)) this.#wakeHealthCheck?.();
    const state = this.#state;
    if (state.state === 'starting' || state.state === 'loading') {
      const progress = nextLoadProgress(line, state.state === 'loading' ? state.progress : START_PROGRESS);
      if (progress) this.#setState({ state: 'loading', progress });
    }
    if (!isChildStateLine(line)) this.#remember(line);
  }

  #remember(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > LOG_LINES_KEPT) this.#tail.shift();
  }

  async #onExit(exit: ProcessExit): Promise<void> {
    const { state } = this.#state;
    if (state === 'failed' || state === 'stopped') return;
    if (this.#stopping && !this.#timedOut) return this.#setState({ state: 'stopped' });
    const during = state === 'ready' ? 'serve' : 'load';
    const tail = this.logTail();
    const base = this.#timedOut ?? failureReason(exit, tail, during);
    // What the links know comes first: it is the cause, llama-server's end its consequence.
    const peers = describePeers(this.#peers, this.#failuresAtStart, tail);
    const reason = peers ? `${peers}; ${base}` : base;
    // Every involved log: llama-server's own (or why it is empty), then each involved worker's.
    const own = tail.length > 0 ? tail : [this.#peers.length > 0 ? NOTHING_PRINTED_RPC : NOTHING_PRINTED];
    const workers = this.#peers.length > 0 ? await peerLogLines(involvedPeers(this.#peers, this.#failuresAtStart, tail)) : [];
    this.#setState({ state: 'failed', during, reason, logTail: [...own, ...workers] });
  }

  async #waitReady(stallMs: number): Promise<void> {
    const finished = this.finished.then(() => 'ended' as const);
    for (;;) {
      if (this.#state.state === 'failed' || this.#state.state === 'stopped') break;
      if (await this.#healthy()) {
        if (this.#state.state === 'starting' || this.#state.state === 'loading') this.#setState({ state: 'ready', url: this.url });
        return;
      }
      if (this.#stalledFor() > stallMs) {
        const step = this.#state.state === 'loading' ? this.#state.progress.step : START_PROGRESS.step;
        const silent = this.#peers.length > 0 ? 'it printed nothing and no byte crossed a link to the workers' : 'it printed nothing';
        this.#timedOut = `llama-server made no progress for ${Math.round(stallMs / 1000)} s while loading (${step}): ${silent}`;
        await this.stop();
        break;
      }
      await Promise.race([finished, new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, HEALTH_POLL_MS);
        this.#wakeHealthCheck = () => {
          clearTimeout(timer);
          resolve();
        };
      })]);
      this.#wakeHealthCheck = null;
    }
    await this.finished;
    const state = this.#state;
    if (state.state === 'failed') {
      throw new HearthError('model-load-failed', `${state.reason}. Its last output:\n${state.logTail.slice(-MESSAGE_LINES).join('\n')}`);
    }
    throw new HearthError('model-load-cancelled', 'The model was unloaded before it finished loading.');
  }

  /** Milliseconds since llama-server last printed a line or a byte crossed an RPC link. */
  #stalledFor(): number {
    const bytes = rpcBytes(this.#peers);
    if (bytes !== this.#bytesSeen) {
      this.#bytesSeen = bytes;
      this.#progressAt = Date.now();
    }
    return Date.now() - this.#progressAt;
  }

  async #healthy(): Promise<boolean> {
    try {
      // 503 while loading; /health needs no API key (tools/server/server.cpp).
      return (await httpRequest(`${this.url}/health`, { timeoutMs: 2_000 })).status === 200;
    } catch {
      return false; // not listening yet
    }
  }

  #setState(state: LoadState): void {
    this.#state = state;
    this.emit('state', state);
  }
}

/** Start llama-server for a model on a free loopback port; follow it with `state` and `whenReady()`. */
export async function spawnLlamaServer(options: LlamaServerOptions): Promise<LlamaServerProcess> {
  // A worker-first build has no llama-server until a load asks for it (ensureTools with every target).
  if (!existsSync(options.tools.llamaServer)) {
    throw new HearthError('llama-server-not-built', `llama-server is not built yet (${options.tools.llamaServer}): run "hearth doctor --build", or load the model again to build it.`);
  }
  const port = await freePort(HOST);
  const apiKey = crypto.randomBytes(24).toString('base64url');
  // Ours come last: llama.cpp's parser lets a later flag win, so the planner cannot move the
  // listener off loopback by accident. --metrics: the gateway passes /metrics on (Prometheus counters, nothing of the prompts).
  const args = [...(options.args ?? []), '-m', options.model, '--alias', options.modelId, '--host', HOST, '--port', String(port), '--metrics'];
  const child = spawn(options.tools.llamaServer, args, {
    cwd: options.tools.cwd,
    env: childEnv(options.tools.env, apiKey),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  killOnExit(child);
  return new LlamaServerProcess(child, `http://${HOST}:${port}`, apiKey, options);
}

function childEnv(base: NodeJS.ProcessEnv, apiKey: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    // LLAMA_ARG_* would silently change a load Hearth planned (host, port, layers...).
    if (!name.startsWith('LLAMA_ARG_')) env[name] = value;
  }
  // In the environment, not argv: other users can read a process's arguments, not its environment.
  env.LLAMA_API_KEY = apiKey;
  // An abort (an RPC server lost, say) would print a debugger backtrace: dozens of lines that push
  // the one saying why out of the log tail. ggml reads only the variable's presence (ggml.c).
  env.GGML_NO_BACKTRACE = '1';
  // Run as a router's child (tools/server/server-models.cpp, server_child): it then reports its
  // load progress on stdout and, once loaded, exits when its stdin closes, that is when Hearth
  // dies, even by SIGKILL. Only the variable's presence matters.
  env.LLAMA_SERVER_ROUTER_PORT = '0';
  return env;
}
