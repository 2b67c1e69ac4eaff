// Opening streams to member peers' services as this machine: the one place that knows how a
// member proves who it is on the link.
import type tls from 'node:tls';
import type { ClusterIdentity } from '../cluster/cluster-identity.js';
import { openLinkStream } from './link-client.js';
import { linkPsk, memberIdentity } from './link-keys.js';

/** Where a peer's secure link listens. */
export interface LinkAddress {
  host: string;
  port: number;
}

/** Opens one stream to `service` (`rpc`, `control`, the heartbeat's `beat`) on the peer at `address`, as a member of this machine's cluster. */
export type LinkDialer = (address: LinkAddress, service: string, options?: { timeoutMs?: number }) => Promise<tls.TLSSocket>;

/** A dialer that presents `identity()` as it is at each dial (a rekey takes effect at the next stream). */
export function memberDialer(identity: () => ClusterIdentity): LinkDialer {
  return (address, service, options = {}) => {
    const current = identity();
    return openLinkStream({ ...address, identity: memberIdentity(current.deviceId), psk: linkPsk(current.clusterKey), service, timeoutMs: options.timeoutMs });
  };
}
