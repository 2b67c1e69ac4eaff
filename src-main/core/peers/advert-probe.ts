import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { HearthError } from '../base/errors.js';
import { decodeAdvert, encodeAdvert, type PeerAdvert } from './discovery/advert.js';
import { openLinkStream } from './link/link-client.js';
import { readLine } from './link/link-protocol.js';

/** The identity anyone may use on a secure link, for one thing only: reading the advert. */
export const PUBLIC_IDENTITY = 'public:v1';
/** The in-process link service that answers with this machine's advert. */
export const ADVERT_SERVICE = 'advert';
/**
 * The public identity's key is no secret: the advert is what mDNS tells the whole LAN anyway.
 * It lets a machine added by address (no multicast) be described before it is paired.
 */
export const PUBLIC_PSK = createHash('sha256').update('hearth public advert v1').digest();

/** Answer an advert request: the same TXT record mDNS carries, as one JSON line. */
export function answerAdvert(socket: TLSSocket, advert: PeerAdvert): void {
  socket.on('error', () => socket.destroy());
  socket.end(`${JSON.stringify(encodeAdvert(advert))}\n`);
}

/** Ask the Hearth at host:port for its advert through its secure link (checked like an mDNS one). */
export async function probeAdvert(host: string, port: number): Promise<PeerAdvert> {
  const socket = await openLinkStream({ host, port, identity: PUBLIC_IDENTITY, psk: PUBLIC_PSK, service: ADVERT_SERVICE, timeoutMs: 5_000 });
  try {
    const line = await readLine(socket, 4096);
    const decoded = decodeAdvert(JSON.parse(line) as unknown, [host]);
    if ('error' in decoded) throw new HearthError('bad-advert', `${host}:${port} sent a broken advert: ${decoded.error}`);
    return decoded;
  } finally {
    socket.destroy();
  }
}
