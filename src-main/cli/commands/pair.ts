import { usageError, type Command } from '../command.js';
import { cacheRootFlag, requireLocalWorker } from '../local-worker.js';

/** `hearth pair <code> | --show | --leave`: join a cluster, show this cluster's code, or leave. */
export const pairCommand: Command = {
  name: 'pair',
  summary: 'join a cluster with a code shown by a member, or show this cluster\'s code',
  usage: 'hearth pair <code> [--peer host:port] | --show | --leave | --revoke MACHINE [--cache-dir D] [--json]',
  options: { show: { type: 'boolean' }, leave: { type: 'boolean' }, revoke: { type: 'string' }, peer: { type: 'string', multiple: true }, 'cache-dir': { type: 'string' } },
  async run({ positionals, flags, out }) {
    const code = positionals[0];
    const modes = [code !== undefined, flags.show === true, flags.leave === true, typeof flags.revoke === 'string'].filter(Boolean).length;
    if (modes !== 1 || positionals.length > 1) throw usageError(`Usage: ${pairCommand.usage}`);
    const worker = await requireLocalWorker(cacheRootFlag(flags['cache-dir']), 'Pairing');
    if (flags.show) {
      const { code: shown, expiresAt } = await worker.call('openPairing', {});
      out.result({ code: shown, expiresAt: new Date(expiresAt).toISOString() }, () =>
        `Pairing code: ${shown}\nOn the other machine, run: hearth pair ${shown}\nIt works once, until ${new Date(expiresAt).toLocaleTimeString()}.`);
    } else if (typeof flags.revoke === 'string') {
      const result = await worker.call('revokeMember', { peer: flags.revoke });
      out.result(result, () =>
        `Revoked ${flags.revoke}: the cluster has a new key (${result.fingerprint}).` +
        (result.updated.length ? `\nUpdated: ${result.updated.join(', ')}.` : '') +
        (result.missed.length ? `\nNot reached (they must pair again): ${result.missed.join(', ')}.` : ''));
    } else if (flags.leave) {
      const { fingerprint } = await worker.call('leaveCluster', {});
      out.result({ fingerprint }, () => `This machine left its cluster; it is now alone in cluster ${fingerprint}.`);
    } else {
      const peers = (flags.peer as string[] | undefined) ?? [];
      const joined = await worker.call('joinCluster', { code: code!, peers });
      out.result(joined, () => `Paired with ${joined.memberName}: this machine is now in cluster ${joined.fingerprint}.`);
    }
    return 0;
  },
};
