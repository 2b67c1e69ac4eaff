// Runs a real llama-server on a free loopback port for a test, and talks to its /completion API.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** How to start llama-server: the binary, where and with what environment (from `ensureTools`), and the model. */
export interface LlamaServerOptions {
  llamaServer: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  model: string;
  /** Extra arguments after the defaults (`-c 256 -t 2`); later flags win in llama.cpp's parser. */
  args?: readonly string[];
  /** How long to wait for /health to answer 200. */
  readyTimeoutMs?: number;
}

/** A greedy completion: the text and the token ids the server generated. */
export interface Completion {
  content: string;
  tokens: number[];
}

/** A running llama-server. */
export interface LlamaServer {
  url: string;
  port: number;
  pid: number;
  /** Greedy (temperature 0, top-k 1), no prompt cache, end-of-sequence ignored so the length is fixed. */
  complete(prompt: string, nPredict: number): Promise<Completion>;
  /** The last lines the server printed (stdout and stderr), for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

const LOG_LINES_KEPT = 200;

/** Starts llama-server and resolves once /health answers 200; on failure the error carries the log tail. */
export async function startLlamaServer(opts: LlamaServerOptions): Promise<LlamaServer> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['-m', opts.model, '--host', '127.0.0.1', '--port', String(port), '-c', '256', '-t', '2', ...(opts.args ?? [])];
  const child = spawn(opts.llamaServer, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });

  const lines: string[] = [];
  const collect = (data: Buffer): void => {
    lines.push(...data.toString('utf8').split('\n').filter((line) => line.length > 0));
    if (lines.length > LOG_LINES_KEPT) lines.splice(0, lines.length - LOG_LINES_KEPT);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const logs = (): string => lines.join('\n');
  let exited = false;
  // Not events.once: it would reject on 'error', and a failed spawn may never emit 'exit'.
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      lines.push(`spawn error: ${error.message}`);
      resolve();
    });
  }).then(() => {
    exited = true;
  });

  const stop = async (): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exit;
    clearTimeout(killTimer);
  };

  try {
    await waitForHealth(url, opts.readyTimeoutMs ?? 60_000, () => exited);
  } catch (error) {
    await stop();
    throw new Error(`llama-server did not become ready (${(error as Error).message}). Last log lines:\n${logs()}`, { cause: error });
  }

  const complete = async (prompt: string, nPredict: number): Promise<Completion> => {
    const body = { prompt, n_predict: nPredict, temperature: 0, top_k: 1, seed: 1, cache_prompt: false, ignore_eos: true, return_tokens: true };
    const response = await fetch(`${url}/completion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST /completion answered ${response.status}: ${await response.text()}\n${logs()}`);
    const json = (await response.json()) as { content: string; tokens: number[] };
    return { content: json.content, tokens: json.tokens };
  };

  return { url, port, pid: child.pid!, complete, logs, stop };
}

/** Polls GET /health (503 while loading) until 200, the process exits, or the deadline passes. */
async function waitForHealth(url: string, timeoutMs: number, hasExited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error('the process exited');
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no 200 from ${url}/health within ${timeoutMs} ms`);
}

/** Asks the OS for a free port on 127.0.0.1 by listening on port 0, then frees it for the server. */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the probe port');
  return address.port;
}

/** The greedy completion of `model` loaded on this machine alone (no RPC, no offload): what a split load must reproduce. */
export async function localCompletion(tools: Pick<LlamaServerOptions, 'llamaServer' | 'cwd' | 'env'>, model: string, prompt: string, nPredict: number): Promise<Completion> {
  const server = await startLlamaServer({ llamaServer: tools.llamaServer, cwd: tools.cwd, env: tools.env, model, args: ['-ngl', '0'] });
  try {
    return await server.complete(prompt, nPredict);
  } finally {
    await server.stop();
  }
}
