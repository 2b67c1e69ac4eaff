import { setTimeout as sleep } from 'node:timers/promises';
import { locateTools, openBuild } from '../../core/native/tools.js';
import { PeerDirectory, type PeerState } from '../../core/peers/peer-directory.js';
import { HearthError } from '../../core/base/errors.js';
import type { PeerView } from '../../core/peers/cluster-node.js';
import type { Command } from '../command.js';
import { cacheRootFlag, localWorker } from '../local-worker.js';
import { formatBytes } from '../format.js';

/** `hearth peers [--wait SECONDS]`: the Hearth machines seen on the LAN, and whether they can be used. */
export const peersCommand: Command = {
  name: 'peers',
  summary: 'the Hearth machines seen on the LAN and their state',
  usage: 'hearth peers [--wait SECONDS] [--add HOST:PORT] [--cache-dir D] [--json]   (default: 3 seconds of listening)',
  options: { wait: { type: 'string' }, add: { type: 'string' }, 'cache-dir': { type: 'string' } },
  async run({ flags, out }) {
    const worker = await localWorker(cacheRootFlag(flags['cache-dir']));
    if (typeof flags.add === 'string') {
      if (!worker) throw new HearthError('no-worker', 'Adding a peer needs this machine\'s worker: start it first (hearth worker, hearth serve, or the app).');
      const peer = await worker.call('addPeer', { address: flags.add });
      out.result({ peer }, () => `Added ${describe(peer)}`);
      return 0;
    }
    if (worker) {
      // The running worker has been listening all along, and knows manual peers and membership.
      const { peers } = await worker.call('peers', {});
      out.result({ peers }, () => describeAll(peers));
      return 0;
    }
    const seconds = flags.wait === undefined ? 3 : Number(flags.wait);
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600) throw new Error('--wait takes a number of seconds from 0 to 600');
    const location = await locateTools();
    const rpcProtocol = location.built.length > 0 ? (await openBuild(location.dir)).rpcProtocol : 'unknown (tools not built yet)';
    // Any id that is not a real machine's: a listener lists every advertiser, itself included.
    const directory = new PeerDirectory({ selfId: 'hearth-peers-command', ours: { release: location.source.release, rpcProtocol } });
    await directory.start();
    await sleep(seconds * 1000);
    const peers = directory.peers();
    await directory.stop();
    out.result({ peers }, () => describeAll(peers));
    return 0;
  },
};

function describeAll(peers: (PeerState | PeerView)[]): string {
  if (peers.length === 0) return 'No Hearth machine answered. Check that they run Hearth and that mDNS (UDP 5353) is not blocked, or add them by address (hearth peers --add host:7436).';
  return peers.map(describe).join('\n');
}

function describe(peer: PeerState | PeerView): string {
  const { advert } = peer;
  const devices = advert.devices.map((device) => `${device.name} ${formatBytes(device.freeBytes)} free`).join(', ');
  return `${advert.name} (${peer.addresses[0]}:${advert.linkPort})  Hearth ${advert.version}, llama.cpp ${advert.release}, cluster ${advert.fingerprint}${'member' in peer ? (peer.member ? ' (member)' : ' (not paired)') : ''}${peer.online ? '' : ', offline'}${peer.compatible ? '' : `\n  incompatible: ${peer.reason}`}\n  ${devices}; cache ${formatBytes(advert.cacheUsedBytes)} of ${formatBytes(advert.cacheCapBytes)}`;
}
