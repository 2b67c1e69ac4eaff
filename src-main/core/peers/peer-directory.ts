// Every Hearth peer this machine knows of: those mDNS finds and those the user added by
// address, with whether each can work with us and whether it is reachable right now.
// mDNS says when a peer arrives or says goodbye; a peer that vanishes silently (machine off,
// process killed, cable out) is noticed by TCP checks of its secure-link port.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { HearthError } from '../base/errors.js';
import { compatibility, type EngineVersions, type PeerAdvert } from './discovery/advert.js';
import { browse as mdnsBrowse, type Browsing } from './discovery/mdns.js';

/** What the directory knows about one peer. */
export interface PeerState {
  advert: PeerAdvert;
  /** Where it can be reached, best first. */
  addresses: string[];
  /** 'manual' once the user added it by address (it then stays listed while offline). */
  source: 'mdns' | 'manual';
  compatible: boolean;
  /** Why it is not compatible, for the user; null when it is. */
  reason: string | null;
  online: boolean;
  /** When it was last heard from or reached (clock milliseconds). */
  lastSeenMs: number;
}

/** Events: a peer arrived (or came back), changed, or left. */
export interface PeerDirectoryEvents {
  'peer-up': [PeerState];
  'peer-changed': [PeerState];
  'peer-down': [PeerState];
  /** Something recoverable went wrong (a broken advert, mDNS trouble). */
  warning: [string];
}

/** Time and repetition, injectable so tests drive them. */
export interface DirectoryClock {
  now(): number;
  /** Call `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

/** What the directory needs; everything but `selfId` and `ours` has a real default. */
export interface PeerDirectoryOptions {
  /** This machine's id: its own adverts are ignored. */
  selfId: string;
  /** This machine's engine versions, to judge compatibility. */
  ours: EngineVersions;
  /** The mDNS source (real mDNS by default); null for manual peers only. */
  browse?: typeof mdnsBrowse | null;
  /** IPv4 address of the interface mDNS uses (all when left out). */
  host?: string;
  /** Ask a manual peer for its advert (the secure link provides the real one). */
  probe?: (host: string, port: number) => Promise<PeerAdvert>;
  /** Whether host:port accepts a connection now (a TCP connect with a short timeout by default). */
  check?: (host: string, port: number) => Promise<boolean>;
  clock?: DirectoryClock;
  checkIntervalMs?: number;
  /** Failed checks in a row after which a peer is down. */
  failuresToDrop?: number;
}

interface Entry extends PeerState {
  failures: number;
  busy: boolean;
  /** Where the user said it is, for manual peers: checked and probed there. */
  manual: { host: string; port: number } | null;
}

/** Peers seen by mDNS or added by hand, kept up to date; emits peer-up/-changed/-down. */
export class PeerDirectory extends EventEmitter<PeerDirectoryEvents> {
  readonly #options: PeerDirectoryOptions;
  readonly #clock: DirectoryClock;
  readonly #check: (host: string, port: number) => Promise<boolean>;
  readonly #entries = new Map<string, Entry>();
  #browsing: Browsing | null = null;
  #stopTimer: (() => void) | null = null;

  constructor(options: PeerDirectoryOptions) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    this.#check = options.check ?? ((host, port) => canConnect(host, port, 1000));
  }

  /** Start checking peers and listening to mDNS; rejects if mDNS cannot start. */
  async start(): Promise<void> {
    this.#stopTimer ??= this.#clock.every(this.#options.checkIntervalMs ?? 2000, () => this.#checkAll());
    const browse = this.#options.browse === undefined ? mdnsBrowse : this.#options.browse;
    if (!browse || this.#browsing) return;
    try {
      this.#browsing = await browse({
        host: this.#options.host,
        onUp: (advert, addresses) => {
          if (advert.id !== this.#options.selfId) this.#seen(advert, addresses, null);
        },
        onDown: (id) => this.#down(id),
        onWarning: (message) => this.emit('warning', message),
        onError: (error) => this.emit('warning', `${error.message} (peers already found are still checked)`),
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stop mDNS and checks; known peers stay listed as they were. */
  async stop(): Promise<void> {
    this.#stopTimer?.();
    this.#stopTimer = null;
    const browsing = this.#browsing;
    this.#browsing = null;
    await browsing?.stop();
  }

  /** Every known peer, online or not. */
  peers(): PeerState[] {
    return [...this.#entries.values()].map(snapshot);
  }

  /** One peer by id. */
  get(id: string): PeerState | undefined {
    const entry = this.#entries.get(id);
    return entry && snapshot(entry);
  }

  /** Add a peer by address: asks it for its advert now, then keeps it listed until removed. */
  async addManual(host: string, port: number): Promise<PeerState> {
    if (typeof host !== 'string' || !/^[0-9A-Za-z.:_-]{1,253}$/.test(host)) {
      throw new HearthError('bad-peer-address', `"${String(host).slice(0, 80)}" is not a host name or IP address.`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HearthError('bad-peer-address', `${port} is not a port number (1-65535).`);
    const probe = this.#options.probe;
    if (!probe) throw new HearthError('no-probe', 'Adding peers by address needs the secure link, which is not running.');
    let advert: PeerAdvert;
    try {
      advert = await probe(host, port);
    } catch (error) {
      throw new HearthError('peer-unreachable', `No Hearth peer answered at ${host}:${port} (${(error as Error).message}): check the address and that Hearth runs there.`, { cause: error });
    }
    if (advert.id === this.#options.selfId) throw new HearthError('peer-is-self', `${host}:${port} is this machine.`);
    return snapshot(this.#seen(advert, [host], { host, port }));
  }

  /** Forget a peer added by hand (mDNS lists it again at its next rescan if it is on the LAN). */
  removeManual(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry?.manual) return;
    this.#entries.delete(id);
    if (entry.online) this.emit('peer-down', snapshot({ ...entry, online: false }));
  }

  // A sighting: new peer, peer back, changed peer, or the same again (only lastSeen moves).
  #seen(advert: PeerAdvert, addresses: string[], manual: Entry['manual']): Entry {
    const now = this.#clock.now();
    const verdict = compatibility(advert, this.#options.ours);
    const reason = verdict.compatible ? null : verdict.reason;
    const existing = this.#entries.get(advert.id);
    if (!existing) {
      const entry: Entry = { advert, addresses, source: manual ? 'manual' : 'mdns', compatible: verdict.compatible, reason, online: true, lastSeenMs: now, failures: 0, busy: false, manual };
      this.#entries.set(advert.id, entry);
      this.emit('peer-up', snapshot(entry));
      return entry;
    }
    if (manual) Object.assign(existing, { manual, source: 'manual' });
    // The latest sighting says where the peer is now; the address the user gave always stays.
    const merged = [...new Set([...addresses, ...(existing.manual ? [existing.manual.host] : [])])];
    const changed = JSON.stringify(existing.advert) !== JSON.stringify(advert) || merged.join() !== existing.addresses.join();
    const wasOnline = existing.online;
    Object.assign(existing, { advert, addresses: merged, compatible: verdict.compatible, reason, online: true, lastSeenMs: now, failures: 0 });
    if (!wasOnline) this.emit('peer-up', snapshot(existing));
    else if (changed) this.emit('peer-changed', snapshot(existing));
    return existing;
  }

  // Goodbye or too many failed checks: mDNS peers are forgotten, manual ones stay, offline.
  #down(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry || !entry.online) return;
    entry.online = false;
    entry.failures = 0;
    if (!entry.manual) this.#entries.delete(id);
    this.emit('peer-down', snapshot(entry));
  }

  #checkAll(): void {
    for (const entry of this.#entries.values()) {
      if (entry.busy) continue; // a slow check is still running: never pile them up
      entry.busy = true;
      void this.#checkOne(entry).finally(() => { entry.busy = false; });
    }
  }

  async #checkOne(entry: Entry): Promise<void> {
    const target = entry.manual ?? { host: entry.addresses[0] ?? '', port: entry.advert.linkPort };
    const ok = await this.#check(target.host, target.port).catch(() => false);
    if (this.#entries.get(entry.advert.id) !== entry) return; // forgotten meanwhile
    if (entry.online) {
      if (ok) {
        entry.failures = 0;
        entry.lastSeenMs = this.#clock.now();
      } else if (++entry.failures >= (this.#options.failuresToDrop ?? 3)) {
        this.#down(entry.advert.id);
      }
      return;
    }
    // An offline manual peer answers again: ask for its advert, which brings it back up.
    if (ok && entry.manual && this.#options.probe) {
      const { host, port } = entry.manual;
      const advert = await this.#options.probe(host, port).catch(() => null);
      if (advert && advert.id === entry.advert.id && this.#entries.get(advert.id) === entry) this.#seen(advert, [host], entry.manual);
    }
  }
}

/** Whether something accepts a TCP connection on host:port within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => done(false), timeoutMs);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const realClock: DirectoryClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    // The directory alone never keeps a process alive.
    timer.unref();
    return () => clearInterval(timer);
  },
};

function snapshot(entry: Entry): PeerState {
  const { advert, addresses, source, compatible, reason, online, lastSeenMs } = entry;
  return { advert: structuredClone(advert), addresses: [...addresses], source, compatible, reason, online, lastSeenMs };
}
