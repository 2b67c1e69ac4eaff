// What a transport may do, by how it carries requests. Pairing codes and Open LAN hand over the
// cluster: a pairing code lets a machine join it, Open LAN puts the GPU's RPC server itself on the
// network. Over plain HTTP across the LAN, whoever reads the traffic has the code as it is shown,
// and the access token to ask for more, so there neither is shown, accepted or switched on. The
// kind comes from the transport (the socket a request arrived on), never from the request.
import { HearthError } from '../base/errors.js';
import type { ClusterStatus, HearthEvents, HearthRequests } from './contract.js';
import type { HearthHost, TransportHost, TransportKind } from './host.js';

/** Whether a transport of this kind can be read by others on the LAN. */
export function isReadableOnTheLan(kind: TransportKind): boolean {
  return kind === 'lan-http';
}

/** `host` as a transport of `kind` may have it: over a LAN-readable one, no pairing code in or out, and no Open LAN. */
export function guardedHost(host: HearthHost, kind: TransportKind): HearthHost {
  if (!isReadableOnTheLan(kind)) return host;
  const { requests } = host;
  const guarded: HearthRequests = {
    ...requests,
    showPairingCode: () => refuse('show a pairing code'),
    joinCluster: () => refuse('join a cluster with a pairing code'),
    getCluster: async () => withoutCode(await requests.getCluster()),
    updateSettings: (change) => (change.openLan === undefined ? requests.updateSettings(change) : refuse('switch Open LAN')),
  };
  return {
    requests: guarded,
    on<E extends keyof HearthEvents>(event: E, listener: (payload: HearthEvents[E]) => void): () => void {
      if (event !== 'cluster') return host.on(event, listener);
      return host.on('cluster', (cluster) => (listener as (payload: ClusterStatus) => void)(withoutCode(cluster)));
    },
  };
}

/** A TransportHost for `host`: each kind gets its guarded view, made once. */
export function transportHost(host: HearthHost): TransportHost {
  const views = new Map<TransportKind, HearthHost>();
  return {
    over(kind) {
      let view = views.get(kind);
      if (!view) views.set(kind, (view = guardedHost(host, kind)));
      return view;
    },
  };
}

function withoutCode(cluster: ClusterStatus): ClusterStatus {
  return { ...cluster, pairing: null };
}

async function refuse(what: string): Promise<never> {
  throw new HearthError('insecure-transport', `Cannot ${what} over plain HTTP on the network: anyone on it could read it. Open Hearth over https:// (the address hearth serve --host prints, after checking its certificate's fingerprint) or on this machine.`);
}
