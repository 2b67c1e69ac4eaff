import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { DeviceInfo } from '../../shared/devices.js';
import { HearthError } from '../base/errors.js';
import type { LlamaTools } from '../native/tools.js';
import { isPortFree, waitForPort } from '../net/free-port.js';
import { physicalCores } from './cpu-cores.js';

export interface RpcServerOptions {
  tools: LlamaTools;
  /** Address to listen on; loopback unless the user opened the worker to the LAN. */
  host: string;
  port: number;
  /** Folder for llama.cpp's tensor cache (files go to `<cacheRoot>/rpc/`). */
  cacheRoot: string;
  /** Threads of its CPU device (default: one per physical core, see cpu-cores.ts). */
  threads?: number;
  startTimeoutMs?: number;
  /** Every line the server prints (its cache events among them). */
  onLine?: (line: string) => void;
}

/** A running `ggml-rpc-server`. */
export interface RpcServer {
  endpoint: string;
  rpcProtocol: string | null;
  devices: DeviceInfo[];
  pid: number;
  /** Settles when the process ends, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines it printed, to explain a failure. */
  logTail(): string[];
  stop(): Promise<void>;
}

/** Start `ggml-rpc-server` with the tensor cache on and wait until it accepts connections. */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { tools, host, port } = options;
  // Otherwise another program on the port would answer our readiness check in the worker's place.
  if (!(await isPortFree(host, port))) {
    throw new HearthError('port-in-use', `Port ${port} on ${host} is already in use by another program: stop it, or give the worker another port (--rpc-port).`);
  }
  // --exit-with-stdin (Hearth's patch): the server ends when Hearth does, even after a SIGKILL.
  const args = ['-H', host, '-p', String(port), '-c', '--exit-with-stdin', '-t', String(options.threads && options.threads > 0 ? options.threads : physicalCores())];
  // llama.cpp puts the cache in $LLAMA_CACHE/rpc.
  const child = spawn(tools.rpcServer, args, { cwd: tools.cwd, env: { ...tools.env, LLAMA_CACHE: options.cacheRoot }, stdio: ['pipe', 'pipe', 'pipe'] });

  const tail: string[] = [];
  const devices: DeviceInfo[] = [];
  let rpcProtocol: string | null = null;
  let inDevices = false;
  const onLine = (line: string) => {
    options.onLine?.(line);
    if (line.startsWith('hearth-')) return; // events are not log lines
    tail.push(line);
    if (tail.length > 40) tail.shift();
    const version = /Starting RPC server v(\d+\.\d+\.\d+)/.exec(line);
    if (version) rpcProtocol = version[1]!;
    if (/^Devices:/.test(line)) inDevices = true;
    else if (inDevices) {
      const device = /^\s+(\S+): (.*) \((\d+) MiB, (\d+) MiB free\)$/.exec(line);
      if (device) devices.push({ name: device[1]!, description: device[2]!, totalBytes: Number(device[3]) * 2 ** 20, freeBytes: Number(device[4]) * 2 ** 20 });
      else inDevices = false;
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);

  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    child.once('error', () => {
      running = false;
      resolve({ code: null, signal: null });
    });
  });

  const stop = async () => {
    if (!running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitForPort(host, port, options.startTimeoutMs ?? 30_000, () => running);
  } catch (cause) {
    await stop();
    throw new HearthError('worker-failed', `The RPC worker (ggml-rpc-server) did not start on ${host}:${port}: ${(cause as Error).message}. Its last output:\n${tail.join('\n')}`, { cause });
  }
  return { endpoint: `${host}:${port}`, rpcProtocol, devices, pid: child.pid!, exited, logTail: () => [...tail], stop };
}
