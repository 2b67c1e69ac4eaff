// A real Hearth worker (supervised ggml-rpc-server + cache + control API) for tests, and a
// small client for its control API.
import { ensureTools } from '../../src-main/core/native/tools.js';
import { runWorker, type RunningWorker } from '../../src-main/core/worker/run-worker.js';
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
