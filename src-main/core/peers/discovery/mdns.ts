// mDNS advertise and browse for `_hearth._tcp`, on bonjour-service (multicast-dns underneath).
// What bonjour-service does, and why the code below works around it:
// - each Bonjour instance binds its own UDP socket on 0.0.0.0:5353 with SO_REUSEADDR, so it
//   shares the port with Avahi, mDNSResponder and other Hearth processes; EADDRINUSE/EACCES
//   mean another program holds 5353 exclusively (or policy forbids it): fatal for mDNS;
// - its multicast-dns instance emits 'error' with no listener attached (a crash) and it throws
//   from failed sends unless given an error callback: both are caught here;
// - a service is announced at once, then again after 1 s, 3 s, 9 s... (up to an hour); goodbye
//   (all records with TTL 0) is sent only by unpublish, never by destroy;
// - it cannot change a published TXT record, so an update swaps in a fresh instance under the
//   same name and drops the old one without a goodbye: listeners see a TXT change, not a flap;
// - its browser queries once and then keeps every service forever (PTR TTL 8 hours, no
//   expiry): liveness is the directory's job, and a periodic rescan (a fresh browser) finds
//   peers that came back after the directory dropped them.
import type Bonjour from 'bonjour-service';
import type { Service } from 'bonjour-service';
import type { EventEmitter } from 'node:events';
import { HearthError } from '../../base/errors.js';
import { decodeAdvert, encodeAdvert, type PeerAdvert } from './advert.js';

/** The DNS-SD service type: `_hearth._tcp.local`. */
export const SERVICE_TYPE = 'hearth';
const SERVICE_PTR = `_${SERVICE_TYPE}._tcp.local`;

/** Where and how to speak mDNS; the defaults are the real network. */
export interface MdnsOptions {
  /** IPv4 address of the interface to use (all interfaces when left out). */
  host?: string;
  /** UDP port of mDNS (5353); tests in their own namespaces may use another. */
  mdnsPort?: number;
  /** Recoverable trouble (a send failed, a malformed packet, a broken advert). */
  onWarning?: (message: string) => void;
  /** mDNS stopped working after it started (it did not restart itself). */
  onError?: (error: HearthError) => void;
}

/** A running advertisement. */
export interface Advertisement {
  /** Re-announce with new contents (coalesced to one announcement per `minUpdateIntervalMs`). */
  update(advert: PeerAdvert): void;
  /** Send goodbyes and close the socket. */
  stop(): Promise<void>;
}

/** A running browse. */
export interface Browsing {
  /** Forget what was seen and ask the LAN again (every `rescanMs` on its own). */
  rescan(): void;
  stop(): Promise<void>;
}

/** Announce `advert` as `<id>._hearth._tcp.local` on `port`, until stopped. */
export async function advertise(options: MdnsOptions & { advert: PeerAdvert; port: number; minUpdateIntervalMs?: number }): Promise<Advertisement> {
  const { port } = options;
  const minUpdateIntervalMs = options.minUpdateIntervalMs ?? 1000;
  // The caller may mutate its advert later: what is on the air is kept as encoded text.
  let published = { id: '', txt: '' };
  const publish = (bonjour: Bonjour, advert: PeerAdvert) => {
    const txt = encodeAdvert(advert);
    published = { id: advert.id, txt: JSON.stringify(txt) };
    bonjour.publish({
      name: advert.id,
      type: SERVICE_TYPE,
      protocol: 'tcp',
      port,
      // One host name per machine id, so two Hearth processes on one host never claim each other's A records.
      host: `hearth-${advert.id}.local`,
      txt,
      // Names are random UUIDs; bonjour-service's probe only console.logs a clash and gives up silently.
      probe: false,
      // multicast-dns here is IPv4 only; link-local IPv6 addresses without a scope are of no use.
      disableIPv6: true,
    });
  };

  let current = await openBonjour(options);
  publish(current, options.advert);
  let lastAnnounce = Date.now();
  let pending: PeerAdvert | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain = Promise.resolve();
  let stopped = false;

  const swap = async () => {
    timer = null;
    const next = pending;
    pending = null;
    if (!next || stopped) return;
    if (next.id === published.id && JSON.stringify(encodeAdvert(next)) === published.txt) return;
    let fresh: Bonjour;
    try {
      fresh = await openBonjour(options);
    } catch (error) {
      options.onWarning?.(`could not re-announce this machine on the LAN: ${(error as Error).message}`);
      return;
    }
    if (stopped) return destroy(fresh);
    const old = current;
    // A new id is a different service: the old one says goodbye; otherwise a silent hand-over.
    if (next.id !== published.id) await unpublish(old);
    current = fresh;
    publish(current, next);
    lastAnnounce = Date.now();
    await destroy(old);
  };

  return {
    update(next) {
      if (stopped) return;
      pending = structuredClone(next);
      if (timer) return;
      const wait = Math.max(0, lastAnnounce + minUpdateIntervalMs - Date.now());
      timer = setTimeout(() => { chain = chain.then(swap); }, wait);
      timer.unref();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await chain;
      await unpublish(current);
      await destroy(current);
    },
  };
}

/** Report every valid Hearth advert seen (again) and every goodbye, until stopped. */
export async function browse(options: MdnsOptions & {
  onUp: (advert: PeerAdvert, addresses: string[]) => void;
  onDown: (id: string) => void;
  rescanMs?: number;
}): Promise<Browsing> {
  const bonjour = await openBonjour(options);
  const mdns = mdnsOf(bonjour);

  const seen = (service: Service) => {
    // The packet's source is a proven route to the peer; its A records may list unreachable interfaces.
    const addresses = [...new Set([service.referer?.address, ...(service.addresses ?? [])].filter((a): a is string => !!a))];
    const result = decodeAdvert(service.txt, addresses);
    const from = addresses[0] ?? 'an unknown address';
    if ('error' in result) return options.onWarning?.(`ignored the Hearth advert from ${from}: ${result.error}`);
    if (result.id !== service.name.toLowerCase()) return options.onWarning?.(`ignored the Hearth advert from ${from}: its service name is not its id`);
    options.onUp(result, addresses);
  };
  const start = () => {
    const browser = bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
    browser.on('up', seen);
    browser.on('txt-update', seen);
    browser.on('srv-update', seen);
    return browser;
  };
  // Goodbyes are read straight from the wire: a fresh browser (after a rescan) would not know
  // the leaving service yet and would drop its goodbye.
  const onResponse = (packet: { answers?: Record<string, unknown>[]; additionals?: Record<string, unknown>[] }) => {
    for (const record of [...(packet.answers ?? []), ...(packet.additionals ?? [])]) {
      if (record.type !== 'PTR' || record.ttl !== 0 || typeof record.name !== 'string' || typeof record.data !== 'string') continue;
      if (record.name.toLowerCase() !== SERVICE_PTR) continue;
      const id = record.data.split('.')[0];
      if (id) options.onDown(id.toLowerCase());
    }
  };
  mdns.on('response', onResponse);

  let browser = start();
  const rescan = () => {
    browser.stop();
    browser.removeAllListeners();
    browser = start();
  };
  const timer = setInterval(rescan, options.rescanMs ?? 10_000);
  timer.unref();
  return {
    rescan,
    async stop() {
      clearInterval(timer);
      browser.stop();
      mdns.off('response', onResponse);
      await destroy(bonjour);
    },
  };
}

/** A Bonjour instance whose socket is bound, with its errors routed to the callbacks. */
async function openBonjour(options: MdnsOptions): Promise<Bonjour> {
  const where = options.host ? `on ${options.host}` : 'on all interfaces';
  const mdnsPort = options.mdnsPort ?? 5353;
  const socketOptions = {
    port: mdnsPort,
    // A socket bound to a unicast address receives no multicast on Linux: bind the wildcard
    // and pick the interface through the membership instead.
    ...(options.host ? { interface: options.host, bind: '0.0.0.0' } : {}),
  };
  // Loaded on first use, not with this module: a command given its peers by address never needs it.
  const { Bonjour: BonjourClass } = await import('bonjour-service');
  // The options go to multicast-dns as they are; bonjour-service types them as a service config.
  const bonjour = new BonjourClass(socketOptions as Partial<Bonjour.ServiceConfig>, (error: Error) => {
    options.onWarning?.(`an mDNS packet could not be sent ${where}: ${error.message}`);
  });
  const mdns = mdnsOf(bonjour);
  const fatal = (error: NodeJS.ErrnoException) => new HearthError('mdns-unavailable',
    error.code === 'EADDRINUSE'
      ? `Another program holds UDP port ${mdnsPort} (mDNS) for itself, so peers cannot be found automatically ${where}: stop it, or add peers by address.`
      : `mDNS cannot start ${where} (${error.message}): peers cannot be found automatically; add them by address.`,
    { cause: error });
  mdns.on('warning', (error: Error) => options.onWarning?.(`mDNS ${where}: ${error.message}`));
  // multicast-dns may emit one bind failure twice, so the listener stays for good.
  let starting: ((error?: HearthError) => void) | null = null;
  const ready = new Promise<void>((resolve, reject) => { starting = (error) => (error ? reject(error) : resolve()); });
  mdns.on('error', (error: NodeJS.ErrnoException) => {
    const settle = starting;
    starting = null;
    if (settle) settle(fatal(error));
    else options.onError?.(fatal(error));
  });
  mdns.once('ready', () => starting?.());
  try {
    await ready;
  } catch (error) {
    await destroy(bonjour).catch(() => undefined);
    throw error;
  }
  return bonjour;
}

// bonjour-service keeps its multicast-dns instance private, yet that instance emits 'error'
// (which crashes a process with no listener) and the raw responses goodbyes are read from.
function mdnsOf(bonjour: Bonjour): EventEmitter {
  const mdns = (bonjour as unknown as { server?: { mdns?: EventEmitter } }).server?.mdns;
  if (!mdns) throw new Error('bonjour-service changed: its multicast-dns instance is no longer at .server.mdns');
  return mdns;
}

function unpublish(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => bonjour.unpublishAll(() => resolve()));
}

function destroy(bonjour: Bonjour): Promise<void> {
  return new Promise((resolve) => bonjour.destroy(() => resolve()));
}
