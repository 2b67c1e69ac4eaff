import path from 'node:path';
import { HearthError } from '../core/base/errors.js';
import { answerJson, httpRequest } from '../core/net/http-request.js';
import { hearthPaths } from '../core/base/paths.js';
import { readWorkerClaim } from '../core/worker/worker-claim.js';
import type { FlagValue } from './command.js';

/** A call to a worker's control API: JSON in, JSON out, errors as HearthErrors. */
export type ControlCall = <T>(method: string, route: string, body?: unknown) => Promise<T>;

/** The cache folder a command means: --cache-dir, or the default one. */
export function cacheRootFlag(flag: FlagValue): string {
  return typeof flag === 'string' ? path.resolve(flag) : path.join(hearthPaths().cacheDir, 'tensors');
}

/** A caller for the control API at `controlUrl`. */
export function controlCaller(controlUrl: string): ControlCall {
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    // No idle limit: this machine's own worker, and a verify answers only once the whole cache is read.
    const answer = await httpRequest(new URL(route, controlUrl), { method, json: body, idleTimeoutMs: null }).catch((cause: unknown) => {
      throw new HearthError('worker-unreachable', `The worker did not answer at ${controlUrl}: ${(cause as Error).message}`);
    });
    const json = answerJson(answer) as (T & { error?: string }) | null;
    if (!answer.ok) throw new HearthError('worker-refused', json?.error ?? `The worker answered ${answer.status}`);
    if (json === null) throw new HearthError('worker-refused', `The worker's answer to ${route} is not JSON: is it a compatible Hearth version?`);
    return json;
  };
}

/** The control API of the worker serving this cache folder on this machine, if one runs. */
export async function localWorker(cacheRoot: string): Promise<ControlCall | undefined> {
  const claim = await readWorkerClaim(cacheRoot);
  return claim?.controlUrl ? controlCaller(claim.controlUrl) : undefined;
}

/** Like `localWorker`, but a worker is required: say how to start one. */
export async function requireLocalWorker(cacheRoot: string, why: string): Promise<ControlCall> {
  const call = await localWorker(cacheRoot);
  if (!call) throw new HearthError('no-worker', `${why} needs this machine's worker: start it first (hearth worker, hearth serve, or the app).`);
  return call;
}
