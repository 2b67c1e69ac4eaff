// A real Hearth worker (supervised ggml-rpc-server + cache + control API) for tests, and a
// small client for its control API.
import type { CacheStats } from '../../src-main/core/cache/cache-stats.js';
import { ensureTools, type LlamaTools } from '../../src-main/core/native/tools.js';
import { runWorker, type RunningWorker } from '../../src-main/core/worker/run-worker.js';
import { eventually } from './expected-cache.js';
import { startLlamaServer, type Completion } from './llama-server.js';
import { scratchDir } from './models.js';

/** Start a worker on loopback with a fresh cache folder (or `cacheRoot`), on free ports. */
export async function startTestWorker(options: { cacheRoot?: string; capBytes?: number } = {}): Promise<RunningWorker & { cacheRoot: string }> {
  const cacheRoot = options.cacheRoot ?? scratchDir('hearth-cache-');
  const worker = await runWorker({
    tools: await ensureTools(),
    cacheRoot,
    capBytes: options.capBytes,
    host: '127.0.0.1',
    rpcPort: 0,
    controlPort: 0,
    initialBackoffMs: 100,
  });
  return Object.assign(worker, { cacheRoot });
}

/** Call the control API: JSON in, JSON (or nothing) out, with the status code. */
export async function control(baseUrl: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(new URL(route, baseUrl), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/** One load of a model through a worker: its greedy completion, the worker's stats for it, and llama-server's log. */
export interface WorkerLoad {
  completion: Completion;
  load: CacheStats;
  logs: string;
}

/** Load `model` through `worker` with llama-server (all layers offloaded), complete `prompt` greedily, and read the load's stats. */
export async function loadThroughWorker(tools: LlamaTools, worker: RunningWorker, model: string, prompt: string, tokens: number, env: NodeJS.ProcessEnv = tools.env): Promise<WorkerLoad> {
  const loadsBefore = worker.service.cache.summary().loads;
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env, model, args: ['--rpc', worker.service.status.endpoint, '-ngl', '99'] });
  let completion: Completion;
  try {
    completion = await server.complete(prompt, tokens);
  } finally {
    await server.stop();
  }
  // The load's numbers are complete once the server has seen the client go.
  const load = await eventually(() => {
    const { lastLoad, loads } = worker.service.cache.summary();
    return loads > loadsBefore ? lastLoad ?? undefined : undefined;
  }, 10_000, 'the RPC client to disconnect');
  return { completion, load, logs: server.logs() };
}
