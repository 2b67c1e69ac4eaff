// Which names and origins may reach the web transport: the defence against DNS rebinding and
// cross-site requests, plus the address helpers they share.
import type http from 'node:http';
import net from 'node:net';

/** True when the `Host` header names this server by something DNS rebinding cannot forge. */
export function isAllowedHost(hostHeader: string | undefined, where: { port: number; listenHost: string; localAddress: string | undefined }): boolean {
  if (!hostHeader) return false;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(hostHeader);
  if (!match) return false;
  const name = (match[1] ?? match[2] ?? '').toLowerCase();
  if (Number(match[3] ?? '80') !== where.port) return false;
  const names = new Set(['localhost', bareAddress(where.listenHost).toLowerCase()]);
  if (where.localAddress) names.add(bareAddress(where.localAddress).toLowerCase());
  // A wildcard bind is not an address anyone can type; the socket's local address stands in for it.
  names.delete('0.0.0.0');
  names.delete('::');
  return names.has(name);
}

function bareAddress(address: string): string {
  const unbracketed = address.replace(/^\[(.*)\]$/, '$1');
  return unbracketed.startsWith('::ffff:') && net.isIPv4(unbracketed.slice(7)) ? unbracketed.slice(7) : unbracketed;
}

/** True when the host is localhost, ::1 or a 127.x address. */
export function isLoopback(host: string): boolean {
  const bare = bareAddress(host);
  return bare === 'localhost' || bare === '::1' || (net.isIPv4(bare) && bare.startsWith('127.'));
}

/** The listen host as it goes in a URL: wildcards become 127.0.0.1, IPv6 gets brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** True when the request carries no Origin, or one that matches its own Host and scheme (https on a TLS connection). */
export function isSameOrigin(req: http.IncomingMessage): boolean {
  // Browsers always send Origin on cross-site POSTs and WebSocket handshakes; tools send none.
  const origin = req.headers.origin;
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return origin === undefined || origin === `${scheme}://${req.headers.host ?? ''}`;
}
