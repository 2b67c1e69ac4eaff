import path from 'node:path';
import { HearthError } from '../../core/errors.js';
import { hearthPaths } from '../../core/paths.js';
import { readWorkerClaim } from '../../core/worker/worker-claim.js';
import { usageError, type Command } from '../command.js';

/** `hearth pair <code> | --show | --leave`: join a cluster, show this cluster's code, or leave. */
export const pairCommand: Command = {
  name: 'pair',
  summary: 'join a cluster with a code shown by a member, or show this cluster\'s code',
  usage: 'hearth pair <code> [--peer host:port] | --show | --leave [--cache-dir D] [--json]',
  options: { show: { type: 'boolean' }, leave: { type: 'boolean' }, peer: { type: 'string', multiple: true }, 'cache-dir': { type: 'string' } },
  async run({ positionals, flags, out }) {
    const code = positionals[0];
    const modes = [code !== undefined, flags.show === true, flags.leave === true].filter(Boolean).length;
    if (modes !== 1 || positionals.length > 1) throw usageError(`Usage: ${pairCommand.usage}`);
    const call = await localWorker(typeof flags['cache-dir'] === 'string' ? path.resolve(flags['cache-dir']) : path.join(hearthPaths().cacheDir, 'tensors'));
    if (flags.show) {
      const { code: shown, expiresAt } = await call<{ code: string; expiresAt: number }>('POST', 'v1/pairing');
      out.result({ code: shown, expiresAt: new Date(expiresAt).toISOString() }, () =>
        `Pairing code: ${shown}\nOn the other machine, run: hearth pair ${shown}\nIt works once, until ${new Date(expiresAt).toLocaleTimeString()}.`);
    } else if (flags.leave) {
      const { fingerprint } = await call<{ fingerprint: string }>('POST', 'v1/pairing/leave');
      out.result({ fingerprint }, () => `This machine left its cluster; it is now alone in cluster ${fingerprint}.`);
    } else {
      const peers = (flags.peer as string[] | undefined) ?? [];
      const joined = await call<{ memberName: string; fingerprint: string }>('POST', 'v1/pairing/join', { code, peers });
      out.result(joined, () => `Paired with ${joined.memberName}: this machine is now in cluster ${joined.fingerprint}.`);
    }
    return 0;
  },
};

/** A caller of the control API of the worker running on this machine (pairing lives there). */
async function localWorker(cacheRoot: string) {
  const claim = await readWorkerClaim(cacheRoot);
  if (!claim?.controlUrl) throw new HearthError('no-worker', 'Pairing needs this machine\'s worker: start it first (hearth worker, hearth serve, or the app).');
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const response = await fetch(new URL(route, claim.controlUrl), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new HearthError('pairing-refused', json.error ?? `The worker answered ${response.status}`);
    return json;
  };
}
