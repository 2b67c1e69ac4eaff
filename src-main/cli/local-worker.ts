import path from 'node:path';
import { HearthError } from '../core/base/errors.js';
import { hearthPaths } from '../core/base/paths.js';
import { WorkerClient } from '../core/worker-api/worker-client.js';
import { readWorkerClaim } from '../core/worker/worker-claim.js';
import type { FlagValue } from './command.js';

/** The cache folder a command means: --cache-dir, or the default one. */
export function cacheRootFlag(flag: FlagValue): string {
  return typeof flag === 'string' ? path.resolve(flag) : path.join(hearthPaths().cacheDir, 'tensors');
}

/** The control API of this machine's worker at `controlUrl`. */
export function localWorkerClient(controlUrl: string): WorkerClient {
  // No idle limit: this machine's own worker, and a verify answers only once the whole cache is read.
  return new WorkerClient({ name: `This machine's worker (${controlUrl})`, baseUrl: controlUrl, idleTimeoutMs: null, unreachableHint: 'is it still running?' });
}

/** The control API of the worker serving this cache folder on this machine, if one runs. */
export async function localWorker(cacheRoot: string): Promise<WorkerClient | undefined> {
  const claim = await readWorkerClaim(cacheRoot);
  return claim?.controlUrl ? localWorkerClient(claim.controlUrl) : undefined;
}

/** Like `localWorker`, but a worker is required: say how to start one. */
export async function requireLocalWorker(cacheRoot: string, why: string): Promise<WorkerClient> {
  const worker = await localWorker(cacheRoot);
  if (!worker) throw new HearthError('no-worker', `${why} needs this machine's worker: start it first (hearth worker, hearth serve, or the app).`);
  return worker;
}
